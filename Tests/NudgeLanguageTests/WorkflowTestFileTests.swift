import Foundation
import Testing

@testable import NudgeLanguage
import NudgeCore

/// Parses a test file as `Workflows/x.test.yaml` (instants read in Lisbon) and returns it and the sorted diagnostics.
private func parse(_ text: String) -> (file: WorkflowTestFile?, diagnostics: [String]) {
    var diagnostics = Diagnostics()
    let file = WorkflowTestFile.parse(
        text, file: "Workflows/x.test.yaml", zone: TimeZone(identifier: "Europe/Lisbon")!, diagnostics: &diagnostics)
    return (file, diagnostics.sorted.map(\.description))
}

@Suite("Workflow test files")
struct WorkflowTestFileTests {
    @Test("reads rows, tests, steps and expectations with their lines")
    func validFile() throws {
        let (file, diagnostics) = parse(
            """
            customers:
              - { id: c1, name: Ana, email: ana@example.com, email_opt_in: true, signed_up_at: 2026-01-01, tags: [vip, "a b"] }
            visits:
              - { customer_id: c1, visited_at: 2026-09-20T10:00:00Z, amount: 4.50 }
            offers: []
            progress:
            tests:
              - name: thirty quiet days
                steps:
                  - at: 2026-10-20T09:30:00
                    expect:
                      - { workflow: win-back, channel: null, subject_contains: "miss you" }
                  - visits: [ { customer_id: c1, visited_at: 2026-10-22T08:00:00Z } ]
                  - at: 2026-11-21T09:30:00Z
                    expect: [ { customer: c1 } ]
                    partial: yes
            """)
        #expect(diagnostics.isEmpty)
        let parsed = try #require(file)
        let customer = try #require(parsed.data.rows[.customers]?.first)
        #expect(customer.location.line == 2)
        #expect(customer.cells.map(\.column) == ["id", "name", "email", "email_opt_in", "signed_up_at", "tags"])
        #expect(customer.cells.last?.value == "vip;a b")
        #expect(parsed.data.rows[.visits]?.first?.cells.last?.value == "4.50")
        #expect(parsed.data.rows[.offers]?.isEmpty == true)
        let test = try #require(parsed.tests.first)
        #expect(test.name == "thirty quiet days" && test.location.line == 8)
        #expect(test.steps.count == 3)
        // An instant without an offset is read in the zone given (Lisbon, summer time: UTC+1).
        #expect(test.steps[0].at?.instant == ISO8601.parse("2026-10-20T08:30:00Z", zone: .gmt))
        #expect(test.steps[0].at?.location.line == 10)
        let expected = try #require(test.steps[0].expect.first)
        #expect(expected.location.line == 12)
        #expect(expected.keys.map(\.key) == ["workflow", "channel", "subject_contains"])
        #expect(expected.keys[1].value == nil)
        #expect(test.steps[1].at == nil && test.steps[1].data.rows[.visits]?.count == 1)
        #expect(test.steps[2].partial && test.steps[2].expect.count == 1)
    }

    @Test("every mistake is an error at its place, with a suggestion where one fits")
    func errors() {
        let (file, diagnostics) = parse(
            """
            customer:
              - { id: c1 }
            visits: { customer_id: c1 }
            tests:
              - name: one
                steps:
                  - at: tomorrow
                    expect: []
                  - at: 2026-10-20T09:30:00Z
                  - at: 2026-10-19T09:30:00Z
                    expect:
                      - { workflow: w, subjet_contains: x, due: soon }
                  - expect: []
                  - {}
              - name: one
                steps:
                  - visits: []
            """)
        #expect(file == nil)
        #expect(
            diagnostics == [
                "Workflows/x.test.yaml:1:1: error: unknown key 'customer' in a test file (did you mean 'customers'?)",
                "Workflows/x.test.yaml:3:9: error: 'visits' must be a list of rows, not a mapping",
                "Workflows/x.test.yaml:7:13: error: 'at' must be an ISO 8601 instant such as 2026-10-20T09:30:00+01:00, not 'tomorrow'",
                "Workflows/x.test.yaml:9:13: error: a step with 'at' needs 'expect': the messages its run must plan (write 'expect: []' when the run must plan nothing)",
                "Workflows/x.test.yaml:10:13: error: steps go forward in time: 2026-10-19T09:30:00Z is before the step at line 9",
                "Workflows/x.test.yaml:12:28: error: unknown key 'subjet_contains' in an expected message (did you mean 'subject_contains'?)",
                "Workflows/x.test.yaml:12:53: error: 'due' must be an ISO 8601 instant, not 'soon'",
                "Workflows/x.test.yaml:13:9: error: 'expect' needs 'at' in the same step: the instant of the run",
                "Workflows/x.test.yaml:14:9: error: an empty step (give 'at' and 'expect', or rows of customers, offers, visits, progress)",
                "Workflows/x.test.yaml:15:11: error: a second test named 'one' (first at line 5)",
                "Workflows/x.test.yaml:17:7: error: test 'one' has no step with 'at': nothing would run (add a step such as { at: 2026-10-20T09:30:00Z, expect: [] })",
            ], "\(diagnostics.joined(separator: "\n"))")
    }

    @Test("a file without tests, a row that is not a mapping and a nested value are errors")
    func shapes() {
        #expect(parse("customers: []\n").diagnostics == ["Workflows/x.test.yaml:1:1: error: missing key 'tests' in a test file"])
        let (_, diagnostics) = parse(
            """
            customers:
              - c1
              - { id: c2, attributes: { a: 1 } }
            tests: []
            """)
        #expect(
            diagnostics == [
                "Workflows/x.test.yaml:2:5: error: a row of 'customers' must be a mapping of its columns, not a scalar (write it as { column: value, … } with the columns of 'nudge import customers')",
                "Workflows/x.test.yaml:3:27: error: 'attributes' must be a single value, not a mapping (only 'tags' may be a list)",
                "Workflows/x.test.yaml:4:8: error: 'tests' is empty",
            ], "\(diagnostics.joined(separator: "\n"))")
    }

    @Test("a workflow given as a test file is one error; partial with nothing expected checks nothing")
    func mistakes() {
        #expect(
            parse("id: w\ntrigger: { signup: {} }\nactions: []\n").diagnostics == [
                "Workflows/x.test.yaml:1:1: error: this is a workflow, not a test file (tests go in a file of their own, NAME.test.yaml, with customers, visits, offers, progress and tests)"
            ])
        #expect(
            parse("tests:\n  - name: t\n    steps:\n      - { at: 2026-10-20T09:30:00Z, expect: [], partial: true }\n").diagnostics == [
                "Workflows/x.test.yaml:4:49: error: 'partial: true' with 'expect: []' checks nothing (list the messages the run must plan, or drop 'partial' to expect none)"
            ])
        #expect(parse("tests:\n  - name: t\n    steps:\n      - { at: 2026-10-20T09:30:00Z, expect: [], partial: false }\n").diagnostics.isEmpty)
    }

    @Test("test files are told apart from workflows by their name")
    func names() {
        #expect(WorkflowTestFile.isTestFile("win-back.test.yaml"))
        #expect(WorkflowTestFile.isTestFile("win-back.test.yml"))
        #expect(!WorkflowTestFile.isTestFile("win-back.yaml"))
        #expect(!WorkflowTestFile.isTestFile("test.yaml"))
    }
}
