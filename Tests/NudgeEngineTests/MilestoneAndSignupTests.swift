import Foundation
import NudgeEngine
import NudgeLanguage
import NudgeRender
import NudgeStore
import Testing
import NudgeCore

@Suite("Milestone trigger")
struct MilestoneTriggerTests {
    static let workflow = """
        trigger:
          milestone: { offer: "*", percent: [50, 80, 100] }
        actions:
          - send: { channel: email, template: t }
        """

    func fixture(_ body: String = MilestoneTriggerTests.workflow) throws -> Fixture {
        let fixture = try Fixture(workflow: body)
        try fixture.addOffer("coffee", stamps: 10)
        try fixture.addOffer("pastry", stamps: 8)
        try fixture.add("c1", zone: "Europe/London")
        return fixture
    }

    struct Case: CustomTestStringConvertible, Sendable {
        var stamps: Int
        var rewards = 0
        var occurrence: String?
        var testDescription: String { "\(stamps) stamps, \(rewards) rewards → \(occurrence ?? "nothing")" }
    }

    @Test(
        "only the highest threshold reached fires",
        arguments: [
            Case(stamps: 4, occurrence: nil),
            Case(stamps: 5, occurrence: "milestone:coffee:0:50"),
            Case(stamps: 8, occurrence: "milestone:coffee:0:80"),
            Case(stamps: 9, occurrence: "milestone:coffee:0:80"),
            Case(stamps: 10, occurrence: "milestone:coffee:0:100"),
            Case(stamps: 12, occurrence: "milestone:coffee:0:100"),
            Case(stamps: 5, rewards: 1, occurrence: "milestone:coffee:1:50"),
            Case(stamps: 0, rewards: 3, occurrence: nil),
        ])
    func thresholds(_ c: Case) async throws {
        let fixture = try fixture()
        try fixture.setProgress("c1", offer: "coffee", stamps: c.stamps, rewards: c.rewards, updatedAt: "2026-11-25T10:00:00Z")
        let plan = try await fixture.plan(at: "2026-11-25T12:00:00Z")
        #expect(plan.messages.map(\.occurrence) == (c.occurrence.map { [$0] } ?? []))
        if c.occurrence != nil {
            #expect(plan.messages.map { ISO8601.format($0.due) } == ["2026-11-25T10:00:00Z"])
        }
    }

    @Test("due at the progress update, inside catch-up only")
    func window() async throws {
        let fixture = try fixture()
        try fixture.setProgress("c1", offer: "coffee", stamps: 8, updatedAt: "2026-11-25T10:00:00Z")
        #expect(try await fixture.plan(at: "2026-11-25T10:00:00Z").messages.count == 1)
        #expect(try await fixture.plan(at: "2026-11-25T09:59:59Z").messages.isEmpty)
        #expect(try await fixture.plan(at: "2026-11-26T09:59:59Z").messages.count == 1)
        #expect(try await fixture.plan(at: "2026-11-26T10:00:00Z").messages.isEmpty)
    }

    @Test("a reward cycle fires the thresholds again")
    func rewardCycles() async throws {
        let fixture = try fixture()
        try fixture.setProgress("c1", offer: "coffee", stamps: 8, updatedAt: "2026-11-20T10:00:00Z")
        #expect(try await fixture.plan(at: "2026-11-20T11:00:00Z").messages.map(\.occurrence) == ["milestone:coffee:0:80"])
        try fixture.markSent("w", "c1", "milestone:coffee:0:80")
        // One more stamp: still 80 %, nothing new.
        try fixture.setProgress("c1", offer: "coffee", stamps: 9, updatedAt: "2026-11-21T10:00:00Z")
        #expect(try await fixture.plan(at: "2026-11-21T11:00:00Z").messages.isEmpty)
        try fixture.setProgress("c1", offer: "coffee", stamps: 10, updatedAt: "2026-11-22T10:00:00Z")
        #expect(try await fixture.plan(at: "2026-11-22T11:00:00Z").messages.map(\.occurrence) == ["milestone:coffee:0:100"])
        try fixture.markSent("w", "c1", "milestone:coffee:0:100")
        try fixture.setProgress("c1", offer: "coffee", stamps: 5, rewards: 1, updatedAt: "2026-11-24T10:00:00Z")
        #expect(try await fixture.plan(at: "2026-11-24T11:00:00Z").messages.map(\.occurrence) == ["milestone:coffee:1:50"])
    }

    @Test("a workflow for one offer ignores the others")
    func offerFilter() async throws {
        let fixture = try fixture(
            """
            trigger:
              milestone: { offer: pastry, percent: [50] }
            actions:
              - send: { channel: email, template: t }
            """)
        try fixture.setProgress("c1", offer: "coffee", stamps: 8, updatedAt: "2026-11-25T10:00:00Z")
        #expect(try await fixture.plan(at: "2026-11-25T11:00:00Z").messages.isEmpty)
        try fixture.setProgress("c1", offer: "pastry", stamps: 4, updatedAt: "2026-11-25T10:30:00Z")
        #expect(try await fixture.plan(at: "2026-11-25T11:00:00Z").messages.map(\.occurrence) == ["milestone:pastry:0:50"])
    }

    @Test("offer and progress fields reach conditions and templates")
    func fields() async throws {
        let fixture = try Fixture(
            workflows: [
                "w.yaml": """
                id: w
                trigger:
                  milestone: { offer: "*", percent: [80] }
                when: progress.stamps_remaining == 2 and offer.stamps_required == 10 and trigger.percent == 80
                actions:
                  - send: { channel: sms, template: m }
                """
            ], templates: [],
            extraFiles: [
                "Templates/m.sms.mustache":
                    "{{customer.first_name}}: {{progress.stamps}}/{{offer.stamps_required}} on {{offer.name}}, {{progress.stamps_remaining}} to go ({{progress.percent}}%)"
            ])
        try fixture.addOffer("coffee", stamps: 10)
        try fixture.add("c1", phone: "+14155550100")
        try fixture.setProgress("c1", offer: "coffee", stamps: 8, updatedAt: "2026-11-25T10:00:00Z")
        let plan = try await fixture.plan(at: "2026-11-25T11:00:00Z", render: true)
        let message = try #require(plan.messages.first)
        #expect(message.rendered?.body == "Ana: 8/10 on Card coffee, 2 to go (80%)")
    }
}

@Suite("Signup trigger")
struct SignupTriggerTests {
    @Test(
        "due days_after × 24 h after sign-up",
        arguments: [
            ("2026-11-22T10:00:00Z", nil),
            ("2026-11-25T09:59:59Z", nil),
            ("2026-11-25T10:00:00Z", "2026-11-25T10:00:00Z"),
            ("2026-11-26T09:59:59Z", "2026-11-25T10:00:00Z"),
            ("2026-11-26T10:00:00Z", nil),
        ] as [(String, String?)])
    func signup(now: String, due: String?) async throws {
        let fixture = try Fixture(
            workflow: """
                trigger: { signup: { days_after: 3 } }
                actions: [ { send: { channel: email, template: t } } ]
                """)
        try fixture.add("c1", zone: "Asia/Tokyo", signedUp: "2026-11-22T10:00:00Z")
        let plan = try await fixture.plan(at: now)
        #expect(plan.messages.map { ISO8601.format($0.due) } == (due.map { [$0] } ?? []))
        #expect(plan.messages.allSatisfy { $0.occurrence == "signup" })
    }

    @Test("welcome at sign-up, catch-up of 12 hours")
    func welcome() async throws {
        let fixture = try Fixture(
            workflow: """
                trigger: { signup: {} }
                catch_up: 12h
                actions: [ { send: { channel: email, template: t } } ]
                """)
        try fixture.add("new", signedUp: "2026-11-25T08:00:00Z")
        try fixture.add("old", signedUp: "2026-11-24T08:00:00Z")
        #expect(try await fixture.plan(at: "2026-11-25T19:59:59Z").messages.map(\.customerID) == ["new"])
        #expect(try await fixture.plan(at: "2026-11-25T20:00:00Z").messages.isEmpty)
    }
}
