public import Foundation
public import NudgeLanguage
import NudgeStore
import NudgeCore

/// One workflow as `nudge workflows` shows it: its trigger, whether it runs, what it sent and when it falls due next.
public struct WorkflowOverview: Sendable {
    public enum Status: String, Sendable {
        /// Enabled and firing as its trigger says.
        case active
        /// `enabled: false`.
        case paused
        /// A `once` broadcast whose time is still to come.
        case scheduled
        /// A `once` broadcast whose time has passed.
        case completed
    }

    public var workflow: Workflow
    public var status: Status
    /// Messages delivered in the 7 and the 30 days before `now`.
    public var delivered7d: Int
    public var delivered30d: Int
    /// The next instant after `now` at which the trigger falls due for some customer (before `when`), when it can
    /// be known: nil for a paused or completed workflow, and for triggers that wait for events not yet recorded
    /// (stamp cards, segment entries) or fall due more than 31 days ahead.
    public var nextDue: Date?
}

extension Planner {
    /// How far ahead `nextDue` looks for triggers that depend on customers' data.
    static let nextDueHorizonDays = 31

    /// Every workflow of the project, in id order, at `now`; `delivered` holds each workflow's messages delivered
    /// after `now` − 7 d and `now` − 30 d (`EventStore.deliveredCounts`).
    public func workflowOverview(now: Date, delivered: [String: [Int]]) async throws -> [WorkflowOverview] {
        let zones = try await store.zonesInUse()
        var result: [WorkflowOverview] = []
        for workflow in project.workflows.sorted(by: { $0.id < $1.id }) {
            var status = WorkflowOverview.Status.active
            if !workflow.isEnabled {
                status = .paused
            } else if let due = workflow.trigger.onceInstant(in: project.config.timeZone) {
                status = due > now ? .scheduled : .completed
            }
            let counts = delivered[workflow.id] ?? []
            let next = status == .active || status == .scheduled ? try await nextDue(workflow, after: now, zones: zones) : nil
            result.append(
                WorkflowOverview(
                    workflow: workflow, status: status, delivered7d: counts.first ?? 0,
                    delivered30d: counts.dropFirst().first ?? 0, nextDue: next))
        }
        return result
    }

    /// The first due instant after `now`: read off a `once` or `schedule` trigger, or the next offer's publication; for the triggers that follow
    /// customers' dates and visits, the trigger's own scan over each of the next days in turn (a day's window at a
    /// time, so a busy trigger stops at the first day with someone due).
    func nextDue(_ workflow: Workflow, after now: Date, zones: [String]) async throws -> Date? {
        let zone = project.config.timeZone
        switch workflow.trigger {
        case .once:
            guard let due = workflow.trigger.onceInstant(in: zone), due > now else { return nil }
            return due
        case .schedule(let cron):
            // Up to four years ahead: an expression for 29 February fires once in four.
            var from = now
            for _ in 0..<4 {
                let through = from.addingTimeInterval(366 * 86_400)
                if let first = cron.times(in: zone, after: from, through: through).first { return first.due }
                from = through
            }
            return nil
        case .newOffer:
            // The next offer to be published, as the offers file says; beyond the horizon, none is known yet.
            return try await store.publishedOffers(
                after: now, through: now.addingTimeInterval(Double(Self.nextDueHorizonDays) * 86_400)
            ).first?.publishedAt
        case .milestone, .reward, .segment:
            return nil
        case .birthday, .inactivity, .signup, .visit:
            var probe = workflow
            probe.catchUp = DurationSpec(seconds: 86_400, text: "1d")
            for day in 1...Self.nextDueHorizonDays {
                let scan = TriggerScan(
                    workflow: probe, config: project.config, now: now.addingTimeInterval(Double(day) * 86_400), zones: zones)
                if let due = try await scan.occurrences(store: store).map(\.due).filter({ $0 > now }).min() { return due }
            }
            return nil
        }
    }
}
