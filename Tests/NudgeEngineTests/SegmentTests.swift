import Foundation
import GRDB
import NudgeEngine
import NudgeLanguage
import NudgeRender
import NudgeStore
import Testing
import NudgeCore

/// Customers whose segments are known at `SegmentTests.now` (10:00 in New York, send_at 09:00): visits are 5.00
/// each, so lifetime value is 5 × visits.
private func population(_ fixture: Fixture) throws {
    try fixture.add("p1", visits: ["2026-10-16T12:00:00Z"])  // 40 days quiet: at_risk; 5.00
    try fixture.add("p2", visits: ["2026-09-26T12:00:00Z", "2026-10-06T12:00:00Z"])  // at_risk; 10.00
    try fixture.add("p3", visits: ["2026-11-01T12:00:00Z", "2026-11-10T12:00:00Z", "2026-11-20T12:00:00Z"])  // frequent
    try fixture.add(
        "p4", visits: ["2026-08-17T12:00:00Z", "2026-08-22T12:00:00Z", "2026-08-25T12:00:00Z", "2026-08-26T12:00:00Z"])
    // Top 20 % of the five spenders (25.00 has 4 of 5 below it) and frequent: vip.
    try fixture.add(
        "p5",
        visits: [
            "2026-11-01T12:00:00Z", "2026-11-05T12:00:00Z", "2026-11-10T12:00:00Z", "2026-11-15T12:00:00Z",
            "2026-11-20T12:00:00Z",
        ])
    try fixture.add("n1", signedUp: "2026-11-15T12:00:00Z")  // new
    try fixture.add("z1")  // signed up in 2020, never came: in no segment
}

@Suite("Segments")
struct SegmentTests {
    static let now = "2026-11-25T15:00:00Z"

    func census(_ fixture: Fixture, at now: String = SegmentTests.now) throws -> SegmentCensus {
        let project = try fixture.project()
        return SegmentCensus(
            config: project.config, store: fixture.database, now: try #require(ISO8601.parse(now, zone: project.config.timeZone)))
    }

    @Test("the five built-in segments count their members")
    func builtIns() async throws {
        let fixture = try Fixture(workflows: [:])
        try population(fixture)
        let counts = try await census(fixture).counts()
        #expect(counts.map(\.segment.name) == ["high_value", "frequent", "at_risk", "vip", "new"])
        #expect(counts.map(\.count) == [1, 2, 3, 1, 1])
        let members = try #require(try await census(fixture).members(of: "at_risk"))
        #expect(members.members.map(\.customer.id) == ["p1", "p2", "p4"])
        #expect(members.fields.map(\.description) == ["customer.days_since_last_activity", "customer.visits_total"])
        #expect(members.members.first?.values == [.number(40), .number(1)])
        // vip reads what high_value and frequent read.
        let vip = try #require(try await census(fixture).members(of: "vip"))
        #expect(vip.members.map(\.customer.id) == ["p5"])
        #expect(vip.fields.map(\.description) == ["customer.visits_30d", "customer.lifetime_value"])
    }

    @Test("new is exactly 30 × 24 h after sign-up")
    func newIsThirtyDays() async throws {
        let fixture = try Fixture(workflows: [:])
        try fixture.add("n1", signedUp: "2026-10-26T15:00:01Z")
        #expect(try await census(fixture).members(of: "new")?.members.count == 1)
        #expect(try await census(fixture, at: "2026-11-25T15:00:01Z").members(of: "new")?.members.count == 0)
    }

    @Test("a project redefines a built-in segment by name, and the segments testing it follow")
    func redefinition() async throws {
        let config = Fixture.defaultConfig + """

            segments:
              regulars: { description: Weekly regulars, when: "customer.visits_total >= 3" }
              frequent:
                description: Five visits a month
                when: [customer.visits_30d >= 5]
            """
        let fixture = try Fixture(config: config, workflows: [:])
        try population(fixture)
        let counts = try await census(fixture).counts()
        #expect(counts.map(\.segment.name) == ["high_value", "frequent", "at_risk", "vip", "new", "regulars"])
        #expect(counts.map(\.count) == [1, 1, 3, 1, 1, 3])
        #expect(counts[1].segment.description == "Five visits a month")
    }

    @Test("a workflow's condition reads customer.segments and percent_rank")
    func conditions() async throws {
        let fixture = try Fixture(
            workflows: [
                "vip.yaml": """
                    id: vip
                    trigger: { signup: {} }
                    when: ['"vip" in customer.segments']
                    actions: [{ send: { channel: email, template: t } }]
                    catch_up: 3000d
                    """,
                "ranked.yaml": """
                    id: ranked
                    trigger: { signup: {} }
                    when: percent_rank(customer.visits_total) >= 0.5
                    actions: [{ send: { channel: email, template: t } }]
                    catch_up: 3000d
                    """,
            ])
        try population(fixture)
        let plan = try await fixture.plan(at: Self.now)
        #expect(plan.messages.filter { $0.workflowID == "vip" }.map(\.customerID) == ["p5"])
        // visits_total of the 7 customers: 0, 0, 1, 2, 3, 4, 5; at least half have fewer than 3.
        #expect(plan.messages.filter { $0.workflowID == "ranked" }.map(\.customerID).sorted() == ["p3", "p4", "p5"])
    }

    @Test("a template shows the customer's segments")
    func template() async throws {
        let fixture = try Fixture(
            workflows: [
                "w.yaml": """
                    id: w
                    trigger: { signup: {} }
                    actions: [{ send: { channel: sms, template: seg } }]
                    catch_up: 3000d
                    """
            ], templates: [],
            extraFiles: ["Templates/seg.sms.mustache": "You are{{#customer.segments}} {{.}}{{/customer.segments}}."])
        try fixture.add("p5", phone: "+15555550100", visits: ["2026-11-01T12:00:00Z", "2026-11-02T12:00:00Z", "2026-11-03T12:00:00Z"])
        // Four who spent less: 15.00 is in the top 20 % of spenders.
        for id in ["a", "b", "c", "d"] { try fixture.add(id, signedUp: "2010-01-01T00:00:00Z", visits: ["2025-01-01T12:00:00Z"]) }
        let plan = try await fixture.plan(at: Self.now, render: true)
        #expect(plan.messages.map { $0.rendered?.body } == ["You are high_value frequent vip."])
        #expect(plan.messages.map(\.customerID) == ["p5"])
    }

    static let enterWorkflow = """
        trigger:
          segment: { enter: frequent }
        actions:
          - send: { channel: email, template: t }
        """

    func commit(_ fixture: Fixture, at now: String) async throws -> [String] {
        let project = try fixture.project()
        let instant = try #require(ISO8601.parse(now, zone: project.config.timeZone))
        let summary = try await Planner(project: project, store: fixture.database).commit(
            now: instant, createdAt: instant, newID: { UUID().uuidString })
        return summary.plan.messages.map { "\($0.customerID) \($0.occurrence) \(ISO8601.format($0.due))" }
    }

    @Test("segment enter fires on the local date a run first saw the customer in it, at send_at")
    func enter() async throws {
        let fixture = try Fixture(workflow: Self.enterWorkflow)
        try population(fixture)
        try fixture.add("la", zone: "America/Los_Angeles", visits: ["2026-11-20T20:00:00Z", "2026-11-21T20:00:00Z", "2026-11-22T20:00:00Z"])
        // At 10:00 in New York it is 07:00 in Los Angeles: her 09:00 has not come yet.
        let plan = try await fixture.plan(at: Self.now)
        #expect(
            plan.messages.map { "\($0.customerID) \($0.occurrence) \(ISO8601.format($0.due))" } == [
                "p3 segment:frequent:2026-11-25 2026-11-25T14:00:00Z", "p5 segment:frequent:2026-11-25 2026-11-25T14:00:00Z",
            ])
        // A dry-run records nothing; a run records every member, those not yet due too.
        #expect(try fixture.database.segmentEntries(segment: "frequent").isEmpty)
        #expect(try await commit(fixture, at: Self.now).count == 2)
        #expect(
            try fixture.database.segmentEntries(segment: "frequent")
                == ["p3": "2026-11-25", "p5": "2026-11-25", "la": "2026-11-25"])
        // Later that day her send_at comes; the recorded date keeps the key.
        #expect(
            try await commit(fixture, at: "2026-11-25T17:30:00Z") == [
                "la segment:frequent:2026-11-25 2026-11-25T17:00:00Z"
            ])
        // The next day nobody is due: their entry day is past.
        #expect(try await commit(fixture, at: "2026-11-26T15:00:00Z").isEmpty)
    }

    @Test("a customer who leaves the segment and comes back enters again, on the new date")
    func reenter() async throws {
        let fixture = try Fixture(workflow: Self.enterWorkflow)
        try fixture.add("p3", visits: ["2026-11-01T12:00:00Z", "2026-11-10T12:00:00Z", "2026-11-20T12:00:00Z"])
        #expect(try await commit(fixture, at: Self.now) == ["p3 segment:frequent:2026-11-25 2026-11-25T14:00:00Z"])
        // 2 December: the first visit is more than 30 days old, so p3 has left; the run forgets the entry.
        #expect(try await commit(fixture, at: "2026-12-02T15:00:00Z").isEmpty)
        #expect(try fixture.database.segmentEntries(segment: "frequent").isEmpty)
        try await fixture.database.writer.write { db in
            try db.execute(
                sql: "INSERT INTO visit (customer_id, visited_at, amount_cents) VALUES ('p3', ?, 500)",
                arguments: [StoredInstant.millis(try #require(ISO8601.parse("2026-12-03T12:00:00Z", zone: .gmt)))])
        }
        #expect(try await commit(fixture, at: "2026-12-04T15:00:00Z") == ["p3 segment:frequent:2026-12-04 2026-12-04T14:00:00Z"])
    }

    /// The population, each customer (signed up in 2020) sent an SMS of `template` by a sign-up workflow.
    func showing(_ template: String) throws -> Fixture {
        let fixture = try Fixture(
            workflows: [
                "w.yaml": """
                    id: w
                    trigger: { signup: {} }
                    actions: [{ send: { channel: sms, template: s } }]
                    catch_up: 3000d
                    """
            ], templates: [], extraFiles: ["Templates/s.sms.mustache": template])
        try population(fixture)
        return fixture
    }

    @Test("status and lifecycle: vip first, then sign-up, quiet days and transactions (local dates with visits)")
    func statusAndLifecycle() async throws {
        let fixture = try showing("{{customer.status}} {{customer.lifecycle}}")
        // Six visits 35 to 45 days ago: the top spender, but quiet for 35 days, so not frequent.
        try fixture.add(
            "l1",
            visits: [
                "2026-10-11T12:00:00Z", "2026-10-13T12:00:00Z", "2026-10-15T12:00:00Z", "2026-10-17T12:00:00Z",
                "2026-10-19T12:00:00Z", "2026-10-21T12:00:00Z",
            ])
        // Two visits on one local date (New York) are one transaction.
        try fixture.add("d1", visits: ["2026-11-20T14:00:00Z", "2026-11-20T20:00:00Z"])
        // Three small spenders (signed up long ago: sent nothing) keep p5's 25.00 in the top 20 %.
        for id in ["e1", "e2", "e3"] { try fixture.add(id, signedUp: "2010-01-01T00:00:00Z", visits: ["2025-01-01T12:00:00Z"]) }
        try await fixture.database.writer.write { try $0.execute(sql: "UPDATE customer SET phone = '+15555550100'") }
        let plan = try await fixture.plan(at: Self.now, render: true)
        let shown = Dictionary(uniqueKeysWithValues: plan.messages.map { ($0.customerID, $0.rendered?.body ?? "") })
        #expect(
            shown == [
                "p1": "churning one_time", "p2": "churning repeat", "p3": "active repeat", "p4": "inactive repeat",
                "p5": "vip vip", "n1": "new new", "z1": "inactive new", "l1": "churning loyal", "d1": "active one_time",
            ])
    }

    @Test("engagement_score blends recency, frequency, spend and responses; next_action takes the first rule that applies")
    func engagementAndNextAction() async throws {
        let fixture = try showing("{{customer.engagement_score}} {{customer.next_action}}")
        try fixture.add("o1", visits: ["2026-11-20T12:00:00Z"])  // came once, five days ago
        try fixture.addOffer("coffee", stamps: 10)
        try fixture.setProgress("p3", offer: "coffee", stamps: 8, updatedAt: "2026-11-20T12:00:00Z")
        let day = { @Sendable (text: String) in StoredInstant.millis(ISO8601.parse(text, zone: .gmt)!) }
        try await fixture.database.writer.write { db in
            try db.execute(sql: "UPDATE customer SET phone = '+15555550100'")
            // p3 was delivered two messages in the last 90 days: one opened, one clicked. p1 unsubscribed.
            for (id, kind) in [("m1", "opened"), ("m2", "clicked")] {
                try db.execute(
                    sql: """
                        INSERT INTO outbox (id, workflow_id, customer_id, occurrence, action_index, channel, template, due_at,
                          created_at, status, next_attempt_at, delivered_at)
                        VALUES (?, 'news', 'p3', ?, 0, 'email', 't', ?, ?, 'delivered', ?, ?)
                        """, arguments: [id, id, day("2026-11-10T12:00:00Z"), day("2026-11-10T12:00:00Z"), day("2026-11-10T12:00:00Z"), day("2026-11-10T12:00:00Z")])
                try db.execute(
                    sql: """
                        INSERT INTO delivery_event (provider, event_id, outbox_id, customer_id, channel, kind, at, received_at)
                        VALUES ('test', ?, ?, 'p3', 'email', ?, ?, ?)
                        """, arguments: ["e-" + id, id, kind, day("2026-11-11T12:00:00Z"), day("2026-11-11T12:00:00Z")])
            }
            try db.execute(
                sql: "INSERT INTO consent_change (customer_id, channel, opt_in, reason, at) VALUES ('p1', 'email', 0, 'unsubscribed', ?)",
                arguments: [day("2026-11-24T12:00:00Z")])
        }
        let plan = try await fixture.plan(at: Self.now, render: true)
        let shown = Dictionary(uniqueKeysWithValues: plan.messages.map { ($0.customerID, $0.rendered?.body ?? "") })
        // p3: 5 quiet days (recency 1 − 5/90), 3 visits in 90 days (3/6), spend rank 3 of 6 spenders below (0.5),
        // responses (2 opened + 1 clicked) / 2 delivered, at most 1: 100 × (0.35 × 0.944 + 0.25 × 0.5 + 0.2 × 0.5 +
        // 0.2) = 75.6. p1: 40 quiet days, 1 visit, the lowest spend, opted out: 100 × (0.35 × 0.556 + 0.25 / 6) = 23.6.
        #expect(shown["p3"] == "76 reward_reminder")
        #expect(shown["p1"] == "24 win_back")
        #expect(shown.mapValues { String($0.split(separator: " ").last ?? "") } == [
            "p1": "win_back", "p2": "win_back", "p3": "reward_reminder", "p4": "win_back", "p5": "vip_thanks",
            "n1": "welcome", "z1": "none", "o1": "second_visit",
        ])
    }
}
