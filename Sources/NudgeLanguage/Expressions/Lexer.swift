/// A token of the `when:` expression language, with its offset in the expression text.
struct Token: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        case number(Double)
        case string(String)
        case path(String)
        case keyword(String)
        case symbol(String)
        case end
    }

    var kind: Kind
    /// Offset in Unicode scalars from the start of the expression text.
    var offset: Int
    var length: Int
}

/// An error in an expression at an offset of its text.
struct ExpressionError: Error, Sendable {
    var message: String
    var offset: Int
    var suggestion: String?
}

/// Splits an expression into tokens.
struct Lexer {
    static let keywords: Set<String> = ["and", "or", "not", "in", "true", "false", "null"]

    static func tokenize(_ text: String) throws(ExpressionError) -> [Token] {
        let scalars = Array(text.unicodeScalars)
        var tokens: [Token] = []
        var i = 0
        func isIdentStart(_ c: Unicode.Scalar) -> Bool { c == "_" || (c.isASCII && c.properties.isAlphabetic) }
        func isIdent(_ c: Unicode.Scalar) -> Bool { isIdentStart(c) || ("0"..."9").contains(c) }
        while i < scalars.count {
            let c = scalars[i]
            if c == " " || c == "\t" || c == "\n" || c == "\r" {
                i += 1
                continue
            }
            let start = i
            if ("0"..."9").contains(c) {
                while i < scalars.count, ("0"..."9").contains(scalars[i]) { i += 1 }
                if i + 1 < scalars.count, scalars[i] == ".", ("0"..."9").contains(scalars[i + 1]) {
                    i += 1
                    while i < scalars.count, ("0"..."9").contains(scalars[i]) { i += 1 }
                }
                if i < scalars.count, isIdentStart(scalars[i]) {
                    throw ExpressionError(message: "unexpected '\(scalars[i])' after a number", offset: i)
                }
                let literal = String(String.UnicodeScalarView(scalars[start..<i]))
                tokens.append(Token(kind: .number(Double(literal) ?? 0), offset: start, length: i - start))
                continue
            }
            if isIdentStart(c) {
                while i < scalars.count,
                    isIdent(scalars[i]) || (scalars[i] == "." && i + 1 < scalars.count && isIdentStart(scalars[i + 1]))
                {
                    i += 1
                }
                let word = String(String.UnicodeScalarView(scalars[start..<i]))
                let kind: Token.Kind = keywords.contains(word) ? .keyword(word) : .path(word)
                tokens.append(Token(kind: kind, offset: start, length: i - start))
                continue
            }
            if c == "\"" || c == "'" {
                var value = String.UnicodeScalarView()
                i += 1
                var closed = false
                while i < scalars.count {
                    let d = scalars[i]
                    if d == c {
                        closed = true
                        i += 1
                        break
                    }
                    if d == "\\", i + 1 < scalars.count {
                        let e = scalars[i + 1]
                        switch e {
                        case "n": value.append("\n")
                        case "t": value.append("\t")
                        default: value.append(e)
                        }
                        i += 2
                        continue
                    }
                    value.append(d)
                    i += 1
                }
                guard closed else {
                    throw ExpressionError(message: "unterminated text literal", offset: start)
                }
                tokens.append(Token(kind: .string(String(value)), offset: start, length: i - start))
                continue
            }
            let two = i + 1 < scalars.count ? String(String.UnicodeScalarView([c, scalars[i + 1]])) : ""
            switch two {
            case "==", "!=", "<=", ">=":
                tokens.append(Token(kind: .symbol(two), offset: start, length: 2))
                i += 2
                continue
            case "&&":
                throw ExpressionError(message: "'&&' is not an operator", offset: start, suggestion: "use 'and'")
            case "||":
                throw ExpressionError(message: "'||' is not an operator", offset: start, suggestion: "use 'or'")
            default:
                break
            }
            switch c {
            case "<", ">", "+", "-", "*", "/", "(", ")", "[", "]", ",":
                tokens.append(Token(kind: .symbol(String(c)), offset: start, length: 1))
                i += 1
            case "!":
                throw ExpressionError(message: "'!' is not an operator", offset: start, suggestion: "use 'not'")
            case "=":
                throw ExpressionError(message: "'=' is not an operator", offset: start, suggestion: "did you mean '=='?")
            default:
                throw ExpressionError(message: "unexpected character '\(c)'", offset: start)
            }
        }
        tokens.append(Token(kind: .end, offset: scalars.count, length: 0))
        return tokens
    }
}
