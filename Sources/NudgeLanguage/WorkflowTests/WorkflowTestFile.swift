public import Foundation
import NudgeCore

/// A workflow test file (`Workflows/*.test.yaml`): customer state as rows with the import's columns, and tests that
/// run the project at given instants and say which messages each run must plan.
public struct WorkflowTestFile: Sendable {
    /// The file as shown in messages.
    public var file: String
    /// The state every test starts from.
    public var data: TestData
    public var tests: [WorkflowTest]

    /// The file names `nudge test` finds under `Workflows/` (and the workflow loader skips).
    public static func isTestFile(_ name: String) -> Bool {
        name.hasSuffix(".test.yaml") || name.hasSuffix(".test.yml")
    }
}

/// Rows of customer state, by the import kind they are validated as.
public struct TestData: Sendable {
    /// The kinds in the order they are applied: a visit needs its customer, a stamp card its offer.
    public enum Kind: String, Sendable, CaseIterable {
        case customers, offers, visits, progress
    }

    public var rows: [Kind: [TestRow]] = [:]

    public init() {}

    public var isEmpty: Bool { rows.values.allSatisfy(\.isEmpty) }
}

/// One row: the CSV columns as keys. A value is the cell's text (nil for an empty cell).
public struct TestRow: Sendable {
    public var location: SourceLocation
    /// Each cell: its column (and where the key is written), its value (and where it is written).
    public var cells: [(column: String, value: String?, location: SourceLocation, columnLocation: SourceLocation)]
}

/// One test: a name and its steps, run in order on a fresh database holding the file's data.
public struct WorkflowTest: Sendable {
    public var name: String
    public var location: SourceLocation
    public var steps: [TestStep]
}

/// A step: rows to upsert, then (when `at` is given) a run at that instant whose plan must match `expect`.
public struct TestStep: Sendable {
    public var location: SourceLocation
    public var data = TestData()
    /// The run's instant, as written and as read.
    public var at: (text: String, instant: Date, location: SourceLocation)?
    public var expect: [Expectation] = []
    /// Whether the plan may hold messages the list does not name.
    public var partial = false
}

/// One expected message: every key it gives must match the planned message.
public struct Expectation: Sendable {
    public var location: SourceLocation
    /// Keys in the order written; a nil value expects the key to be null (or absent).
    public var keys: [(key: String, value: String?, location: SourceLocation)]

    /// The keys of a dry-run JSON line an expectation may name.
    public static let planKeys = [
        "workflow", "customer", "occurrence", "channel", "template", "due", "status", "reason", "to", "platform",
        "variant", "send_after", "segments", "encoding", "subject", "title", "header", "body", "text",
    ]
    /// Keys that match when the message's value contains the given text.
    public static let containsKeys = ["subject_contains", "title_contains", "header_contains", "body_contains", "text_contains", "reason_contains"]
}

extension WorkflowTestFile {
    /// Parses a test file; instants without an offset are read in `zone`. Returns nil when it has errors (all in
    /// `diagnostics`).
    public static func parse(_ text: String, file: String, zone: TimeZone, diagnostics: inout Diagnostics) -> WorkflowTestFile? {
        let (node, yamlDiagnostics) = YAMLReader.parse(text, file: file)
        diagnostics.append(contentsOf: yamlDiagnostics)
        guard let node else { return nil }
        let before = diagnostics.errorCount
        let kinds = TestData.Kind.allCases.map(\.rawValue)
        // A workflow given where a test file was meant: one error, not one per key.
        if let pairs = node.mapping, pairs.contains(where: { ["trigger", "actions"].contains($0.key.scalar ?? "") }),
            !pairs.contains(where: { $0.key.scalar == "tests" })
        {
            diagnostics.error(
                "this is a workflow, not a test file", at: node.location,
                suggestion: "tests go in a file of their own, NAME.test.yaml, with customers, visits, offers, progress and tests")
            return nil
        }
        guard let top = MappingReader(node, context: "a test file", allowed: kinds + ["tests"], diagnostics: &diagnostics)
        else { return nil }
        let parser = Parser(zone: zone)
        let data = parser.data(top, diagnostics: &diagnostics)
        var tests: [WorkflowTest] = []
        if let list = top.required("tests", context: "a test file", diagnostics: &diagnostics) {
            if let items = list.sequence {
                if items.isEmpty { diagnostics.error("'tests' is empty", at: list.location) }
                var names: [String: SourceLocation] = [:]
                for item in items {
                    guard let test = parser.test(item, diagnostics: &diagnostics) else { continue }
                    if let first = names[test.name] {
                        diagnostics.error("a second test named '\(test.name)' (first at line \(first.line))", at: test.location)
                    }
                    names[test.name] = test.location
                    tests.append(test)
                }
            } else {
                diagnostics.error("'tests' must be a list of tests, not \(list.kindName)", at: list.location)
            }
        }
        guard diagnostics.errorCount == before else { return nil }
        return WorkflowTestFile(file: file, data: data, tests: tests)
    }

    private struct Parser {
        var zone: TimeZone

        func data(_ mapping: MappingReader, diagnostics: inout Diagnostics) -> TestData {
            var data = TestData()
            for kind in TestData.Kind.allCases {
                guard let list = mapping[kind.rawValue] else { continue }
                if list.isNull { continue }
                guard let items = list.sequence else {
                    diagnostics.error("'\(kind.rawValue)' must be a list of rows, not \(list.kindName)", at: list.location)
                    continue
                }
                data.rows[kind] = items.compactMap { row($0, kind: kind, diagnostics: &diagnostics) }
            }
            return data
        }

        func row(_ node: YAMLNode, kind: TestData.Kind, diagnostics: inout Diagnostics) -> TestRow? {
            guard let pairs = node.mapping else {
                diagnostics.error(
                    "a row of '\(kind.rawValue)' must be a mapping of its columns, not \(node.kindName)", at: node.location,
                    suggestion: "write it as { column: value, … } with the columns of 'nudge import \(kind.rawValue)'")
                return nil
            }
            var cells: [(column: String, value: String?, location: SourceLocation, columnLocation: SourceLocation)] = []
            for (key, value) in pairs {
                guard let column = key.scalar, !column.isEmpty else {
                    diagnostics.error("a column name must be text", at: key.location)
                    continue
                }
                if value.isNull {
                    cells.append((column, nil, value.location, key.location))
                } else if let text = value.scalar {
                    cells.append((column, text, value.location, key.location))
                } else if let items = value.sequence, column == "tags" {
                    // Tags may be a YAML list; the CSV writes them `;`-separated.
                    var tags: [String] = []
                    for item in items {
                        guard let tag = item.scalar else {
                            diagnostics.error("a tag must be text, not \(item.kindName)", at: item.location)
                            continue
                        }
                        tags.append(tag)
                    }
                    cells.append((column, tags.joined(separator: ";"), value.location, key.location))
                } else {
                    diagnostics.error(
                        "'\(column)' must be a single value, not \(value.kindName)", at: value.location,
                        suggestion: column == "tags" ? nil : "only 'tags' may be a list")
                }
            }
            return TestRow(location: node.location, cells: cells)
        }

        func test(_ node: YAMLNode, diagnostics: inout Diagnostics) -> WorkflowTest? {
            guard let test = MappingReader(node, context: "a test", allowed: ["name", "steps"], diagnostics: &diagnostics)
            else { return nil }
            guard let name = test.required("name", context: "a test", diagnostics: &diagnostics) else { return nil }
            guard let nameText = name.scalar, !nameText.isEmpty else {
                diagnostics.error("a test's name must be text", at: name.location)
                return nil
            }
            guard let stepsNode = test.required("steps", context: "test '\(nameText)'", diagnostics: &diagnostics) else { return nil }
            guard let items = stepsNode.sequence, !items.isEmpty else {
                diagnostics.error("'steps' must be a list of at least one step", at: stepsNode.location)
                return nil
            }
            var steps: [TestStep] = []
            var last: (instant: Date, location: SourceLocation)?
            for item in items {
                guard let step = step(item, diagnostics: &diagnostics) else { continue }
                if let at = step.at {
                    if let last, at.instant < last.instant {
                        diagnostics.error(
                            "steps go forward in time: \(at.text) is before the step at line \(last.location.line)", at: at.location)
                    }
                    last = (at.instant, at.location)
                }
                steps.append(step)
            }
            if !steps.contains(where: { $0.at != nil }) {
                diagnostics.error(
                    "test '\(nameText)' has no step with 'at': nothing would run", at: stepsNode.location,
                    suggestion: "add a step such as { at: 2026-10-20T09:30:00Z, expect: [] }")
            }
            return WorkflowTest(name: nameText, location: name.location, steps: steps)
        }

        func step(_ node: YAMLNode, diagnostics: inout Diagnostics) -> TestStep? {
            let kinds = TestData.Kind.allCases.map(\.rawValue)
            guard
                let mapping = MappingReader(
                    node, context: "a step", allowed: ["at", "expect", "partial"] + kinds, diagnostics: &diagnostics)
            else { return nil }
            var step = TestStep(location: node.location)
            step.data = data(mapping, diagnostics: &diagnostics)
            if let atNode = mapping["at"] {
                if let text = atNode.scalar, let instant = ISO8601.parse(text, zone: zone) {
                    step.at = (text, instant, atNode.location)
                } else {
                    diagnostics.error(
                        "'at' must be an ISO 8601 instant such as 2026-10-20T09:30:00+01:00, not '\(atNode)'", at: atNode.location)
                }
                if let expect = mapping["expect"] {
                    if let items = expect.sequence {
                        step.expect = items.compactMap { expectation($0, diagnostics: &diagnostics) }
                    } else {
                        diagnostics.error("'expect' must be a list of messages ([] for none), not \(expect.kindName)", at: expect.location)
                    }
                } else {
                    diagnostics.error(
                        "a step with 'at' needs 'expect': the messages its run must plan", at: atNode.location,
                        suggestion: "write 'expect: []' when the run must plan nothing")
                }
                step.partial = mapping.bool("partial", diagnostics: &diagnostics) ?? false
                if step.partial, step.expect.isEmpty, let partial = mapping.values["partial"], mapping["expect"]?.sequence?.isEmpty == true {
                    diagnostics.error(
                        "'partial: true' with 'expect: []' checks nothing", at: partial.key.location,
                        suggestion: "list the messages the run must plan, or drop 'partial' to expect none")
                }
            } else {
                for key in ["expect", "partial"] {
                    if let value = mapping.values[key] {
                        diagnostics.error("'\(key)' needs 'at' in the same step: the instant of the run", at: value.key.location)
                    }
                }
                if mapping.values.isEmpty {
                    diagnostics.error(
                        "an empty step", at: node.location,
                        suggestion: "give 'at' and 'expect', or rows of \(kinds.joined(separator: ", "))")
                }
            }
            return step
        }

        func expectation(_ node: YAMLNode, diagnostics: inout Diagnostics) -> Expectation? {
            guard let pairs = node.mapping else {
                diagnostics.error("an expected message must be a mapping of keys to match, not \(node.kindName)", at: node.location)
                return nil
            }
            let allowed = Expectation.planKeys + Expectation.containsKeys
            var keys: [(key: String, value: String?, location: SourceLocation)] = []
            for (key, value) in pairs {
                guard let name = key.scalar, allowed.contains(name) else {
                    diagnostics.error(
                        "unknown key '\(key)' in an expected message", at: key.location,
                        suggestion: Suggestion.didYouMean(key.description, in: allowed) ?? "keys are those of 'dry-run --format json', and \(Expectation.containsKeys.joined(separator: ", "))")
                    continue
                }
                if value.isNull {
                    if name.hasSuffix("_contains") {
                        diagnostics.error("'\(name)' needs text", at: value.location)
                        continue
                    }
                    keys.append((name, nil, value.location))
                } else if let text = value.scalar {
                    if name == "due" || name == "send_after", ISO8601.parse(text, zone: zone) == nil {
                        diagnostics.error("'\(name)' must be an ISO 8601 instant, not '\(text)'", at: value.location)
                        continue
                    }
                    keys.append((name, text, value.location))
                } else {
                    diagnostics.error("'\(name)' must be a single value, not \(value.kindName)", at: value.location)
                }
            }
            return Expectation(location: node.location, keys: keys)
        }
    }
}
