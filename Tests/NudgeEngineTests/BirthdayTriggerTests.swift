import Foundation
import NudgeEngine
import NudgeLanguage
import NudgeRender
import NudgeStore
import Testing
import NudgeCore

@Suite("Birthday trigger")
struct BirthdayTriggerTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var label: String
        var zone: String?
        var birthDate: String
        var daysBefore = 0
        var now: String
        /// nil when nothing should fire.
        var occurrence: String?
        var due: String?
        var testDescription: String { label }
    }

    static let cases: [Case] = [
        // New York (the business zone), 09:00 local = 14:00Z in winter.
        Case(label: "fires at the first instant of the window", zone: nil, birthDate: "1990-11-25", now: "2026-11-25T14:00:00Z",
             occurrence: "birthday:2026", due: "2026-11-25T14:00:00Z"),
        Case(label: "not a second before send_at", zone: nil, birthDate: "1990-11-25", now: "2026-11-25T13:59:59Z"),
        Case(label: "still fires at the last instant of catch-up", zone: "America/New_York", birthDate: "1990-11-25",
             now: "2026-11-26T13:59:59Z", occurrence: "birthday:2026", due: "2026-11-25T14:00:00Z"),
        Case(label: "not once catch-up has passed", zone: "America/New_York", birthDate: "1990-11-25", now: "2026-11-26T14:00:00Z"),
        Case(label: "Tokyo 09:00 is midnight UTC", zone: "Asia/Tokyo", birthDate: "1985-11-25", now: "2026-11-25T00:00:00Z",
             occurrence: "birthday:2026", due: "2026-11-25T00:00:00Z"),
        Case(label: "Tokyo: not yet the evening before in UTC", zone: "Asia/Tokyo", birthDate: "1985-11-25",
             now: "2026-11-24T23:59:59Z"),
        Case(label: "Auckland in daylight time (+13) falls the previous UTC day", zone: "Pacific/Auckland",
             birthDate: "--11-25", now: "2026-11-24T20:00:00Z", occurrence: "birthday:2026", due: "2026-11-24T20:00:00Z"),
        Case(label: "London on the spring-forward day is 08:00Z", zone: "Europe/London", birthDate: "1970-03-29",
             now: "2026-03-29T08:00:00Z", occurrence: "birthday:2026", due: "2026-03-29T08:00:00Z"),
        Case(label: "London on the fall-back day is 09:00Z", zone: "Europe/London", birthDate: "1970-10-25",
             now: "2026-10-25T09:00:00Z", occurrence: "birthday:2026", due: "2026-10-25T09:00:00Z"),
        Case(label: "New York on the spring-forward day is 13:00Z", zone: "America/New_York", birthDate: "2000-03-08",
             now: "2026-03-08T13:30:00Z", occurrence: "birthday:2026", due: "2026-03-08T13:00:00Z"),
        Case(label: "New York on the fall-back day is 14:00Z", zone: "America/New_York", birthDate: "2000-11-01",
             now: "2026-11-01T14:00:00Z", occurrence: "birthday:2026", due: "2026-11-01T14:00:00Z"),
        Case(label: "Auckland on its spring-forward day", zone: "Pacific/Auckland", birthDate: "--09-27",
             now: "2026-09-26T20:00:00Z", occurrence: "birthday:2026", due: "2026-09-26T20:00:00Z"),
        Case(label: "29 February falls on 28 February in 2027", zone: "Europe/London", birthDate: "--02-29",
             now: "2027-02-28T09:00:00Z", occurrence: "birthday:2027", due: "2027-02-28T09:00:00Z"),
        Case(label: "29 February is itself in the leap year 2028", zone: "Europe/London", birthDate: "2000-02-29",
             now: "2028-02-29T09:00:00Z", occurrence: "birthday:2028", due: "2028-02-29T09:00:00Z"),
        Case(label: "29 February does not fire on 28 February of a leap year", zone: "Europe/London", birthDate: "2000-02-29",
             now: "2028-02-28T12:00:00Z"),
        Case(label: "a reminder a week before crosses the year boundary", zone: "Europe/London", birthDate: "1999-01-01",
             daysBefore: 7, now: "2026-12-25T09:00:00Z", occurrence: "birthday:2027", due: "2026-12-25T09:00:00Z"),
        Case(label: "a reminder a week before", zone: nil, birthDate: "1999-12-02", daysBefore: 7,
             now: "2026-11-25T15:00:00Z", occurrence: "birthday:2026", due: "2026-11-25T14:00:00Z"),
        Case(label: "New Year's Eve in Auckland is midday UTC", zone: "Pacific/Auckland", birthDate: "--12-31",
             now: "2026-12-30T20:00:00Z", occurrence: "birthday:2026", due: "2026-12-30T20:00:00Z"),
        Case(label: "New Year's Day in Tokyo", zone: "Asia/Tokyo", birthDate: "--01-01",
             now: "2027-01-01T00:00:00Z", occurrence: "birthday:2027", due: "2027-01-01T00:00:00Z"),
    ]

    @Test("occurrence key and due time", arguments: cases)
    func birthday(_ c: Case) async throws {
        let fixture = try Fixture(
            workflow: """
                trigger:
                  birthday: { days_before: \(c.daysBefore) }
                actions:
                  - send: { channel: email, template: t }
                """)
        try fixture.add("c1", zone: c.zone, birthDate: c.birthDate)
        try fixture.add("other", zone: c.zone, birthDate: "1990-06-15")
        let plan = try await fixture.plan(at: c.now)
        if let occurrence = c.occurrence {
            let message = try #require(plan.messages.first)
            #expect(plan.messages.count == 1)
            #expect(message.customerID == "c1")
            #expect(message.occurrence == occurrence)
            #expect(ISO8601.format(message.due) == c.due)
            #expect(message.status == .send)
        } else {
            #expect(plan.messages.isEmpty)
        }
    }

    @Test("send_at of the workflow overrides nudge.yaml")
    func workflowSendAt() async throws {
        let fixture = try Fixture(
            workflow: """
                trigger: { birthday: {} }
                send_at: "07:30"
                actions: [ { send: { channel: email, template: t } } ]
                """)
        try fixture.add("c1", zone: "Europe/London", birthDate: "1990-11-25")
        let plan = try await fixture.plan(at: "2026-11-25T07:30:00Z")
        #expect(plan.messages.map { ISO8601.format($0.due) } == ["2026-11-25T07:30:00Z"])
    }

    @Test("an occurrence in the ledger is not planned again")
    func ledger() async throws {
        let fixture = try Fixture(
            workflow: """
                trigger: { birthday: { days_before: 0 } }
                actions: [ { send: { channel: email, template: t } } ]
                """)
        try fixture.add("c1", birthDate: "1990-11-25")
        try fixture.add("c2", birthDate: "1991-11-25")
        try fixture.markSent("w", "c1", "birthday:2026")
        let plan = try await fixture.plan(at: "2026-11-25T15:00:00Z")
        #expect(plan.messages.map(\.customerID) == ["c2"])
        #expect(plan.alreadySent == 1)
        // Last year's birthday in the ledger does not hide this year's.
        try fixture.markSent("w", "c2", "birthday:2025")
        #expect(try await fixture.plan(at: "2026-11-25T15:00:00Z").messages.map(\.customerID) == ["c2"])
    }

    @Test("the ledger is asked per workflow: one with entries drops them, one with none plans every occurrence")
    func ledgerPerWorkflow() async throws {
        let actions = "trigger: { birthday: { days_before: 0 } }\nactions: [ { send: { channel: email, template: t } } ]\n"
        let fixture = try Fixture(workflows: ["a.yaml": "id: a\n" + actions, "b.yaml": "id: b\n" + actions])
        try fixture.add("c1", birthDate: "1990-11-25")
        try fixture.add("c2", birthDate: "1991-11-25")
        try fixture.markSent("a", "c1", "birthday:2026")
        let plan = try await fixture.plan(at: "2026-11-25T15:00:00Z")
        #expect(plan.messages.map { "\($0.workflowID)/\($0.customerID)" }.sorted() == ["a/c2", "b/c1", "b/c2"])
        #expect(plan.alreadySent == 1)
    }
}
