public import Foundation
import Logging
import NudgeRender
public import NudgeCore
import NudgeLanguage
public import NudgeStore

/// What the next days will send and cost (`nudge forecast`): runs simulated on the hour on the customer state as it
/// is, each committed as `run` commits but in memory (`SimulatedStore`: ledger, policy and consent carried from run
/// to run, the database untouched), with no new visits or sign-ups.
public struct Forecast: Sendable {
    /// Messages that would go out on one local day (business zone), of one workflow, on one channel.
    public struct Row: Sendable, Hashable {
        public var day: LocalDate
        public var workflowID: String
        public var channel: Channel
        public var messages: Int
        /// SMS segments (the SMS price is per segment); 0 elsewhere.
        public var segments: Int
        /// The cost by `pricing:`; nil when the channel has no price.
        public var cost: Double?
    }

    public var from: Date
    public var days: Int
    /// The instants of the simulated runs.
    public var runs: Int
    public var rows: [Row]
    /// Messages the plans suppressed (consent, caps), not counted in `rows`.
    public var suppressed: Int

    /// The local day (business zone) of `from`.
    public var firstDay: LocalDate

    /// Every day of the forecast, in order (days without messages too): `days` days from `from` span `days + 1` local
    /// dates unless `from` is midnight.
    public var dayList: [LocalDate] {
        let last = rows.map(\.day).max() ?? firstDay
        return (0...max(0, firstDay.days(to: last))).map { firstDay.adding(days: $0) }
    }

    public var totalMessages: Int { rows.reduce(0) { $0 + $1.messages } }
    public var totalCost: Double? {
        rows.contains { $0.cost != nil } ? rows.reduce(0) { $0 + ($1.cost ?? 0) } : nil
    }

    /// Simulates `days` days from `now` on `store` (read only), a run every `step` seconds.
    public static func simulate(
        project: Project, store: any PlanningStore, now: Date, days: Int, step: TimeInterval = 3_600,
        environment: [String: String]
    ) async throws -> Forecast {
        let planner = try Planner(
            project: project, store: SimulatedStore(base: store), logger: Logger(label: "nudge.forecast"), environment: environment)
        let zone = project.config.timeZone
        let end = now.addingTimeInterval(Double(days) * 86_400)
        let firstDay = zone.localDate(of: now)
        var counts: [Row: (messages: Int, segments: Int)] = [:]
        var suppressed = 0
        var runs = 0
        var instant = now
        while instant < end {
            let committed = try await planner.commit(now: instant, createdAt: instant, newID: { "forecast-" + UUID().uuidString })
            runs += 1
            for message in committed.plan.messages {
                guard message.status == .send, let channel = message.channel else {
                    suppressed += 1
                    continue
                }
                let sendsAt = max(message.sendAfter ?? message.due, instant)
                // Held back (quiet hours, a deferral) past the last day: not in this forecast.
                guard sendsAt < end else { continue }
                let day = zone.localDate(of: sendsAt)
                let key = Row(day: day, workflowID: message.workflowID, channel: channel, messages: 0, segments: 0, cost: nil)
                var count = counts[key] ?? (0, 0)
                count.messages += 1
                if channel == .sms { count.segments += message.segments?.count ?? 1 }
                counts[key] = count
            }
            instant = instant.addingTimeInterval(step)
        }
        let rows = counts.map { key, count in
            var row = key
            row.messages = count.messages
            row.segments = count.segments
            row.cost = project.config.pricing[key.channel].map { Double(key.channel == .sms ? count.segments : count.messages) * $0 }
            return row
        }.sorted { ($0.day, $0.workflowID, $0.channel.rawValue) < ($1.day, $1.workflowID, $1.channel.rawValue) }
        return Forecast(from: now, days: days, runs: runs, rows: rows, suppressed: suppressed, firstDay: firstDay)
    }
}
