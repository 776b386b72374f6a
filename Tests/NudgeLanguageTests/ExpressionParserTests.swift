import Testing

@testable import NudgeLanguage

/// Parses `text` and returns the fully parenthesised form.
private func parenthesised(_ text: String) throws -> String {
    try ExpressionParser.parse(text).description
}

/// The error `ExpressionParser.parse(text)` throws, or nil when it parses.
private func parseError(_ text: String) -> ExpressionError? {
    do {
        _ = try ExpressionParser.parse(text)
        return nil
    } catch {
        return error
    }
}

@Suite("Expression parser")
struct ExpressionParserTests {
    @Test(
        "binds operators from loosest to tightest: or, and, not, comparisons, + -, * /, unary minus",
        arguments: [
            ("a.b or c.d and e.f", "(a.b or (c.d and e.f))"),
            ("a.b and c.d or e.f", "((a.b and c.d) or e.f)"),
            ("a.b or c.d or e.f", "((a.b or c.d) or e.f)"),
            ("not a.b and c.d", "((not a.b) and c.d)"),
            ("not a.b or not c.d", "((not a.b) or (not c.d))"),
            ("not not a.b", "(not (not a.b))"),
            ("not a.b == 1", "(not (a.b == 1))"),
            ("not a.b in [1]", "(not (a.b in [1]))"),
            ("a.b == 1 and c.d != 2", "((a.b == 1) and (c.d != 2))"),
            ("a.b == 1 + 2 * 3", "(a.b == (1 + (2 * 3)))"),
            ("a.b * 2 + 3 >= c.d - 1", "(((a.b * 2) + 3) >= (c.d - 1))"),
            ("1 - 2 - 3", "((1 - 2) - 3)"),
            ("8 / 4 / 2", "((8 / 4) / 2)"),
            ("8 / 4 * 2", "((8 / 4) * 2)"),
            ("1 + 2 - 3 + 4", "(((1 + 2) - 3) + 4)"),
            ("-a.b * 2", "((-a.b) * 2)"),
            ("2 * -3", "(2 * (-3))"),
            ("- - 1", "(-(-1))"),
            ("-(1 + 2)", "(-(1 + 2))"),
            ("(1 + 2) * 3", "((1 + 2) * 3)"),
            ("(a.b or c.d) and e.f", "((a.b or c.d) and e.f)"),
            ("a.b + 1 in [2, 3]", "((a.b + 1) in [2, 3])"),
            ("a.b < 1 or a.b > 2", "((a.b < 1) or (a.b > 2))"),
            ("a.b <= 1.5", "(a.b <= 1.5)"),
            ("1 + 2 == 3 and 4 > 5 or not 6 != 7", "((((1 + 2) == 3) and (4 > 5)) or (not (6 != 7)))"),
            ("true and false or null", "((true and false) or null)"),
            ("lower(customer.name) == 'ana'", "(lower(customer.name) == \"ana\")"),
            (
                "has(customer.email) and not customer.visits_total < 1",
                "(has(customer.email) and (not (customer.visits_total < 1)))"
            ),
            ("days_since(customer.last_visit_at) >= 30 * 2", "(days_since(customer.last_visit_at) >= (30 * 2))"),
            ("f(1, 2 + 3, [])", "f(1, (2 + 3), [])"),
            ("f()", "f()"),
        ]
    )
    func precedence(text: String, expected: String) throws {
        #expect(try parenthesised(text) == expected)
    }

    @Test(
        "reads 'x not in [..]' as the negation of membership",
        arguments: [
            ("customer.name not in [\"Ana\", 'Bo']", "(not (customer.name in [\"Ana\", \"Bo\"]))"),
            ("\"staff\" not in customer.tags", "(not (\"staff\" in customer.tags))"),
            ("a.b not in [1] and c.d", "((not (a.b in [1])) and c.d)"),
            ("a.b + 1 not in [2]", "(not ((a.b + 1) in [2]))"),
        ]
    )
    func notIn(text: String, expected: String) throws {
        #expect(try parenthesised(text) == expected)
    }

    @Test("keeps the offset of each operator and operand")
    func offsets() throws {
        let expression = try ExpressionParser.parse("a.b  >=  3 and not c.d")
        guard case .binary(.and, let lhs, let rhs, let andOffset) = expression else {
            Issue.record("expected 'and' at the top, got \(expression)")
            return
        }
        #expect(andOffset == 11)
        #expect(expression.offset == 0)
        guard case .binary(.greaterOrEqual, let path, let three, let compareOffset) = lhs else {
            Issue.record("expected '>=' on the left, got \(lhs)")
            return
        }
        #expect(compareOffset == 5)
        #expect(path.offset == 0)
        #expect(three.offset == 9)
        guard case .unary(.not, let operand, let notOffset) = rhs else {
            Issue.record("expected 'not' on the right, got \(rhs)")
            return
        }
        #expect(notOffset == 15)
        #expect(operand.offset == 19)
    }

    @Test("the offset of 'x not in' points at 'not'")
    func notInOffset() throws {
        let expression = try ExpressionParser.parse("customer.name not in ['a']")
        guard case .unary(.not, .binary(.in, _, _, let inOffset), let notOffset) = expression else {
            Issue.record("unexpected tree \(expression)")
            return
        }
        #expect(notOffset == 14)
        #expect(inOffset == 14)
    }

    @Test(
        "reads text in either quote style, with escapes",
        arguments: [
            ("\"it's\" == a.b", "it's"),
            ("'say \"hi\"' == a.b", "say \"hi\""),
            ("'it\\'s' == a.b", "it's"),
            ("\"a\\nb\" == a.b", "a\nb"),
            ("\"tab\\there\" == a.b", "tab\there"),
            ("\"\" == a.b", ""),
            ("'Café ☕' == a.b", "Café ☕"),
        ]
    )
    func quotes(text: String, expected: String) throws {
        let expression = try ExpressionParser.parse(text)
        guard case .binary(.equal, .literal(.string(let value), _), _, _) = expression else {
            Issue.record("unexpected tree \(expression)")
            return
        }
        #expect(value == expected)
    }

    @Test(
        "reads numbers, booleans, null and lists as literals",
        arguments: [
            ("1 == a.b", Value.number(1)),
            ("2.75 == a.b", Value.number(2.75)),
            ("007 == a.b", Value.number(7)),
            ("true == a.b", Value.bool(true)),
            ("false == a.b", Value.bool(false)),
            ("null == a.b", Value.null),
        ]
    )
    func literals(text: String, expected: Value) throws {
        let expression = try ExpressionParser.parse(text)
        guard case .binary(.equal, .literal(let value, offset: 0), _, _) = expression else {
            Issue.record("unexpected tree \(expression)")
            return
        }
        #expect(value == expected)
    }

    @Test("reads a dotted path with underscores and digits as one name")
    func paths() throws {
        let expression = try ExpressionParser.parse("customer.attributes.tier_2 == 'gold'")
        guard case .binary(.equal, .path(let path, offset: 0), _, _) = expression else {
            Issue.record("unexpected tree \(expression)")
            return
        }
        #expect(path == "customer.attributes.tier_2")
    }

    @Test(
        "rejects malformed expressions with a message, an offset and a suggestion where one fits",
        arguments: [
            ("1 < 2 < 3", "comparisons cannot be chained", 6, "join them with 'and'"),
            ("a.b == 1 == 2", "comparisons cannot be chained", 9, "join them with 'and'"),
            ("a.b in [1] in [[1]]", "comparisons cannot be chained", 11, "join them with 'and'"),
            ("1 <= a.b in [1]", "comparisons cannot be chained", 9, "join them with 'and'"),
            ("!a.b", "'!' is not an operator", 0, "use 'not'"),
            ("a.b != 1 and !c.d", "'!' is not an operator", 13, "use 'not'"),
            ("a.b && c.d", "'&&' is not an operator", 4, "use 'and'"),
            ("a.b || c.d", "'||' is not an operator", 4, "use 'or'"),
            ("a.b = 1", "'=' is not an operator", 4, "did you mean '=='?"),
            ("customer.name == \"Ana", "unterminated text literal", 17, nil),
            ("customer.name == 'Ana", "unterminated text literal", 17, nil),
            ("'Ana\" == customer.name", "unterminated text literal", 0, nil),
            ("a.b == 'x\\'", "unterminated text literal", 7, nil),
            ("", "empty expression", 0, nil),
            ("   ", "empty expression", 0, nil),
            ("(1 + 2", "expected ')' but found end of expression", 6, nil),
            ("[1, 2", "expected ']' but found end of expression", 5, nil),
            ("f(1 2)", "expected ')' but found number 2", 4, nil),
            ("1 +", "expected a value but found end of expression", 3, nil),
            ("a.b == )", "expected a value but found ')'", 7, nil),
            ("a.b and or c.d", "expected a value but found 'or'", 8, nil),
            ("2x", "unexpected 'x' after a number", 1, nil),
            ("a.b == 1 c.d", "unexpected 'c.d'", 9, nil),
            ("a.b == 'x' 'y'", "unexpected text literal", 11, nil),
            ("a.b # c", "unexpected character '#'", 4, nil),
            ("a.b == 1)", "unexpected ')'", 8, nil),
        ] as [(String, String, Int, String?)]
    )
    func errors(text: String, message: String, offset: Int, suggestion: String?) throws {
        let error = try #require(parseError(text))
        #expect(error.message == message)
        #expect(error.offset == offset)
        #expect(error.suggestion == suggestion)
    }

    @Test("counts offsets in Unicode scalars, not bytes")
    func unicodeOffsets() throws {
        let error = try #require(parseError("'é☕' == a.b &&"))
        #expect(error.message == "'&&' is not an operator")
        #expect(error.offset == 12)
    }
}
