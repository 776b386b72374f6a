/// A parsed `when:` expression: a syntax tree whose nodes keep their offset in the source text.
public indirect enum Expression: Sendable, CustomStringConvertible {
    case literal(Value, offset: Int)
    case path(String, offset: Int)
    case list([Expression], offset: Int)
    case unary(UnaryOperator, Expression, offset: Int)
    case binary(BinaryOperator, Expression, Expression, offset: Int)
    case call(String, [Expression], offset: Int)

    /// Prefix operators.
    public enum UnaryOperator: String, Sendable {
        case not, negate = "-"
    }

    /// Infix operators, by precedence from lowest.
    public enum BinaryOperator: String, Sendable {
        case or, and
        case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
        case `in`
        case add = "+", subtract = "-", multiply = "*", divide = "/"
    }

    /// Offset of the node's first token in the source text.
    public var offset: Int {
        switch self {
        case .literal(_, let o), .path(_, let o), .list(_, let o), .unary(_, _, let o), .call(_, _, let o):
            return o
        case .binary(_, let lhs, _, _):
            return lhs.offset
        }
    }

    /// Fully parenthesised form, used in tests of precedence.
    public var description: String {
        switch self {
        case .literal(let value, _):
            if case .string(let s) = value { return "\"\(s)\"" }
            if case .null = value { return "null" }
            return value.description
        case .path(let path, _): return path
        case .list(let items, _): return "[" + items.map(\.description).joined(separator: ", ") + "]"
        case .unary(let op, let operand, _): return op == .not ? "(not \(operand))" : "(-\(operand))"
        case .binary(let op, let lhs, let rhs, _): return "(\(lhs) \(op.rawValue) \(rhs))"
        case .call(let name, let args, _): return "\(name)(" + args.map(\.description).joined(separator: ", ") + ")"
        }
    }
}

/// Recursive-descent parser with precedence: or < and < not < comparison/in < + - < * / < unary minus.
struct ExpressionParser {
    var tokens: [Token]
    var index = 0

    static func parse(_ text: String) throws(ExpressionError) -> Expression {
        var parser = ExpressionParser(tokens: try Lexer.tokenize(text))
        if case .end = parser.current.kind {
            throw ExpressionError(message: "empty expression", offset: 0)
        }
        let expression = try parser.parseOr()
        guard case .end = parser.current.kind else {
            throw ExpressionError(message: "unexpected \(parser.describe(parser.current))", offset: parser.current.offset)
        }
        return expression
    }

    var current: Token { tokens[index] }

    mutating func advance() -> Token {
        let token = tokens[index]
        if index < tokens.count - 1 { index += 1 }
        return token
    }

    func isKeyword(_ word: String) -> Bool { current.kind == .keyword(word) }
    func isSymbol(_ symbol: String) -> Bool { current.kind == .symbol(symbol) }

    func describe(_ token: Token) -> String {
        switch token.kind {
        case .number(let n): return "number \(Value.format(n))"
        case .string: return "text literal"
        case .path(let p): return "'\(p)'"
        case .keyword(let k): return "'\(k)'"
        case .symbol(let s): return "'\(s)'"
        case .end: return "end of expression"
        }
    }

    mutating func expect(_ symbol: String) throws(ExpressionError) {
        guard isSymbol(symbol) else {
            throw ExpressionError(message: "expected '\(symbol)' but found \(describe(current))", offset: current.offset)
        }
        _ = advance()
    }

    mutating func parseOr() throws(ExpressionError) -> Expression {
        var lhs = try parseAnd()
        while isKeyword("or") {
            let token = advance()
            lhs = .binary(.or, lhs, try parseAnd(), offset: token.offset)
        }
        return lhs
    }

    mutating func parseAnd() throws(ExpressionError) -> Expression {
        var lhs = try parseNot()
        while isKeyword("and") {
            let token = advance()
            lhs = .binary(.and, lhs, try parseNot(), offset: token.offset)
        }
        return lhs
    }

    mutating func parseNot() throws(ExpressionError) -> Expression {
        if isKeyword("not") {
            let token = advance()
            return .unary(.not, try parseNot(), offset: token.offset)
        }
        return try parseComparison()
    }

    mutating func parseComparison() throws(ExpressionError) -> Expression {
        let lhs = try parseAdditive()
        let op: Expression.BinaryOperator?
        switch current.kind {
        case .symbol("=="): op = .equal
        case .symbol("!="): op = .notEqual
        case .symbol("<"): op = .less
        case .symbol("<="): op = .lessOrEqual
        case .symbol(">"): op = .greater
        case .symbol(">="): op = .greaterOrEqual
        case .keyword("in"): op = .in
        case .keyword("not"):
            // `x not in list`
            if index + 1 < tokens.count, tokens[index + 1].kind == .keyword("in") {
                let token = advance()
                _ = advance()
                let rhs = try parseAdditive()
                return .unary(.not, .binary(.in, lhs, rhs, offset: token.offset), offset: token.offset)
            }
            op = nil
        default: op = nil
        }
        guard let op else { return lhs }
        let token = advance()
        let rhs = try parseAdditive()
        switch current.kind {
        case .symbol("=="), .symbol("!="), .symbol("<"), .symbol("<="), .symbol(">"), .symbol(">="), .keyword("in"):
            throw ExpressionError(
                message: "comparisons cannot be chained", offset: current.offset,
                suggestion: "join them with 'and'")
        default:
            break
        }
        return .binary(op, lhs, rhs, offset: token.offset)
    }

    mutating func parseAdditive() throws(ExpressionError) -> Expression {
        var lhs = try parseMultiplicative()
        while isSymbol("+") || isSymbol("-") {
            let token = advance()
            let op: Expression.BinaryOperator = token.kind == .symbol("+") ? .add : .subtract
            lhs = .binary(op, lhs, try parseMultiplicative(), offset: token.offset)
        }
        return lhs
    }

    mutating func parseMultiplicative() throws(ExpressionError) -> Expression {
        var lhs = try parseUnary()
        while isSymbol("*") || isSymbol("/") {
            let token = advance()
            let op: Expression.BinaryOperator = token.kind == .symbol("*") ? .multiply : .divide
            lhs = .binary(op, lhs, try parseUnary(), offset: token.offset)
        }
        return lhs
    }

    mutating func parseUnary() throws(ExpressionError) -> Expression {
        if isSymbol("-") {
            let token = advance()
            return .unary(.negate, try parseUnary(), offset: token.offset)
        }
        return try parsePrimary()
    }

    mutating func parsePrimary() throws(ExpressionError) -> Expression {
        let token = advance()
        switch token.kind {
        case .number(let n): return .literal(.number(n), offset: token.offset)
        case .string(let s): return .literal(.string(s), offset: token.offset)
        case .keyword("true"): return .literal(.bool(true), offset: token.offset)
        case .keyword("false"): return .literal(.bool(false), offset: token.offset)
        case .keyword("null"): return .literal(.null, offset: token.offset)
        case .path(let name):
            if isSymbol("(") {
                _ = advance()
                var arguments: [Expression] = []
                if !isSymbol(")") {
                    arguments.append(try parseOr())
                    while isSymbol(",") {
                        _ = advance()
                        arguments.append(try parseOr())
                    }
                }
                try expect(")")
                return .call(name, arguments, offset: token.offset)
            }
            return .path(name, offset: token.offset)
        case .symbol("("):
            let inner = try parseOr()
            try expect(")")
            return inner
        case .symbol("["):
            var items: [Expression] = []
            if !isSymbol("]") {
                items.append(try parseOr())
                while isSymbol(",") {
                    _ = advance()
                    items.append(try parseOr())
                }
            }
            try expect("]")
            return .list(items, offset: token.offset)
        default:
            throw ExpressionError(message: "expected a value but found \(describe(token))", offset: token.offset)
        }
    }
}
