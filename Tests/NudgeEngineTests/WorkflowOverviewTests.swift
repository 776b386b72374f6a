import Foundation
import GRDB
import NudgeEngine
import NudgeLanguage
import NudgeStore
import Testing
import NudgeCore

/// `nudge workflows`: each workflow's status and next due time, and the messages it delivered.
@Suite("Workflow overview")
struct WorkflowOverviewTests {
    static let workflows = [
        "a-once.yaml": """
            id: a-once
            trigger:
              once: { at: "2026-12-20T10:00" }
            actions:
              - send: { channel: email, template: t }
            """,
        "b-past.yaml": """
            id: b-past
            trigger:
              once: { at: "2026-11-01T10:00:00Z" }
            actions:
              - send: { channel: email, template: t }
            """,
        "c-weekly.yaml": """
            id: c-weekly
            trigger:
              schedule: { cron: "0 10 * * 1" }
            actions:
              - send: { channel: email, template: t }
            """,
        "d-paused.yaml": """
            id: d-paused
            enabled: false
            trigger:
              schedule: { cron: "0 10 * * 1" }
            actions:
              - send: { channel: email, template: t }
            """,
        "e-birthday.yaml": """
            id: e-birthday
            trigger:
              birthday: { days_before: 0 }
            actions:
              - send: { channel: email, template: t }
            """,
        "f-milestone.yaml": """
            id: f-milestone
            trigger:
              milestone: { offer: "*", percent: [50] }
            actions:
              - send: { channel: email, template: t }
            """,
        "g-visit.yaml": """
            id: g-visit
            trigger:
              visit: { delay: 2h }
            actions:
              - send: { channel: email, template: t }
            """,
    ]

    @Test("status, next due and messages delivered in the last 7 and 30 days")
    func overview() async throws {
        let fixture = try Fixture(workflows: Self.workflows)
        // A birthday on 10 December in Lisbon (09:00 there is 09:00 UTC), a visit an hour before now.
        try fixture.add("c1", zone: "Europe/Lisbon", birthDate: "1990-12-10", visits: ["2026-12-07T14:00:00Z"])
        let now = try #require(ISO8601.parse("2026-12-07T15:00:00Z", zone: .gmt))
        try await fixture.database.writer.write { db in
            // Delivered 2, 10 and 40 days before now, and one after it (a later run than the one asked about).
            for (id, days) in [("m1", 2), ("m2", 10), ("m3", 40), ("m4", -1)] {
                try db.execute(
                    sql: """
                        INSERT INTO outbox (id, workflow_id, customer_id, occurrence, action_index, channel, template, due_at,
                          created_at, next_attempt_at, status, delivered_at)
                        VALUES (?, 'e-birthday', 'c1', ?, 0, 'email', 't', 0, 0, 0, 'delivered', ?)
                        """,
                    arguments: [id, id, StoredInstant.millis(now.addingTimeInterval(-Double(days) * 86_400))])
            }
        }
        let delivered = try fixture.database.deliveredCounts(
            after: [now.addingTimeInterval(-7 * 86_400), now.addingTimeInterval(-30 * 86_400)], through: now)
        #expect(delivered == ["e-birthday": [1, 2]])
        let project = try fixture.project()
        let lines = try await Planner(project: project, store: fixture.database).workflowOverview(now: now, delivered: delivered)
        try await PostgresTwin.expectSameOverview(lines, project: project, source: fixture.database, now: now)
        let shown = lines.map {
            "\($0.workflow.id) \($0.status.rawValue) \($0.delivered7d)/\($0.delivered30d) \($0.nextDue.map(ISO8601.format) ?? "-")"
        }
        #expect(
            shown == [
                // 10:00 in New York, the business's zone.
                "a-once scheduled 0/0 2026-12-20T15:00:00Z",
                "b-past completed 0/0 -",
                "c-weekly active 0/0 2026-12-14T15:00:00Z",
                "d-paused paused 0/0 -",
                "e-birthday active 1/2 2026-12-10T09:00:00Z",
                "f-milestone active 0/0 -",
                "g-visit active 0/0 2026-12-07T16:00:00Z",
            ])
    }
}
