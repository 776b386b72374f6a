import Foundation
import NudgeEngine
import NudgeLanguage
import NudgeRender
import NudgeStore
import Testing
import NudgeCore

// The reward, visit, once and schedule triggers, planned on SQLite and (with a server) on PostgreSQL by the
// fixture, which checks that both plan the same.

@Suite("Reward trigger")
struct RewardTriggerTests {
    func fixture(offer: String = "\"*\"") throws -> Fixture {
        let fixture = try Fixture(
            workflow: """
                trigger:
                  reward: { offer: \(offer) }
                when:
                  - progress.rewards_earned >= 1
                  - offer.stamps_required > 0
                actions:
                  - send: { channel: email, template: t }
                """)
        try fixture.addOffer("coffee", stamps: 10)
        try fixture.addOffer("pastry", stamps: 8)
        try fixture.add("c1", zone: "Europe/London")
        return fixture
    }

    @Test("each reward earned fires once, due at the card's update; a stamp after it fires nothing new")
    func rewards() async throws {
        let fixture = try fixture()
        try fixture.setProgress("c1", offer: "coffee", stamps: 9, updatedAt: "2026-11-25T10:00:00Z")
        #expect(try await fixture.plan(at: "2026-11-25T11:00:00Z").messages.isEmpty)
        try fixture.setProgress("c1", offer: "coffee", stamps: 0, rewards: 1, updatedAt: "2026-11-25T12:00:00Z")
        let plan = try await fixture.plan(at: "2026-11-25T12:00:00Z")
        #expect(plan.messages.map(\.occurrence) == ["reward:coffee:1"])
        #expect(plan.messages.map { ISO8601.format($0.due) } == ["2026-11-25T12:00:00Z"])
        try fixture.markSent("w", "c1", "reward:coffee:1")
        try fixture.setProgress("c1", offer: "coffee", stamps: 1, rewards: 1, updatedAt: "2026-11-26T08:00:00Z")
        #expect(try await fixture.plan(at: "2026-11-26T09:00:00Z").messages.isEmpty)
        try fixture.setProgress("c1", offer: "coffee", stamps: 0, rewards: 2, updatedAt: "2026-12-02T08:00:00Z")
        #expect(try await fixture.plan(at: "2026-12-02T09:00:00Z").messages.map(\.occurrence) == ["reward:coffee:2"])
        // Outside catch-up (a day): too late.
        #expect(try await fixture.plan(at: "2026-12-03T08:00:01Z").messages.isEmpty)
    }

    @Test("an offer id watches that offer's cards only")
    func oneOffer() async throws {
        let fixture = try fixture(offer: "pastry")
        try fixture.setProgress("c1", offer: "coffee", stamps: 0, rewards: 1, updatedAt: "2026-11-25T10:00:00Z")
        try fixture.setProgress("c1", offer: "pastry", stamps: 0, rewards: 3, updatedAt: "2026-11-25T10:30:00Z")
        #expect(try await fixture.plan(at: "2026-11-25T11:00:00Z").messages.map(\.occurrence) == ["reward:pastry:3"])
    }
}

@Suite("Visit trigger")
struct VisitTriggerTests {
    func fixture(delay: String = "2h", visits: [String]) throws -> Fixture {
        let fixture = try Fixture(
            workflow: """
                trigger:
                  visit: { delay: \(delay) }
                actions:
                  - send: { channel: email, template: t }
                """)
        try fixture.add("c1", zone: "Asia/Tokyo", visits: visits)
        try fixture.add("c2", visits: ["2026-11-20T10:00:00Z"])
        return fixture
    }

    @Test("each visit fires once, its delay after it, keyed by the visit's instant")
    func delay() async throws {
        let fixture = try fixture(visits: ["2026-11-25T10:00:00Z", "2026-11-25T11:00:00Z"])
        #expect(try await fixture.plan(at: "2026-11-25T11:59:59Z").messages.isEmpty)
        let first = try await fixture.plan(at: "2026-11-25T12:00:00Z")
        // The later visit, though it is the customer's last activity, does not hide the earlier one.
        #expect(first.messages.map(\.occurrence) == ["visit:2026-11-25T10:00:00Z"])
        #expect(first.messages.map { ISO8601.format($0.due) } == ["2026-11-25T12:00:00Z"])
        let both = try await fixture.plan(at: "2026-11-25T13:30:00Z")
        #expect(both.messages.map(\.occurrence) == ["visit:2026-11-25T10:00:00Z", "visit:2026-11-25T11:00:00Z"])
        // Catch-up is a day after each due time.
        #expect(try await fixture.plan(at: "2026-11-26T12:30:00Z").messages.map(\.occurrence) == ["visit:2026-11-25T11:00:00Z"])
        #expect(try await fixture.plan(at: "2026-11-26T13:00:01Z").messages.isEmpty)
    }

    @Test("without a delay a visit is due when it is made")
    func noDelay() async throws {
        let fixture = try fixture(delay: "0m", visits: ["2026-11-25T10:00:00Z"])
        #expect(try await fixture.plan(at: "2026-11-25T10:00:00Z").messages.map(\.occurrence) == ["visit:2026-11-25T10:00:00Z"])
        #expect(try await fixture.plan(at: "2026-11-25T09:59:59Z").messages.isEmpty)
    }
}

@Suite("Broadcast triggers: once and schedule")
struct BroadcastTriggerTests {
    func fixture(trigger: String, when: String = "customer.visits_total >= 1") throws -> Fixture {
        let fixture = try Fixture(
            workflow: """
                trigger:
                  \(trigger)
                when: \(when)
                actions:
                  - send: { channel: email, template: t }
                """)
        try fixture.add("c1", zone: "Europe/Lisbon", visits: ["2026-11-01T10:00:00Z"])
        try fixture.add("c2", visits: ["2026-11-02T10:00:00Z"])
        try fixture.add("c3")  // no visit: the `when` leaves them out
        return fixture
    }

    @Test("once: every customer whose when holds, at the business's local time, within catch-up")
    func once() async throws {
        // 10:00 in New York (the business's zone) on 20 December is 15:00 UTC.
        let fixture = try fixture(trigger: "once: { at: \"2026-12-20T10:00\" }")
        #expect(try await fixture.plan(at: "2026-12-20T14:59:59Z").messages.isEmpty)
        let plan = try await fixture.plan(at: "2026-12-20T15:00:00Z")
        #expect(plan.messages.map { "\($0.customerID) \($0.occurrence)" } == ["c1 once", "c2 once"])
        #expect(plan.filteredOut == 1)
        #expect(Set(plan.messages.map { ISO8601.format($0.due) }) == ["2026-12-20T15:00:00Z"])
        #expect(try await fixture.plan(at: "2026-12-21T15:00:01Z").messages.isEmpty)
        try fixture.markSent("w", "c1", "once")
        #expect(try await fixture.plan(at: "2026-12-20T16:00:00Z").messages.map(\.customerID) == ["c2"])
    }

    @Test("once: a time with an offset is that instant")
    func onceWithOffset() async throws {
        let fixture = try fixture(trigger: "once: { at: \"2026-12-20T10:00:00Z\" }", when: "true")
        #expect(try await fixture.plan(at: "2026-12-20T10:00:00Z").messages.count == 3)
        #expect(try await fixture.plan(at: "2026-12-20T09:59:59Z").messages.isEmpty)
    }

    @Test("schedule: each cron time in the business's zone, keyed by its local time")
    func schedule() async throws {
        // Mondays at 10:00 New York time; 7 December 2026 is a Monday (15:00 UTC).
        let fixture = try fixture(trigger: "schedule: { cron: \"0 10 * * 1\" }")
        #expect(try await fixture.plan(at: "2026-12-07T14:59:00Z").messages.isEmpty)
        let plan = try await fixture.plan(at: "2026-12-07T15:00:00Z")
        #expect(plan.messages.map { "\($0.customerID) \($0.occurrence)" } == [
            "c1 schedule:2026-12-07T10:00", "c2 schedule:2026-12-07T10:00",
        ])
        try fixture.markSent("w", "c1", "schedule:2026-12-07T10:00")
        try fixture.markSent("w", "c2", "schedule:2026-12-07T10:00")
        #expect(try await fixture.plan(at: "2026-12-07T20:00:00Z").messages.isEmpty)
        #expect(try await fixture.plan(at: "2026-12-14T15:00:00Z").messages.map(\.occurrence) == [
            "schedule:2026-12-14T10:00", "schedule:2026-12-14T10:00",
        ])
    }

    @Test("a broadcast reads every customer, a page at a time")
    func manyCustomers() async throws {
        let fixture = try fixture(trigger: "once: { at: \"2026-12-20T10:00:00Z\" }", when: "true")
        for i in 0..<10_050 { try fixture.add(String(format: "p%05d", i)) }
        let plan = try await fixture.plan(at: "2026-12-20T10:00:00Z")
        #expect(plan.messages.count == 10_053)
        #expect(Set(plan.messages.map(\.customerID)).count == 10_053)
    }
}

@Suite("New-offer trigger")
struct NewOfferTriggerTests {
    func fixture() throws -> Fixture {
        let fixture = try Fixture(
            workflow: """
                trigger:
                  new_offer: {}
                when: offer.category in customer.preferences
                actions:
                  - send: { channel: email, template: t }
                """)
        try fixture.add("c1", zone: "Europe/London", attributes: ["preferences": "coffee; pastry"])
        try fixture.add("c2", attributes: ["preferences": "tea"])
        try fixture.add("c3")
        try fixture.addOffer("card", stamps: 10)
        try fixture.addOffer("winter-latte", stamps: 6, publishedAt: "2026-12-01T09:00:00Z", category: "coffee")
        try fixture.addOffer("green-tea", stamps: 6, publishedAt: "2026-12-01T15:00:00Z", category: "tea")
        try fixture.addOffer("scone", stamps: 6, publishedAt: "2026-12-04T15:00:00Z", category: "pastry")
        return fixture
    }

    @Test("each offer published in the window is announced once, at its publication, to the customers whose when holds")
    func announced() async throws {
        let fixture = try fixture()
        #expect(try await fixture.plan(at: "2026-12-01T08:59:59Z").messages.isEmpty)
        let morning = try await fixture.plan(at: "2026-12-01T09:00:00Z")
        #expect(morning.messages.map { "\($0.customerID) \($0.occurrence)" } == ["c1 new_offer:winter-latte"])
        #expect(morning.messages.map { ISO8601.format($0.due) } == ["2026-12-01T09:00:00Z"])
        // Every customer is a candidate; `when` picks by preference (c3 has none).
        #expect((morning.candidates, morning.filteredOut) == (3, 2))
        let evening = try await fixture.plan(at: "2026-12-01T16:00:00Z")
        #expect(
            evening.messages.map { "\($0.customerID) \($0.occurrence)" }
                == ["c1 new_offer:winter-latte", "c2 new_offer:green-tea"])
        try fixture.markSent("w", "c1", "new_offer:winter-latte")
        #expect(try await fixture.plan(at: "2026-12-01T16:00:00Z").messages.map(\.occurrence) == ["new_offer:green-tea"])
        // Past catch-up (a day) an offer is no longer announced; a later one is.
        let later = try await fixture.plan(at: "2026-12-04T16:00:00Z")
        #expect(later.messages.map { "\($0.customerID) \($0.occurrence)" } == ["c1 new_offer:scone"])
    }

    @Test("templates and conditions read the offer announced, and trigger.offer names it")
    func offerFields() async throws {
        let fixture = try Fixture(
            workflows: [
                "w.yaml": """
                    id: w
                    trigger: new_offer
                    when:
                      - trigger.offer == offer.id
                      - offer.published_at <= customer.signed_up_at or true
                      - '"pastry" in customer.preferences'
                    actions:
                      - send: { channel: sms, template: o }
                    """
            ], templates: [],
            extraFiles: [
                "Templates/o.sms.mustache":
                    "{{offer.name}} ({{offer.category}}, {{offer.stamps_required}} stamps) since {{offer.published_at}}\n"
            ])
        try fixture.add("c1", zone: "Europe/London", phone: "+447700900123", attributes: ["preferences": "pastry"])
        try fixture.addOffer("scone", stamps: 6, publishedAt: "2026-12-04T15:00:00Z", category: "pastry")
        let plan = try await fixture.plan(at: "2026-12-04T15:30:00Z", render: true)
        #expect(plan.messages.map { $0.rendered?.body } == ["Card scone (pastry, 6 stamps) since 2026-12-04T15:00:00+00:00\n"])
    }
}
