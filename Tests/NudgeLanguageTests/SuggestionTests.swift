import Foundation
import Testing

@testable import NudgeLanguage

@Suite("Suggestions")
struct SuggestionTests {
    @Test(
        "measures Levenshtein distance over Unicode scalars",
        arguments: [
            ("kitten", "sitting", 3), ("", "abc", 3), ("abc", "", 3), ("", "", 0), ("abc", "abc", 0),
            ("tigger", "trigger", 1), ("birthdy", "birthday", 1), ("emial", "email", 2), ("flaw", "lawn", 2),
            ("café", "cafe", 1), ("☕", "🍵", 1), ("ab", "ba", 2), ("Send", "send", 1),
        ]
    )
    func editDistance(a: String, b: String, distance: Int) {
        #expect(Suggestion.editDistance(a, b) == distance)
        #expect(Suggestion.editDistance(b, a) == distance)
    }

    @Test(
        "suggests the closest candidate when it is a likely typo",
        arguments: [
            ("tigger", ["id", "name", "trigger", "when"], "trigger"),
            ("TRIGER", ["trigger"], "trigger"),
            ("emial", ["email", "sms", "push", "wallet"], "email"),
            ("customer.visit_total", ["customer.visits_total", "customer.visits_30d"], "customer.visits_total"),
            ("xyz", ["trigger"], nil),
            ("foo", [], nil),
            ("sms", ["sns", "smx"], "sns"),
        ] as [(String, [String], String?)]
    )
    func closest(name: String, candidates: [String], expected: String?) {
        #expect(Suggestion.closest(to: name, in: candidates) == expected)
    }

    @Test("allows at least two edits, and a third of the shorter name's length for long names")
    func closeEnough() {
        #expect(Suggestion.closest(to: "ab", in: ["xy"]) == "xy")
        #expect(Suggestion.closest(to: "abc", in: ["xyz"]) == nil)
        #expect(Suggestion.closest(to: "abcdefghi", in: ["abcxyzghi"]) == "abcxyzghi")
        #expect(Suggestion.closest(to: "abcdefghi", in: ["axxxxfghi"]) == nil)
    }

    @Test("phrases a did-you-mean, or lists the valid names when none is close")
    func didYouMean() {
        #expect(Suggestion.didYouMean("tigger", in: ["trigger", "when"]) == "did you mean 'trigger'?")
        #expect(Suggestion.didYouMean("zzz", in: ["when", "id"]) == "expected one of: id, when")
        #expect(Suggestion.didYouMean("zzz", in: ["when", "id"], listing: false) == nil)
        #expect(Suggestion.didYouMean("zzz", in: []) == nil)
        #expect(Suggestion.didYouMean("zzz", in: (1...17).map { "name\($0)" }) == nil)
    }
}

@Suite("Diagnostics")
struct DiagnosticsTests {
    @Test("prints compiler-style, leaving out what is unknown")
    func printing() {
        #expect(
            Diagnostic.error("bad", at: SourceLocation(file: "a.yaml", line: 3, column: 7), suggestion: "fix it")
                .description
                == "a.yaml:3:7: error: bad (fix it)")
        #expect(
            Diagnostic.warning("meh", at: SourceLocation(file: "a.yaml", line: 3)).description
                == "a.yaml:3: warning: meh")
        #expect(Diagnostic.error("gone", at: SourceLocation(file: "a.yaml")).description == "a.yaml: error: gone")
        #expect(
            SourceLocation(file: "f", line: 2, column: 3).advanced(by: 4)
                == SourceLocation(file: "f", line: 2, column: 7))
    }

    @Test("sorts by file, line and column, and drops duplicates")
    func sorting() {
        var diagnostics = Diagnostics()
        diagnostics.error("b", at: SourceLocation(file: "b.yaml", line: 1, column: 1))
        diagnostics.error("z", at: SourceLocation(file: "a.yaml", line: 10, column: 1))
        diagnostics.error("y", at: SourceLocation(file: "a.yaml", line: 2, column: 5))
        diagnostics.error("x", at: SourceLocation(file: "a.yaml", line: 2, column: 5))
        diagnostics.error("w", at: SourceLocation(file: "a.yaml", line: 2, column: 1))
        diagnostics.error("z", at: SourceLocation(file: "a.yaml", line: 10, column: 1))
        #expect(diagnostics.all.count == 6)
        #expect(diagnostics.sorted.map(\.message) == ["w", "x", "y", "z", "b"])
    }

    @Test("has errors only when an error, not just a warning, was found")
    func hasErrors() {
        var diagnostics = Diagnostics()
        #expect(!diagnostics.hasErrors)
        diagnostics.warning("careful", at: SourceLocation(file: "a"))
        #expect(!diagnostics.hasErrors)
        diagnostics.error("broken", at: SourceLocation(file: "a"))
        #expect(diagnostics.hasErrors)
        #expect(ProjectError(diagnostics: diagnostics.sorted).description == "a: error: broken\na: warning: careful")
    }

    @Test("encodes to JSON with flat location keys and decodes back")
    func json() throws {
        let diagnostic = Diagnostic.error(
            "bad", at: SourceLocation(file: "a.yaml", line: 3, column: 7), suggestion: "fix")
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let data = try encoder.encode(diagnostic)
        #expect(
            String(decoding: data, as: UTF8.self)
                == #"{"column":7,"file":"a.yaml","line":3,"message":"bad","severity":"error","suggestion":"fix"}"#)
        #expect(try JSONDecoder().decode(Diagnostic.self, from: data) == diagnostic)
    }
}

@Suite("YAML reader")
struct YAMLReaderTests {
    @Test("keeps 1-based lines and columns and the scalar style")
    func locations() throws {
        let (parsed, diagnostics) = YAMLReader.parse(
            "a: plain\nb: 'single'\nc: \"double\"\nd:\n  - x\n", file: "f.yaml")
        #expect(diagnostics.isEmpty)
        let node = try #require(parsed)
        let pairs = try #require(node.mapping)
        #expect(pairs.map(\.key.description) == ["a", "b", "c", "d"])
        #expect(pairs.map(\.value.location.description) == ["f.yaml:1:4", "f.yaml:2:4", "f.yaml:3:4", "f.yaml:5:3"])
        #expect(pairs[0].value.location(ofOffset: 2).column == 6)
        #expect(pairs[1].value.location(ofOffset: 2).column == 7)
        #expect(pairs[2].value.location(ofOffset: 2).column == 7)
        #expect(pairs[3].value.sequence?.first?.scalar == "x")
    }

    @Test("recognises plain nulls only")
    func nulls() throws {
        let (parsed, _) = YAMLReader.parse("a:\nb: ~\nc: null\nd: 'null'\ne: x\n", file: "f.yaml")
        let node = try #require(parsed)
        let pairs = try #require(node.mapping)
        #expect(pairs.map(\.value.isNull) == [true, true, true, false, false])
    }
}
