import Foundation
import Logging
import NudgeEngine
import NudgeLanguage
import NudgeProviders
import Testing

@testable import NudgeDelivery

/// A project with one win-back workflow (30 quiet days; email, else SMS; not for staff), a cap of one SMS a week,
/// and its test file `Workflows/win-back.test.yaml` holding `tests` after the rows below.
private struct TestProject {
    let root: URL
    let project: Project

    static let rows = """
        customers:
          - { id: ana, name: Ana Silva, email: ana@example.com, email_opt_in: true, signed_up_at: 2026-01-01 }
          - { id: bo, name: Bo, email: bo@example.com, email_opt_in: true, signed_up_at: 2026-01-01, tags: [staff] }
          - { id: cy, name: Cy, email: cy@example.com, signed_up_at: 2026-01-01 }
          - { id: di, name: Di, phone: "+15551230001", sms_opt_in: true, signed_up_at: 2026-01-01 }
        visits:
          - { customer_id: ana, visited_at: 2026-09-20T10:00:00Z, amount: 4.50 }
          - { customer_id: bo, visited_at: 2026-09-20T10:00:00Z }
          - { customer_id: cy, visited_at: 2026-09-20T10:00:00Z }

        """

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("nudge-wt-\(UUID().uuidString)")
        let files = [
            "nudge.yaml": """
                business: { name: Test Café, timezone: UTC }
                send_at: "09:00"
                channels:
                  email: { provider: file, path: outbox/email.jsonl }
                  sms: { provider: file, path: outbox/sms.jsonl }
                policy:
                  caps:
                    - { channel: sms, max: 1, per: 7d }
                """,
            "Workflows/win-back.yaml": """
                id: win-back
                trigger:
                  inactivity: { days: [30, 31] }
                when:
                  - customer.visits_total >= 1
                  - not ("staff" in customer.tags)
                actions:
                  - send: { channel: [email, sms], template: win-back }
                """,
            "Templates/win-back.email.mustache": "---\nsubject: We miss you, {{customer.first_name}}\n---\n<p>Come back soon.</p>\n",
            "Templates/win-back.sms.mustache": "We miss you, {{customer.first_name}}!\n",
        ]
        for (path, text) in files {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        let (project, diagnostics) = Project.load(directory: root.path, displayPrefix: "", providers: Providers.catalog)
        self.project = try #require(project, "\(diagnostics)")
    }

    /// Runs `text` (rows and tests) as `Workflows/win-back.test.yaml`.
    func run(_ text: String, include: (String) -> Bool = { _ in true }) async throws -> [WorkflowTestResult] {
        var diagnostics = Diagnostics()
        let file = try #require(
            WorkflowTestFile.parse(text, file: "Workflows/win-back.test.yaml", zone: .gmt, diagnostics: &diagnostics),
            "\(diagnostics.sorted)")
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return await WorkflowTestRunner(project: project, environment: [:], logger: logger).run(file, include: include)
    }
}

@Suite("Workflow tests (nudge test)")
struct WorkflowTestRunnerTests {
    @Test("a run per step: consent, staff, the ledger between steps, state changes, SMS caps")
    func passing() async throws {
        let project = try TestProject()
        let results = try await project.run(
            TestProject.rows + """
                tests:
                  - name: thirty quiet days bring one message, once
                    steps:
                      - at: 2026-10-20T09:30:00Z
                        expect:
                          - { workflow: win-back, customer: ana, channel: email, occurrence: "inactivity:2026-09-20:30",
                              subject_contains: "miss you", to: ana@example.com, due: "2026-10-20T09:00:00Z", status: send }
                          - { customer: cy, channel: null, status: suppressed, reason_contains: "not opted in to email" }
                      - at: 2026-10-20T12:00:00Z
                        expect: []
                      - visits: [ { customer_id: ana, visited_at: 2026-10-22T08:00:00Z } ]
                      - at: 2026-10-21T09:30:00Z
                        expect: [ { customer: cy, occurrence: "inactivity:2026-09-20:31", status: suppressed } ]
                      - at: 2026-11-21T09:30:00Z
                        expect:
                          - { customer: ana, occurrence: "inactivity:2026-10-22:30", channel: email }
                  - name: staff who leave the staff get their message; SMS is capped at one a week
                    steps:
                      - customers: [ { id: bo, signed_up_at: 2026-01-01, tags: "" } ]
                      - visits: [ { customer_id: di, visited_at: 2026-09-20T10:00:00Z } ]
                      - at: 2026-10-20T09:30:00Z
                        partial: true
                        expect:
                          - { customer: bo, channel: email }
                          - { customer: di, channel: sms, body: "We miss you, Di!\\n" }
                      - at: 2026-10-21T09:30:00Z
                        partial: true
                        expect: [ { customer: di, status: suppressed, reason_contains: "cap" } ]
                """)
        #expect(results.count == 2)
        for result in results {
            #expect(result.passed, "\(result.name): \(result.outcome)")
        }
        #expect(results.map(\.steps) == [4, 2])
        #expect(results[0].location.line == 11)
    }

    @Test("a step that plans other messages fails with the step's line, both sides and the closest match")
    func failing() async throws {
        let project = try TestProject()
        let results = try await project.run(
            TestProject.rows + """
                tests:
                  - name: wrong channel
                    steps:
                      - at: 2026-10-20T09:30:00Z
                        expect:
                          - { customer: ana, channel: sms }
                  - name: one missing, one extra
                    steps:
                      - at: 2026-10-20T09:30:00Z
                        expect: [ { customer: ana } ]
                """)
        guard case .failed(let first) = results[0].outcome, case .failed(let second) = results[1].outcome else {
            Issue.record("both tests must fail: \(results.map(\.outcome))")
            return
        }
        let lines = first.split(separator: "\n").map(String.init)
        #expect(
            lines[0]
                == "Workflows/win-back.test.yaml:13: test 'wrong channel', step at 2026-10-20T09:30:00Z: expected 1 message, got 2 messages")
        #expect(lines[1] == "  not planned (line 15): { customer: \"ana\", channel: \"sms\" }")
        #expect(lines[2].hasPrefix("    closest: win-back  ana  email  send  inactivity:2026-09-20:30"))
        #expect(lines[2].hasSuffix(": channel is \"email\", not \"sms\""))
        #expect(lines.contains("  not expected: win-back  ana  email  send  inactivity:2026-09-20:30  \"We miss you, Ana\""))
        #expect(lines.contains { $0.hasPrefix("    win-back  cy  -  suppressed") })
        #expect(second.contains("not expected: win-back  cy  -  suppressed"))
        #expect(!second.contains("not planned"))
    }

    @Test("rows the import refuses are errors at their line in the test file")
    func badRows() async throws {
        let project = try TestProject()
        let results = try await project.run(
            """
            customers:
              - { id: ana, signed_up_at: 2026-01-01 }
              - { id: bo, signed_up_at: 2026-01-01, email_opt_in: maybe }
            visits:
              - { customer_id: nobody, visited_at: 2026-09-20T10:00:00Z }
            tests:
              - name: bad rows
                steps:
                  - at: 2026-10-20T09:30:00Z
                    expect: []
              - name: a bad column in a step
                steps:
                  - visits: [ { customer_id: ana, visited_at: 2026-09-20T10:00:00Z, amout: 3 } ]
                  - at: 2026-10-20T09:30:00Z
                    expect: []
            """)
        guard case .error(let rows) = results[0].outcome else {
            Issue.record("the file's rows must be refused: \(results[0].outcome)")
            return
        }
        #expect(rows == "Workflows/win-back.test.yaml:3:55: error: customers: 'email_opt_in' must be true/false/1/0/yes/no, not 'maybe'", "\(rows)")
        guard case .error(let column) = results[1].outcome else {
            Issue.record("the step's rows must be refused: \(results[1].outcome)")
            return
        }
        // The customers were refused first, so the second test stops at the same rows.
        #expect(column == rows)

        let fixed = try await project.run(
            """
            customers:
              - { id: ana, signed_up_at: 2026-01-01 }
            tests:
              - name: a bad column in a step
                steps:
                  - visits: [ { customer_id: ana, visited_at: 2026-09-20T10:00:00Z, amout: 3 } ]
                  - at: 2026-10-20T09:30:00Z
                    expect: []
              - name: an unknown customer
                steps:
                  - visits: [ { customer_id: nobody, visited_at: 2026-09-20T10:00:00Z } ]
                  - at: 2026-10-20T09:30:00Z
                    expect: []
            """)
        guard case .error(let header) = fixed[0].outcome, case .error(let unknown) = fixed[1].outcome else {
            Issue.record("both must be refused: \(fixed.map(\.outcome))")
            return
        }
        #expect(
            header == "Workflows/win-back.test.yaml:6:73: error: visits: unknown column 'amout' for visits (did you mean 'amount'?)",
            "\(header)")
        #expect(
            unknown == "Workflows/win-back.test.yaml:11:34: error: visits: unknown customer 'nobody' (import customers first)",
            "\(unknown)")
    }

    @Test("--run picks tests by name")
    func include() async throws {
        let project = try TestProject()
        let results = try await project.run(
            TestProject.rows + """
                tests:
                  - name: first
                    steps: [ { at: 2026-10-01T09:30:00Z, expect: [] } ]
                  - name: second
                    steps: [ { at: 2026-10-01T09:30:00Z, expect: [] } ]
                """, include: { $0 == "second" })
        #expect(results.map(\.name) == ["second"])
        #expect(results.allSatisfy { $0.passed })
    }

    @Test("each expectation pairs with its own planned message, even where the first fit would take another's")
    func pairing() {
        // Expectation 0 fits both messages, expectation 1 only the first: a first-fit pairing would fail.
        #expect(WorkflowTestRunner.pairing([[true, true], [true, false]], right: 2) == [1, 0])
        #expect(WorkflowTestRunner.pairing([[true], [true]], right: 1) == [0, nil])
        #expect(WorkflowTestRunner.pairing([[false, false]], right: 2) == [nil])
    }
}
