public import Foundation
public import Logging
public import NudgeEngine
import NudgeLanguage
import NudgeStore

/// One `nudge run`: plan and commit at `now`, then drain the outbox.
public struct Runner: Sendable {
    public var planner: Planner
    public var dispatcher: Dispatcher
    public var logger: Logger
    /// Makes outbox ids (injected for tests).
    public var newID: @Sendable () -> String

    public init(planner: Planner, dispatcher: Dispatcher, logger: Logger, newID: @escaping @Sendable () -> String) {
        self.planner = planner
        self.dispatcher = dispatcher
        self.logger = logger
        self.newID = newID
    }

    /// The result of one run.
    public struct Report: Sendable {
        public var committed: CommitSummary
        public var dispatched: DispatchSummary
        /// Seconds spent planning and committing.
        public var commitSeconds: Double
        /// Seconds spent delivering.
        public var deliverySeconds: Double
    }

    /// Commits the plan at `now` (ledger and outbox in one transaction), then delivers everything due.
    public func once(now: Date) async throws -> Report {
        let started = ContinuousClock.now
        let committed = try planner.commit(now: now, createdAt: dispatcher.clock(), newID: newID)
        let planned = ContinuousClock.now
        logger.info(
            "plan committed",
            metadata: ["messages": "\(committed.pendingIDs.count)", "suppressed": "\(committed.suppressed)"])
        let dispatched = try await dispatcher.drain()
        return Report(
            committed: committed, dispatched: dispatched, commitSeconds: Self.seconds(started.duration(to: planned)),
            deliverySeconds: Self.seconds(planned.duration(to: .now)))
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// Outbox ids: `msg_` and 32 hex digits.
    public static func randomID() -> String {
        var generator = SystemRandomNumberGenerator()
        return "msg_" + hex(generator.next()) + hex(generator.next())
    }

    /// 16 lowercase hex digits.
    static func hex(_ value: UInt64) -> String {
        let digits = Array("0123456789abcdef".utf8)
        return String(unsafeUninitializedCapacity: 16) { buffer in
            for i in 0..<16 { buffer[i] = digits[Int((value >> UInt64(60 - 4 * i)) & 0xF)] }
            return 16
        }
    }
}
