import Foundation
import Testing

@testable import NudgeLanguage
import NudgeCore

private func condition(_ text: String) throws -> Condition {
    try Condition.compile(text, catalog: FieldCatalog(trigger: .inactivity)).get()
}

@Suite("Lint on conditions")
struct ConditionLintTests {
    @Test("a condition that can never hold, after folding its constant parts")
    func neverHolds() throws {
        #expect(try condition("false").neverHoldsReason == "it is always false")
        #expect(try condition("customer.visits_total >= 1 and 1 > 2").neverHoldsReason == "'(1 > 2)' is always false")
        #expect(try condition("(2 + 2 == 5) and customer.visits_total >= 1").neverHoldsReason == "'((2 + 2) == 5)' is always false")
        #expect(
            try condition("customer.email == null").neverHoldsReason
                == "'== null' is always false (a comparison with null is false)")
        #expect(try condition("customer.email != null").neverHoldsReason != nil)
        for holds in ["true", "customer.visits_total >= 1", "customer.visits_total >= 1 or false", "not has(customer.email)", "1 < 2"] {
            #expect(try condition(holds).neverHoldsReason == nil, "\(holds)")
        }
    }

    @Test("two workflows' conditions that cannot both hold, and those that may")
    func exclusion() throws {
        func exclude(_ a: [String], _ b: [String]) throws -> Bool {
            Condition.exclude(try a.map(condition), try b.map(condition))
        }
        #expect(try exclude(["customer.visits_total < 5"], ["customer.visits_total >= 5"]))
        #expect(try exclude(["5 < customer.visits_total"], ["customer.visits_total < 3"]))
        #expect(try exclude(["customer.visits_total == 1"], ["customer.visits_total > 1"]))
        #expect(try exclude(["\"vip\" in customer.tags"], ["not (\"vip\" in customer.tags)", "customer.visits_total >= 1"]))
        #expect(try exclude(["customer.status == \"vip\""], ["customer.status == \"new\""]))
        #expect(try !exclude(["customer.visits_total <= 5"], ["customer.visits_total >= 5"]))
        #expect(try !exclude(["customer.visits_total >= 1"], ["customer.visits_90d >= 1"]))
        #expect(try !exclude([], ["customer.visits_total >= 1"]))
        #expect(try !exclude(["\"vip\" in customer.tags"], ["\"staff\" in customer.tags"]))
    }

    @Test("check warns at a when that can never hold")
    func parserWarns() {
        var diagnostics = Diagnostics()
        _ = WorkflowParser.parse(
            """
            id: x
            trigger: { signup: {} }
            when:
              - customer.visits_total >= 1
              - customer.email == null
            actions:
              - send: { channel: email, template: t }
            """, file: "Workflows/x.yaml", channels: [.email], diagnostics: &diagnostics)
        #expect(
            diagnostics.sorted.map(\.description) == [
                "Workflows/x.yaml:5:5: warning: this condition can never hold ('== null' is always false (a comparison with null is false)): nothing after it is ever sent (test for a missing value with has(PATH) or not has(PATH))"
            ])
    }
}
