import Foundation
import Testing

@testable import NudgeLanguage
import NudgeCore

/// A customer's state for condition tests: fixed values, a fixed `now` and zone.
struct TestSource: FieldSource {
    var values: [Field: Value] = [:]
    var now: Date
    var zone: TimeZone
    /// The sorted populations of `percent_rank(…)`.
    var populations: [RankKey: [Double]] = [:]

    init(_ values: [Field: Value] = [:], now: String = "2026-11-25T14:00:00Z", zone: String = "America/New_York") {
        self.values = values
        self.now = instant(now)
        self.zone = timeZone(zone)
    }

    func value(of field: Field) -> Value { values[field] ?? .null }

    func percentRank(_ rank: RankKey, of value: Value) -> Value {
        rank.rank(of: value, in: populations[rank] ?? [])
    }
}

/// An instant from ISO 8601 text that must parse.
func instant(_ text: String) -> Date {
    guard let date = ISO8601.parse(text, zone: timeZone("UTC")) else {
        preconditionFailure("bad instant in a test: \(text)")
    }
    return date
}

/// A time zone by IANA name that must exist.
func timeZone(_ identifier: String) -> TimeZone {
    guard let zone = TimeZone(identifier: identifier) else { preconditionFailure("unknown zone \(identifier)") }
    return zone
}

/// Compiles `text` (which must be valid) and evaluates it against `source`.
private func evaluate(_ text: String, _ source: TestSource, trigger: TriggerKind? = .birthday) throws -> Value {
    try Condition.compile(text, catalog: FieldCatalog(trigger: trigger)).get().value(for: source)
}

/// Compiles `text` (which must be valid) and tells whether it holds for `source`.
private func holds(_ text: String, _ source: TestSource, trigger: TriggerKind? = .birthday) throws -> Bool {
    try Condition.compile(text, catalog: FieldCatalog(trigger: trigger)).get().holds(for: source)
}

/// Evaluates a checked sub-expression (which need not be boolean) with the compiler directly.
private func raw(_ text: String, _ source: TestSource = TestSource()) throws -> Value {
    let expression = try ExpressionParser.parse(text)
    return ConditionCompiler(catalog: FieldCatalog(trigger: nil)).compile(expression)(source)
}

@Suite("Condition evaluation")
struct ConditionEvaluationTests {
    static let noAge = TestSource([.customer(.name): .string("Ana")])

    @Test(
        "treats every comparison with null as false, including '!='",
        arguments: [
            ("customer.age > 30", false),
            ("customer.age < 30", false),
            ("customer.age >= 0", false),
            ("customer.age <= 0", false),
            ("customer.age == 30", false),
            ("customer.age != 30", false),
            ("customer.age == null", false),
            ("customer.age != null", false),
            ("null == null", false),
            ("customer.age in [30, null]", false),
            ("not (customer.age > 30)", true),
            ("not (customer.age != 30)", true),
            ("not (customer.age > 30) and not (customer.age <= 30)", true),
            ("customer.age > 30 or customer.name == \"Ana\"", true),
            ("customer.email_opt_in == true", false),
            ("not customer.email_opt_in", true),
            ("customer.email_opt_in == false", false),
            ("lower(customer.email) == \"\"", false),
        ]
    )
    func nullSemantics(text: String, expected: Bool) throws {
        #expect(try evaluate(text, Self.noAge) == .bool(expected))
        #expect(try holds(text, Self.noAge) == expected)
    }

    static let tagged = TestSource([
        .customer(.tags): .list([.string("vip"), .string("regular")]),
        .customer(.visits_total): .number(2),
        .customer(.name): .string("Ana"),
    ])

    @Test(
        "tests membership in tags and list literals",
        arguments: [
            ("\"vip\" in customer.tags", true),
            ("'regular' in customer.tags", true),
            ("\"staff\" in customer.tags", false),
            ("\"VIP\" in customer.tags", false),
            ("\"staff\" not in customer.tags", true),
            ("not (\"vip\" in customer.tags)", false),
            ("customer.visits_total in [1, 2, 3]", true),
            ("customer.visits_total in [3, 4]", false),
            ("customer.visits_total not in [3, 4]", true),
            ("customer.visits_total in []", false),
            ("customer.name in [\"Ana\", 'Bo']", true),
            ("customer.name in [lower(\"ANA\")]", false),
            ("lower(customer.name) in [\"ana\"]", true),
            ("customer.visits_total + 1 in [3]", true),
        ]
    )
    func membership(text: String, expected: Bool) throws {
        #expect(try evaluate(text, Self.tagged) == .bool(expected))
    }

    @Test("finds no tag in a customer without tags, so 'not in' holds")
    func membershipWithoutTags() throws {
        let source = TestSource()
        #expect(try holds("\"vip\" in customer.tags", source) == false)
        #expect(try holds("\"staff\" not in customer.tags", source) == true)
        #expect(try holds("not (\"staff\" in customer.tags)", source) == true)
    }

    @Test(
        "computes arithmetic, with division by zero and null operands giving null",
        arguments: [
            ("1 + 2 * 3", Value.number(7)),
            ("(1 + 2) * 3", .number(9)),
            ("7 / 2", .number(3.5)),
            ("10 - 4 - 3", .number(3)),
            ("-3 * -2", .number(6)),
            ("1 / 0", .null),
            ("0 / 0", .null),
            ("customer.lifetime_value / customer.visits_total", .null),
            ("customer.age + 1", .null),
            ("-customer.age", .null),
            ("\"a\" + \"b\"", .string("ab")),
            ("customer.name + \"!\"", .null),
        ]
    )
    func arithmetic(text: String, expected: Value) throws {
        let source = TestSource([.customer(.lifetime_value): .number(50), .customer(.visits_total): .number(0)])
        #expect(try raw(text, source) == expected)
    }

    @Test("evaluates arithmetic inside conditions")
    func arithmeticConditions() throws {
        let source = TestSource([
            .customer(.visits_total): .number(3), .customer(.lifetime_value): .number(45),
            .customer(.first_name): .string("Ana"),
        ])
        #expect(try holds("customer.visits_total * 2 + 1 == 7", source))
        #expect(try holds("customer.lifetime_value / customer.visits_total == 15", source))
        #expect(try holds("-customer.visits_total < 0", source))
        #expect(try holds("customer.first_name + \" \" + \"Silva\" == \"Ana Silva\"", source))
        let broke = TestSource([.customer(.visits_total): .number(0), .customer(.lifetime_value): .number(45)])
        #expect(try holds("customer.lifetime_value / customer.visits_total > 10", broke) == false)
        #expect(try holds("customer.lifetime_value / customer.visits_total <= 10", broke) == false)
        #expect(try holds("not (customer.lifetime_value / customer.visits_total > 10)", broke) == true)
    }

    @Test(
        "has() is true for present, non-empty values",
        arguments: [
            (Value.string("ana@example.com"), true),
            (.string(""), false),
            (.null, false),
            (.number(0), true),
            (.bool(false), true),
            (.list([]), false),
            (.list([.string("x")]), true),
        ]
    )
    func has(value: Value, expected: Bool) throws {
        let source = TestSource([.customer(.email): value, .customer(.tags): value])
        #expect(try evaluate("has(customer.email)", source) == .bool(expected))
        #expect(try evaluate("has(customer.tags)", source) == .bool(expected))
    }

    @Test("lower() lowercases text and gives null for null")
    func lower() throws {
        #expect(
            try holds("lower(customer.name) == \"ana maria\"", TestSource([.customer(.name): .string("Ana MARIA")])))
        #expect(try raw("lower(customer.name)", TestSource([.customer(.name): .string("ÉCLAIR")])) == .string("éclair"))
        #expect(try raw("lower(customer.name)", TestSource()) == .null)
        #expect(try holds("lower(customer.name) == \"\"", TestSource()) == false)
    }

    @Test(
        "days_since() counts local calendar days in the source's zone",
        arguments: [
            // 23:30 on Nov 24 in New York is 04:30Z on Nov 25; now is 09:00 on Nov 25 in New York.
            ("2026-11-25T04:30:00Z", "2026-11-25T14:00:00Z", "America/New_York", 1),
            ("2026-11-25T04:30:00Z", "2026-11-25T14:00:00Z", "UTC", 0),
            // One minute after local midnight is still the same local day.
            ("2026-11-25T05:01:00Z", "2026-11-26T04:59:00Z", "America/New_York", 0),
            ("2026-11-25T04:59:00Z", "2026-11-25T05:00:00Z", "America/New_York", 1),
            ("2026-11-24T15:00:00Z", "2026-11-24T14:59:00Z", "Asia/Tokyo", -1),
            // Across the spring-forward night: a 23-hour day still counts as one day.
            ("2026-03-07T17:00:00Z", "2026-03-09T12:00:00Z", "America/New_York", 2),
            ("2025-11-25T14:00:00Z", "2026-11-25T14:00:00Z", "America/New_York", 365),
            ("2024-02-28T12:00:00Z", "2024-03-01T12:00:00Z", "UTC", 2),
        ]
    )
    func daysSince(last: String, now: String, zone: String, days: Int) throws {
        let source = TestSource([.customer(.last_visit_at): .instant(instant(last))], now: now, zone: zone)
        #expect(try raw("days_since(customer.last_visit_at)", source) == .number(Double(days)))
        #expect(try holds("days_since(customer.last_visit_at) == \(days)", source))
    }

    @Test("days_since() reads ISO 8601 text in the source's zone and gives null for null or bad text")
    func daysSinceText() throws {
        let source = TestSource(
            [.attribute("joined"): .string("2026-11-20"), .attribute("bad"): .string("soon")],
            now: "2026-11-25T04:00:00Z", zone: "America/New_York")
        // Now is 23:00 on Nov 24 in New York.
        #expect(try raw("days_since(customer.attributes.joined)", source) == .number(4))
        #expect(try raw("days_since(customer.attributes.bad)", source) == .null)
        #expect(try raw("days_since(customer.last_visit_at)", source) == .null)
        #expect(try holds("days_since(customer.last_visit_at) >= 0", source) == false)
    }

    @Test(
        "compares attribute text with numbers and booleans",
        arguments: [
            ("customer.attributes.points > 100", "150", true),
            ("customer.attributes.points > 100", "50", false),
            ("customer.attributes.points > 100", " 150 ", true),
            ("customer.attributes.points > 100", "lots", false),
            ("customer.attributes.points == 150", "150", true),
            ("customer.attributes.points == 150", "150.0", true),
            ("customer.attributes.points != 150", "151", true),
            ("customer.attributes.points >= 99.5", "99.5", true),
            ("customer.attributes.points > \"9\"", "10", true),
            ("customer.attributes.points + 10 == 160", "150", true),
            ("customer.attributes.points in [100, 150]", "150", true),
            ("customer.attributes.vip == true", "yes", true),
            ("customer.attributes.vip == true", "TRUE", true),
            ("customer.attributes.vip == true", "no", false),
            ("customer.attributes.vip == false", "no", true),
            ("customer.attributes.vip == false", "maybe", false),
            ("customer.attributes.vip != true", "maybe", true),
        ]
    )
    func attributes(text: String, attribute: String, expected: Bool) throws {
        let source = TestSource([.attribute("points"): .string(attribute), .attribute("vip"): .string(attribute)])
        #expect(try evaluate(text, source) == .bool(expected))
    }

    @Test("an attribute missing for a customer is null")
    func missingAttribute() throws {
        #expect(try holds("customer.attributes.points > 100", TestSource()) == false)
        #expect(try holds("customer.attributes.points <= 100", TestSource()) == false)
    }

    @Test("adds two numeric attributes as numbers, since attributes arrive as text")
    func attributeSum() throws {
        let source = TestSource([.attribute("a"): .string("1"), .attribute("b"): .string("2")])
        #expect(try holds("customer.attributes.a + customer.attributes.b == 3", source))
        #expect(try holds("customer.attributes.a * customer.attributes.b == 2", source))
        #expect(
            try holds(
                "customer.name + customer.attributes.a == \"Ana1\"",
                TestSource([
                    .customer(.name): .string("Ana"), .attribute("a"): .string("1"),
                ])))
    }

    @Test(
        "a bare attribute holds when its text reads as true",
        arguments: [("true", true), ("yes", true), ("1", true), ("false", false), ("no", false), ("", false)]
    )
    func bareAttribute(text: String, expected: Bool) throws {
        let source = TestSource([.attribute("vip"): .string(text)])
        #expect(try holds("customer.attributes.vip", source) == expected)
        #expect(try holds("customer.attributes.vip and true", source) == expected)
        #expect(try holds("not customer.attributes.vip", source) == !expected)
    }

    @Test("combines booleans with and, or and not")
    func logic() throws {
        let source = TestSource([.customer(.email_opt_in): .bool(true), .customer(.sms_opt_in): .bool(false)])
        #expect(try evaluate("customer.email_opt_in and customer.sms_opt_in", source) == .bool(false))
        #expect(try evaluate("customer.email_opt_in or customer.sms_opt_in", source) == .bool(true))
        #expect(try evaluate("customer.email_opt_in and not customer.sms_opt_in", source) == .bool(true))
        #expect(try evaluate("customer.email_opt_in and customer.push_opt_in", source) == .bool(false))
        #expect(try evaluate("customer.push_opt_in or customer.email_opt_in", source) == .bool(true))
        #expect(try evaluate("customer.email_opt_in == true and customer.sms_opt_in != true", source) == .bool(true))
    }

    @Test("orders text, numbers and instants")
    func ordering() throws {
        let source = TestSource([
            .customer(.name): .string("Ana"),
            .customer(.signed_up_at): .instant(instant("2025-01-01T00:00:00Z")),
            .customer(.last_visit_at): .instant(instant("2026-11-01T10:00:00Z")),
            .customer(.visits_total): .number(9),
        ])
        #expect(try holds("customer.name < \"B\"", source))
        #expect(try holds("customer.name >= \"Ana\"", source))
        #expect(try holds("customer.name > \"Ana\"", source) == false)
        #expect(try holds("customer.signed_up_at < customer.last_visit_at", source))
        #expect(try holds("customer.last_visit_at <= customer.signed_up_at", source) == false)
        #expect(try holds("customer.visits_total > 10", source) == false)
        #expect(try holds("customer.visits_total >= 9 and customer.visits_total <= 9", source))
    }

    @Test("reads occurrence fields of milestone workflows")
    func milestoneFields() throws {
        let source = TestSource([
            .offer(.name): .string("Latte card"), .progress(.percent): .number(80), .trigger(.percent): .number(80),
        ])
        #expect(
            try holds(
                "offer.name == \"Latte card\" and progress.percent >= trigger.percent", source, trigger: .milestone))
    }

    @Test("a condition whose value is not true does not hold")
    func holdsOnlyForTrue() throws {
        let condition = try Condition.compile("customer.attributes.points", catalog: FieldCatalog(trigger: nil)).get()
        #expect(condition.holds(for: TestSource([.attribute("points"): .string("150")])) == false)
        #expect(condition.holds(for: TestSource()) == false)
    }
}
