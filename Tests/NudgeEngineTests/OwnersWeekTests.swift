import Foundation
import GRDB
import NudgeEngine
import NudgeLanguage
import NudgeStore
import Testing
import NudgeCore

/// Issue 12's "done means": an owner writes a two-step win-back with a 10 % holdout, a reward-ready push that ignores
/// the weekly cap and a Friday-morning broadcast to `regulars`; the dry-run for Friday 4 December 2026 shows each
/// message, the capped ones with their reason and the night ones with their send_after.
@Suite("An owner's week: journeys, a split, a broadcast and the policy together")
struct OwnersWeekTests {
    static let config = Fixture.defaultConfig + """

        segments:
          regulars: { description: Weekly regulars, when: "customer.visits_total >= 3" }
        policy:
          caps:
            - { max: 2, per: 7d }
          quiet_hours: { from: "21:00", to: "08:00" }
        """

    static let workflows = [
        "win-back.yaml": """
            id: win-back
            trigger:
              inactivity: { days: [30] }
            actions:
              - split:
                  treated:
                    weight: 90
                    then:
                      - send: { channel: email, template: t }
                      - wait: 7d
                      - when: customer.days_since_last_activity >= 37
                      - send: { channel: sms, template: t }
                  control: { weight: 10 }
            exit_when: customer.visits_30d > 0
            catch_up: 2d
            """,
        "reward-ready.yaml": """
            id: reward-ready
            trigger:
              reward: { offer: "*" }
            actions:
              - send: { channel: push, template: t }
            category: transactional
            """,
        "friday-regulars.yaml": """
            id: friday-regulars
            trigger:
              schedule: { cron: "0 10 * * 5" }
            when: '"regulars" in customer.segments'
            actions:
              - send: { channel: email, template: t }
            catch_up: 2h
            """,
    ]

    static func utc(_ text: String) throws -> Int64 {
        StoredInstant.millis(try #require(ISO8601.parse(text, zone: TimeZone(identifier: "UTC")!)))
    }

    @Test("the Friday dry-run: sends, a holdout, a follow-up step, a capped broadcast, a night one held to 08:00, a reward past the cap")
    func friday() async throws {
        let fixture = try Fixture(config: Self.config, workflows: Self.workflows)
        let recent = ["2026-11-30T15:00:00Z", "2026-12-01T15:00:00Z", "2026-12-02T15:00:00Z"]
        try fixture.add("regular-ny", zone: "America/New_York", visits: recent)
        try fixture.add("regular-tokyo", zone: "Asia/Tokyo", visits: recent)
        try fixture.add("regular-capped", zone: "America/New_York", pushToken: "tok", visits: recent)
        // Last in on 4 November (New York): win-back step 0 is due on 4 December at 09:00 EST.
        try fixture.add("lapsed-14", zone: "America/New_York", visits: ["2026-11-04T15:00:00Z"])
        try fixture.add("lapsed-15", zone: "America/New_York", visits: ["2026-11-04T15:00:00Z"])
        // Last in on 28 October: step 0 went out on 27 November, step 1 is due a week later.
        try fixture.add("old-1", zone: "America/New_York", phone: "+14155550100", visits: ["2026-10-28T12:00:00Z"])
        let project = try fixture.project()
        let split = try #require(project.workflow(id: "win-back")?.split)
        #expect(["lapsed-14", "lapsed-15", "old-1"].map { split.variant(workflowID: "win-back", customerID: $0).name } == ["treated", "control", "treated"])
        let lastWeek = try #require(ISO8601.parse("2026-11-27T14:00:00Z", zone: project.config.timeZone))
        _ = try await Planner(project: project, store: fixture.database).commit(
            now: lastWeek, createdAt: lastWeek, newID: { UUID().uuidString })
        // Two marketing messages this week already for regular-capped; its stamp card earns a reward this morning.
        try fixture.addOffer("coffee", stamps: 10)
        try fixture.setProgress("regular-capped", offer: "coffee", stamps: 0, rewards: 1, updatedAt: "2026-12-04T14:30:00Z")
        let (first, second) = (try Self.utc("2026-12-01T16:00:00Z"), try Self.utc("2026-12-02T16:00:00Z"))
        try await fixture.database.writer.write { db in
            for (id, at) in [("m1", first), ("m2", second)] {
                try db.execute(
                    sql: """
                        INSERT INTO outbox (id, workflow_id, customer_id, occurrence, action_index, channel, template, due_at,
                          created_at, status, next_attempt_at, delivered_at, category)
                        VALUES (?, 'promo', 'regular-capped', ?, 0, 'email', 't', ?, ?, 'delivered', ?, ?, 'marketing')
                        """, arguments: [id, id, at, at, at, at])
            }
        }

        let plan = try await fixture.plan(at: "2026-12-04T15:00:00Z")
        let shown = plan.messages.map { message in
            "\(message.workflowID) \(message.customerID) \(message.occurrence) \(message.channel?.rawValue ?? "-") "
                + "\(message.status.rawValue)" + (message.variant.map { " [\($0)]" } ?? "")
                + (message.sendAfter.map { " after \(ISO8601.format($0))" } ?? "") + (message.reason.map { " (\($0))" } ?? "")
        }
        #expect(
            shown == [
                "win-back lapsed-14 inactivity:2026-11-04:30 email send [treated]",
                "win-back lapsed-15 inactivity:2026-11-04:30 - suppressed [control] (holdout)",
                "win-back old-1 inactivity:2026-10-28:30/1 sms send [treated]",
                "reward-ready regular-capped reward:coffee:1 push send",
                "friday-regulars regular-capped schedule:2026-12-04T10:00 - suppressed (frequency cap: 2 per 7d)",
                "friday-regulars regular-ny schedule:2026-12-04T10:00 email send",
                "friday-regulars regular-tokyo schedule:2026-12-04T10:00 email send after 2026-12-04T23:00:00Z",
            ], "\(shown)")
    }
}
