import Foundation
import NudgeEngine
import NudgeLanguage
import Testing
import NudgeCore

@Suite("Explain (nudge explain)")
struct ExplainTests {
    static let workflows = [
        "w.yaml": """
            id: w
            trigger:
              inactivity: { days: [30, 60] }
            when:
              - customer.visits_total >= 1
              - not ("staff" in customer.tags)
            exit_when: customer.days_since_last_activity < 7
            actions:
              - send: { channel: [email, sms], template: t }
            catch_up: 2d
            """,
        "b.yaml": """
            id: b
            trigger:
              birthday: {}
            actions:
              - send: { channel: email, template: t }
            """,
    ]

    func explain(_ fixture: Fixture, _ customer: String, at now: String, workflows: Set<String>? = nil) async throws
        -> Explanation?
    {
        let project = try fixture.project()
        let instant = try #require(ISO8601.parse(now, zone: project.config.timeZone))
        let explanation = try await Planner(project: project, store: fixture.database).explain(
            customerID: customer, workflowIDs: workflows, now: instant)
        // The same explanation from a PostgreSQL copy of the rows.
        if PostgresTwin.isEnabled {
            try await PostgresTwin.withCopy(of: fixture.database) { store in
                let twin = try await Planner(project: project, store: store).explain(
                    customerID: customer, workflowIDs: workflows, now: instant)
                #expect(Self.shown(twin) == Self.shown(explanation), "PostgreSQL explains otherwise")
            }
        }
        return explanation
    }

    /// Every occurrence's key, window, ledger answer, condition values, channels and result, one line each.
    static func shown(_ explanation: Explanation?) -> [String] {
        var lines: [String] = []
        for workflow in explanation?.workflows ?? [] {
            lines.append(workflow.id + (workflow.note ?? "") + workflow.policy.joined())
            for o in workflow.occurrences {
                var parts: [String] = [o.key, o.window, "\(o.isInLedger)", o.variant ?? "", o.result, o.status ?? ""]
                for condition in o.conditions {
                    let fields: [String] = condition.fields.map { "\($0.name)=\($0.value)" }
                    parts.append("\(condition.text)=\(condition.value) " + fields.joined(separator: " "))
                }
                for channel in o.channels { parts.append("\(channel.channel) \(channel.detail) \(channel.isChosen)") }
                lines.append(parts.joined(separator: "|"))
            }
        }
        return lines
    }

    @Test("an occurrence in its window: the conditions with the fields they read, the channels, the plan's answer")
    func sent() async throws {
        let fixture = try Fixture(workflows: Self.workflows)
        try fixture.add("ana", visits: ["2026-09-20T14:00:00Z"])
        let explanation = try #require(try await explain(fixture, "ana", at: "2026-10-20T15:00:00Z"))
        #expect(explanation.customerName == "Ana Lima" && explanation.zone == "America/New_York")
        #expect(explanation.workflows.map(\.id) == ["b", "w"])
        let birthday = explanation.workflows[0]
        #expect(birthday.occurrences.isEmpty && birthday.note == "no birth date")
        let w = explanation.workflows[1]
        #expect(w.occurrences.map(\.key) == ["inactivity:2026-09-20:30", "inactivity:2026-09-20:60"])
        let due = w.occurrences[0]
        #expect(due.isInWindow && !due.isInLedger)
        #expect(due.due == ISO8601.parse("2026-10-20T13:00:00Z", zone: .gmt))
        #expect(due.window == "inside its window (catch_up 2d: until 2026-10-22T09:00:00-04:00)")
        #expect(due.conditions.map(\.kind) == ["when", "when", "exit_when"])
        #expect(due.conditions.map(\.holds) == [true, true, false])
        #expect(due.conditions[0].fields.map(\.name) == ["customer.visits_total"])
        #expect(due.conditions[0].fields.map(\.value) == ["1"])
        #expect(due.conditions[1].fields.map(\.value) == ["[]"])
        #expect(due.conditions[2].value == "false" && due.conditions[2].fields.map(\.value) == ["30"])
        #expect(due.channels.map(\.channel) == ["email", "sms"])
        #expect(due.channels[0].isChosen && due.channels[0].detail == "ana@example.com")
        #expect(!due.channels[1].receives && due.channels[1].detail == "no phone number")
        #expect(due.result == "send by email to ana@example.com" && due.status == "send")
        let later = w.occurrences[1]
        #expect(!later.isInWindow && later.window == "not due yet (in 29 days 23 h)")
        #expect(later.result == "not planned: not due yet" && later.status == nil)

        // Once committed, the ledger answers.
        _ = try await fixture.commit(at: "2026-10-20T15:00:00Z")
        let after = try #require(try await explain(fixture, "ana", at: "2026-10-20T16:00:00Z", workflows: ["w"]))
        #expect(after.workflows.map(\.id) == ["w"])
        #expect(after.workflows[0].occurrences[0].isInLedger)
        #expect(after.workflows[0].occurrences[0].result == "not planned: already in the ledger (an occurrence fires once)")
    }

    @Test("filtered by when, suppressed with dry-run's reason, too late; an unknown customer")
    func notSent() async throws {
        let fixture = try Fixture(workflows: Self.workflows)
        try fixture.add("bo", tags: ["staff"], visits: ["2026-09-20T14:00:00Z"])
        try fixture.add("cy", emailOptIn: false, visits: ["2026-09-20T14:00:00Z"])
        try fixture.add("di", birthDate: "1992-02-29", visits: ["2026-09-20T14:00:00Z"])
        let staff = try #require(try await explain(fixture, "bo", at: "2026-10-20T15:00:00Z", workflows: ["w"]))
        #expect(
            staff.workflows[0].occurrences[0].result
                == "not planned: filtered out by when (not (\"staff\" in customer.tags) is false)")
        #expect(staff.workflows[0].occurrences[0].conditions[1].fields.map(\.value) == ["[\"staff\"]"])

        let plan = try await fixture.plan(at: "2026-10-20T15:00:00Z")
        let reason = try #require(plan.messages.first { $0.customerID == "cy" }?.reason)
        let consent = try #require(try await explain(fixture, "cy", at: "2026-10-20T15:00:00Z", workflows: ["w"]))
        #expect(consent.workflows[0].occurrences[0].result == "suppressed: \(reason)")
        #expect(consent.workflows[0].occurrences[0].status == "suppressed")
        #expect(consent.workflows[0].occurrences[0].channels.allSatisfy { !$0.receives })

        // Two days and an hour late: the window (catch_up 2d) has closed.
        let late = try #require(try await explain(fixture, "cy", at: "2026-10-22T14:00:00Z", workflows: ["w"]))
        #expect(late.workflows[0].occurrences[0].window == "too late: its window (catch_up 2d) closed at 2026-10-22T09:00:00-04:00")
        #expect(late.workflows[0].occurrences[0].result == "not planned: its window has closed")

        // 29 February falls on 28 February in 2027: the last birthday and the next.
        let leap = try #require(try await explain(fixture, "di", at: "2026-10-20T15:00:00Z", workflows: ["b"]))
        #expect(leap.workflows[0].occurrences.map(\.key) == ["birthday:2026", "birthday:2027"])
        #expect(leap.workflows[0].occurrences[1].due == ISO8601.parse("2027-02-28T09:00:00-05:00", zone: .gmt))

        #expect(try await explain(fixture, "nobody", at: "2026-10-20T15:00:00Z") == nil)
    }
}
