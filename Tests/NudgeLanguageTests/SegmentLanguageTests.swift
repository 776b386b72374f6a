import Foundation
import Testing

@testable import NudgeLanguage
import NudgeProviders
import NudgeCore

/// Parses nudge.yaml text (business lines first, then `extra`) and returns the config and the diagnostics as printed.
private func parse(_ extra: String) -> (config: ProjectConfig, diagnostics: [String]) {
    var diagnostics = Diagnostics()
    let text = "business:\n  name: Café\n  timezone: UTC\n" + extra
    let config = ProjectConfig.parse(text, file: "nudge.yaml", providers: Providers.catalog, diagnostics: &diagnostics)
    return (config, diagnostics.sorted.map(\.description))
}

@Suite("Segments in nudge.yaml")
struct SegmentConfigTests {
    @Test("the five built-in segments are there without segments:, and compile")
    func builtIns() {
        let (config, diagnostics) = parse("")
        #expect(diagnostics.isEmpty)
        #expect(config.segments.map(\.name) == ["high_value", "frequent", "at_risk", "vip", "new"])
        #expect(config.segments.allSatisfy { !$0.conditions.isEmpty && $0.location == nil })
        #expect(config.segment(named: "vip")?.dependencies == ["high_value", "frequent"])
        #expect(
            config.segment(named: "high_value")?.ranks
                == [RankKey(field: .customer(.lifetime_value), isPositiveOnly: true)])
    }

    @Test("a project adds segments and redefines built-ins in place")
    func projectSegments() throws {
        let (config, diagnostics) = parse(
            """
            segments:
              regulars: { description: Weekly regulars, when: "customer.visits_30d >= 4" }
              new:
                when:
                  - days_since(customer.signed_up_at) <= 14
                  - not ("staff" in customer.tags)
            """)
        #expect(diagnostics.isEmpty)
        #expect(config.segments.map(\.name) == ["high_value", "frequent", "at_risk", "vip", "new", "regulars"])
        let new = try #require(config.segment(named: "new"))
        #expect(new.conditions.count == 2)
        #expect(new.description == "")
        #expect(new.location?.description == "nudge.yaml:6:3")
        #expect(config.segment(named: "regulars")?.fieldsRead == [.customer(.visits_30d)])
    }

    @Test(
        "errors point at nudge.yaml:LINE:COL",
        arguments: [
            (
                "segments:\n  regulars: { when: \"customer.visits_3d >= 4\" }",
                "nudge.yaml:5:22: error: unknown field 'customer.visits_3d' (did you mean 'customer.visits_30d'?)"
            ),
            (
                "segments:\n  regulars: { when: \"offer.name == 'x'\" }",
                "nudge.yaml:5:22: error: a segment reads customer and business fields only, not 'offer.name'"
            ),
            (
                "segments:\n  regulars: { when: \"'vipp' in customer.segments\" }",
                "nudge.yaml:5:22: error: unknown segment 'vipp' (did you mean 'vip'?)"
            ),
            (
                "segments:\n  regulars: { when: \"has(customer.segments)\" }",
                "nudge.yaml:5:26: error: a segment reads other segments only as \"NAME\" in customer.segments"
            ),
            (
                "segments:\n  regulars: { description: x }",
                "nudge.yaml:5:13: error: missing key 'when' in segment 'regulars'"
            ),
            (
                "segments:\n  regulars: { when: \"customer.visits_30d > 1\", colour: red }",
                "nudge.yaml:5:48: error: unknown key 'colour' in segment 'regulars' (expected one of: description, when)"
            ),
            (
                "segments:\n  bad name: { when: \"customer.visits_30d > 1\" }",
                "nudge.yaml:5:3: error: a segment's name must be letters, digits, '-' and '_', such as regulars"
            ),
            (
                "segments:\n  regulars: { when: \"percent_rank(customer.name) > 0.5\" }",
                "nudge.yaml:5:35: error: percent_rank(…) ranks numbers, but 'customer.name' is text"
            ),
            (
                "segments:\n  regulars: { when: \"customer.status == 'active'\" }",
                "nudge.yaml:5:22: error: a segment cannot read 'customer.status': it depends on the vip segment; test the fields it reads"
            ),
            (
                "segments:\n  engaged: { when: \"customer.engagement_score > 50\" }",
                "nudge.yaml:5:21: error: a segment cannot read 'customer.engagement_score' yet: test the fields it blends"
            ),
            ("segments: [a, b]", "nudge.yaml:4:11: error: 'segments' must be a mapping of name to { description: …, when: … }"),
        ])
    func errors(text: String, expected: String) {
        let (_, diagnostics) = parse(text)
        #expect(diagnostics == [expected])
    }

    @Test("segments that test each other in a circle are an error at the first one")
    func cycle() {
        let (_, diagnostics) = parse(
            """
            segments:
              a: { when: "'b' in customer.segments" }
              b: { when: "'vip' in customer.segments" }
              high_value: { when: "'a' in customer.segments" }
            """)
        #expect(
            diagnostics == [
                "nudge.yaml:7:3: error: segment 'high_value' depends on itself: high_value → a → b → vip → high_value "
                    + "(a segment may test other segments, but not one that tests it back)"
            ])
    }
}

@Suite("percent_rank, hours_since and the segment trigger")
struct SegmentExpressionTests {
    func compile(_ text: String) throws -> Condition {
        try Condition.compile(text, catalog: FieldCatalog(trigger: .signup)).get()
    }

    /// The value of any expression (a condition must be true or false; these are numbers).
    func evaluate(_ text: String, _ source: TestSource) throws -> Value {
        ConditionCompiler(catalog: FieldCatalog(trigger: .signup)).compile(try ExpressionParser.parse(text))(source)
    }

    @Test("percent_rank is the share of the population strictly below, null outside it")
    func percentRank() throws {
        let all = RankKey(field: .customer(.lifetime_value), isPositiveOnly: false)
        let positive = RankKey(field: .customer(.lifetime_value), isPositiveOnly: true)
        var source = TestSource([.customer(.lifetime_value): .number(20)])
        source.populations = [all: [0, 0, 0, 10, 20, 20, 30], positive: [10, 20, 20, 30]]
        let plain = "percent_rank(customer.lifetime_value)"
        let positiveOnly = #"percent_rank(customer.lifetime_value, "positive")"#
        #expect(try evaluate(plain, source) == .number(4.0 / 7))
        #expect(try evaluate(positiveOnly, source) == .number(1.0 / 4))
        #expect(try compile(plain + " >= 0.5").ranks == [all])
        #expect(try compile(plain + " >= 0.5").holds(for: source))
        source.values[.customer(.lifetime_value)] = .number(0)
        #expect(try evaluate(plain, source) == .number(0))
        #expect(try evaluate(positiveOnly, source) == .null)
        #expect(try compile("percent_rank(customer.lifetime_value) >= 0").holds(for: TestSource()) == false)
    }

    @Test(
        "percent_rank's arguments are checked",
        arguments: [
            ("percent_rank(customer.visits_total, 'all') > 0", "the second argument of percent_rank(…) can only be \"positive\" (rank among values above zero)"),
            ("percent_rank(trigger.days_after) > 0", "percent_rank(…) ranks customer fields, not 'trigger.days_after'"),
            ("percent_rank(1) > 0", "percent_rank(…) takes a customer field, e.g. percent_rank(customer.lifetime_value)"),
            ("percent_rank() > 0", "percent_rank(…) takes a customer field and, optionally, \"positive\""),
        ])
    func percentRankErrors(text: String, message: String) {
        #expect(problems(text, trigger: .signup).map(\.message) == [message])
    }

    @Test("hours_since counts exact hours, fractions included")
    func hoursSince() throws {
        let source = TestSource([.customer(.signed_up_at): .instant(instant("2026-11-24T12:30:00Z"))])
        #expect(try evaluate("hours_since(customer.signed_up_at)", source) == .number(25.5))
        #expect(problems("hours_since(customer.name) > 1").map(\.message) == ["hours_since(…) needs an instant, not text"])
    }

    @Test("segment: { enter: NAME } names a known segment; trigger.enter reads it")
    func trigger() throws {
        let text = "id: x\ntrigger:\n  segment: { enter: vip }\nwhen: trigger.enter == 'vip'\nactions:\n  - send: { channel: email, template: t }\n"
        var diagnostics = Diagnostics()
        let workflow = WorkflowParser.parse(
            text, file: "Workflows/x.yaml", channels: [.email], segments: ["vip", "new"], diagnostics: &diagnostics)
        #expect(diagnostics.all.isEmpty)
        #expect(workflow?.trigger == .segment(enter: "vip"))
        #expect(workflow?.trigger.isDateBased == true)

        diagnostics = Diagnostics()
        _ = WorkflowParser.parse(
            text.replacingOccurrences(of: "enter: vip", with: "enter: vipp"), file: "Workflows/x.yaml", channels: [.email],
            segments: ["vip", "new"], diagnostics: &diagnostics)
        #expect(
            diagnostics.sorted.map(\.description) == [
                "Workflows/x.yaml:3:21: error: unknown segment 'vipp' (did you mean 'vip'?)"
            ])
        diagnostics = Diagnostics()
        _ = WorkflowParser.parse(
            "id: x\ntrigger:\n  segment: {}\nactions:\n  - send: { channel: email, template: t }\n", file: "Workflows/x.yaml",
            channels: [.email], segments: ["vip"], diagnostics: &diagnostics)
        #expect(diagnostics.sorted.map(\.description) == ["Workflows/x.yaml:3:12: error: missing key 'enter' in the segment trigger"])
    }
}
