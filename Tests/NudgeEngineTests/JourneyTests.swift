import Foundation
import GRDB
import NudgeEngine
import NudgeLanguage
import NudgeStore
import Testing
import NudgeCore

/// Follow-up steps: `wait`, a step's own `when`, `exit_when`, step keys `KEY/k`, with explicit instants.
@Suite("Journeys: follow-up steps")
struct JourneyTests {
    static let winBack = """
        id: w
        trigger:
          inactivity: { days: [30] }
        actions:
          - send: { channel: email, template: t }
          - wait: 7d
          - when: customer.days_since_last_activity >= 37     # still not back
          - send: { channel: sms, template: t }
        exit_when: customer.visits_30d > 0
        catch_up: 2d
        """

    /// c1 (New York) was last in on 1 October: step 0 is due on 31 October at 09:00 EDT (13:00Z), step 1 seven
    /// times 24 h later, 7 November 13:00Z (08:00 EST: the clocks went back in between).
    func fixture(_ workflow: String = Self.winBack) throws -> Fixture {
        let fixture = try Fixture(workflows: ["w.yaml": workflow])
        try fixture.add("c1", zone: "America/New_York", phone: "+14155550100", visits: ["2026-10-01T12:00:00Z"])
        return fixture
    }

    func commit(_ fixture: Fixture, at now: String) async throws -> [String] {
        try await fixture.commit(at: now).map(Self.shown)
    }

    static func shown(_ message: PlannedMessage) -> String {
        "\(message.occurrence) \(message.channel?.rawValue ?? "-") \(ISO8601.format(message.due)) \(message.status.rawValue)"
    }

    func rewrite(_ fixture: Fixture, _ workflow: String) throws {
        try workflow.write(
            to: fixture.directory.appendingPathComponent("Workflows/w.yaml"), atomically: true, encoding: .utf8)
    }

    @Test("step 1 is due a wait after step 0, keyed KEY/1; dry-run shows it as the run takes it; it fires once")
    func twoSteps() async throws {
        let fixture = try fixture()
        #expect(try await commit(fixture, at: "2026-10-31T13:00:00Z") == ["inactivity:2026-10-01:30 email 2026-10-31T13:00:00Z send"])
        #expect(try await fixture.plan(at: "2026-11-07T12:59:59Z").messages.isEmpty)
        let dryRun = try await fixture.plan(at: "2026-11-07T13:00:00Z").messages.map(Self.shown)
        #expect(dryRun == ["inactivity:2026-10-01:30/1 sms 2026-11-07T13:00:00Z send"])
        #expect(try await commit(fixture, at: "2026-11-07T13:00:00Z") == dryRun)
        #expect(try await fixture.plan(at: "2026-11-07T15:00:00Z").messages.isEmpty)
        let ledger = try await fixture.database.reader.read { db in
            try Row.fetchAll(db, sql: "SELECT occurrence, step, due_at FROM ledger ORDER BY step")
                .map { "\($0[0] as String) \($0[1] as Int) \(ISO8601.format(StoredInstant.date($0[2])))" }
        }
        #expect(ledger == ["inactivity:2026-10-01:30 0 2026-10-31T13:00:00Z", "inactivity:2026-10-01:30/1 1 2026-11-07T13:00:00Z"])
    }

    @Test("a run that was down for a day catches the step up within catch_up, and not after")
    func catchUp() async throws {
        let fixture = try fixture()
        _ = try await commit(fixture, at: "2026-10-31T13:00:00Z")
        #expect(try await fixture.plan(at: "2026-11-08T13:00:00Z").messages.map(Self.shown) == ["inactivity:2026-10-01:30/1 sms 2026-11-07T13:00:00Z send"])
        #expect(try await fixture.plan(at: "2026-11-09T12:59:59Z").messages.count == 1)
        #expect(try await fixture.plan(at: "2026-11-09T13:00:00Z").messages.isEmpty)
    }

    @Test("a step whose when no longer holds, or a journey whose exit_when holds, sends nothing")
    func conditions() async throws {
        let fixture = try fixture()
        _ = try await commit(fixture, at: "2026-10-31T13:00:00Z")
        // A visit on 2 November: back within 30 days (exit_when), and not 37 days quiet (the step's when).
        let visit = StoredInstant.millis(try #require(ISO8601.parse("2026-11-02T14:00:00Z", zone: TimeZone(identifier: "UTC")!)))
        try await fixture.database.writer.write { db in
            try db.execute(sql: "INSERT INTO visit (customer_id, visited_at, amount_cents) VALUES ('c1', ?, 500)", arguments: [visit])
            try db.execute(
                sql: "UPDATE customer SET last_visit_at = ?, last_activity_at = ?, visits_total = 2, lifetime_value_cents = 1000 WHERE id = 'c1'",
                arguments: [visit, visit])
        }
        let plan = try await fixture.plan(at: "2026-11-07T13:00:00Z")
        #expect(plan.messages.isEmpty && plan.filteredOut == 1)
        // Without exit_when the step's own when still stops it.
        try rewrite(fixture, Self.winBack.replacingOccurrences(of: "exit_when: customer.visits_30d > 0\n", with: ""))
        #expect(try await fixture.plan(at: "2026-11-07T13:00:00Z").messages.isEmpty)
        // exit_when is checked before step 0 as well.
        let other = try self.fixture()
        try rewrite(other, Self.winBack.replacingOccurrences(of: "customer.visits_30d > 0", with: "customer.visits_total > 0"))
        #expect(try await other.plan(at: "2026-10-31T13:00:00Z").messages.isEmpty)
    }

    @Test("a workflow edited mid-journey: steps keep their keys, a removed step is skipped, an added one follows")
    func edited() async throws {
        let fixture = try fixture()
        _ = try await commit(fixture, at: "2026-10-31T13:00:00Z")
        // Step 1 removed before it fell due: nothing.
        try rewrite(fixture, Self.winBack.replacingOccurrences(of: "  - wait: 7d\n  - when: customer.days_since_last_activity >= 37     # still not back\n  - send: { channel: sms, template: t }\n", with: ""))
        #expect(try await fixture.plan(at: "2026-11-07T13:00:00Z").messages.isEmpty)
        // Back, with a third step: step 1 keeps its key; step 2 follows it.
        try rewrite(
            fixture,
            Self.winBack.replacingOccurrences(
                of: "  - send: { channel: sms, template: t }\n",
                with: "  - send: { channel: sms, template: t }\n  - wait: 2d\n  - send: { channel: push, template: t }\n"))
        #expect(try await commit(fixture, at: "2026-11-07T13:00:00Z") == ["inactivity:2026-10-01:30/1 sms 2026-11-07T13:00:00Z send"])
        #expect(
            try await fixture.plan(at: "2026-11-09T13:00:00Z").messages.map(Self.shown) == [
                "inactivity:2026-10-01:30/2 - 2026-11-09T13:00:00Z suppressed"
            ])
    }

    @Test("with a split, each variant's journey follows its own waits; a holdout has no follow-up; the recorded variant is kept")
    func splitJourneys() async throws {
        func workflow(slowWeight: Int) -> String {
            """
            id: w
            trigger:
              signup: {}
            actions:
              - split:
                  fast: { weight: 1, then: [ { send: { channel: email, template: t } }, { wait: 1d }, { send: { channel: sms, template: t } } ] }
                  slow: { weight: \(slowWeight), then: [ { send: { channel: email, template: t } }, { wait: 3d }, { send: { channel: sms, template: t } } ] }
                  control: { weight: 1 }
            catch_up: 12h
            """
        }
        let fixture = try Fixture(workflows: ["w.yaml": workflow(slowWeight: 1)])
        for n in 1...30 { try fixture.add("c\(n)", signedUp: "2026-11-01T10:00:00Z", phone: "+1415555\(1000 + n)") }
        let first = try await commit(fixture, at: "2026-11-01T10:00:00Z")
        #expect(first.count == 30)
        let project = try fixture.project()
        let day1 = try await fixture.plan(at: "2026-11-02T10:00:00Z").messages
        let day3 = try await fixture.plan(at: "2026-11-04T10:00:00Z").messages
        let split = try #require(project.workflow(id: "w")?.split)
        let byVariant = Dictionary(grouping: (1...30).map { "c\($0)" }) { split.variant(workflowID: "w", customerID: $0).name }
        #expect(Set(day1.map(\.customerID)) == Set(byVariant["fast"] ?? []))
        #expect(Set(day3.map(\.customerID)) == Set(byVariant["slow"] ?? []))
        #expect((day1 + day3).allSatisfy { $0.occurrence == "signup/1" && $0.channel == .sms && $0.step == 1 })
        #expect(day1.allSatisfy { $0.variant == "fast" } && day3.allSatisfy { $0.variant == "slow" })
        // Weights changed after the draw: the journeys keep the variant the ledger recorded.
        try rewrite(fixture, workflow(slowWeight: 100))
        #expect(Set(try await fixture.plan(at: "2026-11-02T10:00:00Z").messages.map(\.customerID)) == Set(byVariant["fast"] ?? []))
    }
}

@Suite("Journeys in the workflow language")
struct JourneyLanguageTests {
    func parse(_ actions: String, extra: String = "") -> (Workflow?, [String]) {
        var diagnostics = Diagnostics()
        let workflow = WorkflowParser.parse(
            "id: x\ntrigger:\n  signup: {}\nactions:\n" + actions + extra, file: "x.yaml", channels: [.email, .sms],
            diagnostics: &diagnostics)
        return (workflow, diagnostics.all.map { "\($0.location.line):\($0.location.column): \($0.message)" })
    }

    @Test("steps, their offsets, conditions and sends are read in order")
    func steps() throws {
        let (workflow, problems) = parse(
            """
              - send: { channel: email, template: a }
              - wait: 2d
              - when: customer.visits_total == 0
              - send: { channel: sms, template: b }
              - send: { channel: email, template: c }
              - wait: 12h
              - send: { channel: email, template: d }
            """, extra: "\nexit_when: customer.visits_30d > 0\n")
        #expect(problems.isEmpty)
        let steps = try #require(workflow?.steps)
        #expect(steps.map(\.index) == [0, 1, 2])
        #expect(steps.map(\.offset) == [0, 172_800, 216_000])
        #expect(steps.map(\.actions) == [0..<1, 1..<3, 3..<4])
        #expect(steps.map { $0.conditions.map(\.text) } == [[], ["customer.visits_total == 0"], []])
        #expect(workflow?.exitConditions.map(\.text) == ["customer.visits_30d > 0"])
        #expect(workflow?.hasFollowUps == true)
    }

    @Test(
        "a journey's mistakes are reported where they are written",
        arguments: [
            ("  - wait: 2d\n  - send: { channel: email, template: a }\n", "5:5: a wait must come after a send: step 0 sends nothing"),
            ("  - send: { channel: email, template: a }\n  - wait: 2d\n", "6:5: a wait must be followed by a send: step 1 sends nothing"),
            ("  - send: { channel: email, template: a }\n  - wait: soon\n  - send: { channel: email, template: b }\n", "6:11: 'wait' must be a positive duration such as 2h, 3d or 1w (at most a year), not 'soon'"),
            ("  - send: { channel: email, template: a }\n  - wait: 1d\n  - when: customer.nope > 1\n  - send: { channel: email, template: b }\n", "7:11: unknown field 'customer.nope'"),
            ("  - when: customer.visits_total > 1\n", "5:3: 'actions' has no send: a workflow needs at least one"),
            ("  - send: { channel: email, template: a }\n  - wiat: 1d\n", "6:5: unknown action 'wiat'"),
        ])
    func mistakes(actions: String, problem: String) {
        let (workflow, problems) = parse(actions)
        #expect(workflow == nil)
        #expect(problems.first?.hasPrefix(problem) == true, "\(problems)")
    }
}

extension JourneyTests {
    @Test("check --db warns when a change renumbers the steps of journeys in flight, not when steps are added at the end")
    func renumbered() async throws {
        let journey = Self.winBack.replacingOccurrences(of: "channel: sms, template: t", with: "channel: sms, template: u")
        let fixture = try Fixture(workflows: ["w.yaml": journey], templates: ["t", "u", "v"])
        try fixture.add("c1", zone: "America/New_York", phone: "+14155550100", visits: ["2026-10-01T12:00:00Z"])
        _ = try await commit(fixture, at: "2026-10-31T13:00:00Z")
        _ = try await commit(fixture, at: "2026-11-07T13:00:00Z")
        func warnings(at now: String = "2026-11-08T13:00:00Z") async throws -> [String] {
            let project = try fixture.project()
            let instant = try #require(ISO8601.parse(now, zone: project.config.timeZone))
            return try await Planner(project: project, store: fixture.database).renumberedSteps(now: instant)
                .map { "\($0.location.line): \($0.message)" }
        }
        #expect(try await warnings().isEmpty)
        // A step added at the end keeps the numbers.
        try rewrite(
            fixture,
            journey.replacingOccurrences(
                of: "  - send: { channel: sms, template: u }\n",
                with: "  - send: { channel: sms, template: u }\n  - wait: 2d\n  - send: { channel: email, template: v }\n"))
        #expect(try await warnings().isEmpty)
        // A step inserted before the SMS moves it from step 1 to step 2.
        try rewrite(
            fixture,
            journey.replacingOccurrences(
                of: "  - wait: 7d\n", with: "  - wait: 2d\n  - send: { channel: email, template: v }\n  - wait: 5d\n"))
        #expect(
            try await warnings() == [
                "10: journeys in flight had template 'u' as step 1 of 'w', which now sends it as step 2: they take the steps by their new numbers, so one may be skipped or sent again"
            ])
        // Once those journeys are past their last step and catch-up, there is nothing in flight to warn about.
        #expect(try await warnings(at: "2026-12-31T13:00:00Z").isEmpty)
    }
}

extension JourneyLanguageTests {
    @Test("a send with an error before a wait is reported once, not again as a step without a send")
    func noCascade() {
        let (workflow, problems) = parse("  - send: { channel: fax, template: a }\n  - wait: 1d\n  - send: { channel: sms, template: b }\n")
        #expect(workflow == nil)
        #expect(problems == ["5:22: unknown channel 'fax'"], "\(problems)")
    }
}
