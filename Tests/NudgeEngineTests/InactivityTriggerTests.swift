import Foundation
import NudgeEngine
import NudgeLanguage
import NudgeRender
import NudgeStore
import Testing
import NudgeCore

@Suite("Inactivity trigger")
struct InactivityTriggerTests {
    static let workflow = """
        trigger:
          inactivity: { days: [30, 60, 90] }
        actions:
          - send: { channel: email, template: t }
        """

    struct Case: CustomTestStringConvertible, Sendable {
        var label: String
        var zone: String?
        var lastVisit: String
        var now: String
        var occurrence: String?
        var due: String?
        var testDescription: String { label }
    }

    static let cases: [Case] = [
        Case(label: "30 days after the local date of the last visit, at send_at", zone: nil,
             lastVisit: "2026-10-26T20:00:00Z", now: "2026-11-25T14:00:00Z",
             occurrence: "inactivity:2026-10-26:30", due: "2026-11-25T14:00:00Z"),
        Case(label: "a visit at 23:30 local counts for that local date", zone: "America/New_York",
             lastVisit: "2026-10-27T03:30:00Z", now: "2026-11-25T14:00:00Z",
             occurrence: "inactivity:2026-10-26:30", due: "2026-11-25T14:00:00Z"),
        Case(label: "a visit after local midnight in Tokyo counts for the next date", zone: "Asia/Tokyo",
             lastVisit: "2026-10-26T16:00:00Z", now: "2026-11-26T00:00:00Z",
             occurrence: "inactivity:2026-10-27:30", due: "2026-11-26T00:00:00Z"),
        Case(label: "not a second early", zone: nil, lastVisit: "2026-10-26T20:00:00Z", now: "2026-11-25T13:59:59Z"),
        Case(label: "last instant of catch-up", zone: nil, lastVisit: "2026-10-26T20:00:00Z",
             now: "2026-11-26T13:59:59Z", occurrence: "inactivity:2026-10-26:30", due: "2026-11-25T14:00:00Z"),
        Case(label: "past catch-up nothing fires", zone: nil, lastVisit: "2026-10-26T20:00:00Z", now: "2026-11-26T14:00:00Z"),
        Case(label: "60 days", zone: "Europe/London", lastVisit: "2026-09-26T12:00:00Z", now: "2026-11-25T09:00:00Z",
             occurrence: "inactivity:2026-09-26:60", due: "2026-11-25T09:00:00Z"),
        Case(label: "90 days across a DST change", zone: "Europe/London", lastVisit: "2026-08-27T12:00:00Z",
             now: "2026-11-25T09:30:00Z", occurrence: "inactivity:2026-08-27:90", due: "2026-11-25T09:00:00Z"),
        Case(label: "45 days is no threshold", zone: "Europe/London", lastVisit: "2026-10-11T12:00:00Z",
             now: "2026-11-25T09:30:00Z"),
        Case(label: "Auckland across the year boundary", zone: "Pacific/Auckland", lastVisit: "2026-12-01T22:00:00Z",
             now: "2026-12-31T20:00:00Z", occurrence: "inactivity:2026-12-02:30", due: "2026-12-31T20:00:00Z"),
    ]

    @Test("occurrence key and due time", arguments: cases)
    func inactivity(_ c: Case) async throws {
        let fixture = try Fixture(workflow: Self.workflow)
        try fixture.add("c1", zone: c.zone, signedUp: "2026-01-01T00:00:00Z", visits: [c.lastVisit])
        try fixture.add("busy", zone: c.zone, signedUp: "2026-01-01T00:00:00Z", visits: ["2026-11-20T12:00:00Z"])
        let plan = try await fixture.plan(at: c.now)
        if let occurrence = c.occurrence {
            #expect(plan.messages.map(\.occurrence) == [occurrence])
            #expect(plan.messages.map { ISO8601.format($0.due) } == [c.due!])
        } else {
            #expect(plan.messages.isEmpty)
        }
    }

    @Test("a customer without visits is inactive since sign-up")
    func signupCountsAsActivity() async throws {
        let fixture = try Fixture(workflow: Self.workflow)
        try fixture.add("c1", zone: "Europe/London", signedUp: "2026-10-26T10:00:00Z")
        let plan = try await fixture.plan(at: "2026-11-25T09:00:00Z")
        #expect(plan.messages.map(\.occurrence) == ["inactivity:2026-10-26:30"])
    }

    @Test("coming back and going quiet again starts a new spell")
    func newSpell() async throws {
        let fixture = try Fixture(workflow: Self.workflow)
        try fixture.add(
            "c1", zone: "Europe/London", signedUp: "2026-01-01T00:00:00Z",
            visits: ["2026-08-01T12:00:00Z", "2026-10-26T12:00:00Z"])
        try fixture.markSent("w", "c1", "inactivity:2026-08-01:30")
        let plan = try await fixture.plan(at: "2026-11-25T09:00:00Z")
        #expect(plan.messages.map(\.occurrence) == ["inactivity:2026-10-26:30"])
        try fixture.markSent("w", "c1", "inactivity:2026-10-26:30")
        #expect(try await fixture.plan(at: "2026-11-25T09:00:00Z").messages.isEmpty)
    }

    @Test("a runner down for a week sends no burst of stale messages")
    func noStaleBurst() async throws {
        let fixture = try Fixture(workflow: Self.workflow)
        try fixture.add("c1", zone: "Europe/London", signedUp: "2026-01-01T00:00:00Z", visits: ["2026-10-20T12:00:00Z"])
        // Due 2026-11-19 09:00; a run a week later sends nothing.
        #expect(try await fixture.plan(at: "2026-11-26T09:00:00Z").messages.isEmpty)
    }
}
