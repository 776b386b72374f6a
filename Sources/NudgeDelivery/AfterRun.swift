public import Foundation
public import Logging
public import NudgeStore

/// An adapter that keeps something outside the outbox in step with the store after each run: a wallet pass's
/// stamps. `Runner.once` calls it once the run's messages are out.
public protocol AfterRun: Sendable {
    /// Brings what it keeps up to date; a failure of one item is counted (and logged), not thrown.
    func afterRun(store: any PlanningStore, now: Date, logger: Logger) async throws -> AfterRunReport
}

/// What an `AfterRun` did.
public struct AfterRunReport: Sendable, Hashable {
    /// What it kept, for the run's summary: `wallet passes`.
    public var what: String
    public var updated: Int
    public var failed: Int

    public init(what: String, updated: Int = 0, failed: Int = 0) {
        self.what = what
        self.updated = updated
        self.failed = failed
    }
}

extension Dispatcher {
    /// The adapters with work after a run, those of each platform included.
    public var afterRunAdapters: [any AfterRun] {
        adapters.sorted { $0.key < $1.key }.flatMap { _, adapter -> [any AfterRun] in
            if let routes = adapter as? PlatformRoutes {
                return routes.adapters.sorted { $0.key < $1.key }.compactMap { $0.value as? any AfterRun }
            }
            return (adapter as? any AfterRun).map { [$0] } ?? []
        }
    }
}
