import Foundation

/// Minimal, ordered JSON writing for the plan's flat objects.
public enum JSONText {
    /// An object with keys in the given order; nil values are written as null.
    public static func object(_ fields: [(String, Any?)]) -> String {
        "{" + fields.map { "\(quote($0.0)):\(encode($0.1))" }.joined(separator: ",") + "}"
    }

    /// A JSON array of strings.
    public static func array(_ strings: [String]) -> String {
        "[" + strings.map(quote).joined(separator: ",") + "]"
    }

    /// A JSON string literal.
    public static func quote(_ text: String) -> String {
        var out = ""
        appendQuoted(text, to: &out)
        return out
    }

    /// Appends `text` as a JSON string literal to `out`: quotes, backslashes and control characters escaped.
    public static func appendQuoted(_ text: String, to out: inout String) {
        out.append("\"")
        // Fast path: nothing to escape.
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            out.append(text)
            out.append("\"")
            return
        }
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out.append("\"")
    }

    /// One JSON object written field by field in order: strings, integers and nulls go straight into the text,
    /// with no `Any` to inspect per value (the JSON Lines of a large plan are mostly this).
    public struct Object {
        public private(set) var text = "{"
        private var isEmpty = true

        public init(capacity: Int = 256) { text.reserveCapacity(capacity) }

        private mutating func key(_ key: String) {
            if !isEmpty { text.append(",") }
            isEmpty = false
            JSONText.appendQuoted(key, to: &text)
            text.append(":")
        }

        /// A string, or null.
        public mutating func add(_ key: String, _ value: String?) {
            self.key(key)
            if let value { JSONText.appendQuoted(value, to: &text) } else { text.append("null") }
        }

        /// A whole number.
        public mutating func add(_ key: String, _ value: Int) {
            self.key(key)
            text.append(String(value))
        }

        /// The object's JSON text, closed.
        public var json: String { text + "}" }
    }

    /// JSON written already (a nested object or array), embedded as is.
    public struct Raw: Sendable {
        public var json: String
        public init(_ json: String) { self.json = json }
        /// An array of JSON texts.
        public static func array(_ items: [String]) -> Raw { Raw("[" + items.joined(separator: ",") + "]") }
    }

    /// A number as Nudge prints it: whole numbers without a fraction, others with at most two decimals.
    public static func number(_ number: Double) -> String {
        if number.isFinite, number == number.rounded(), abs(number) < 1e15 { return String(Int(number)) }
        var text = String(format: "%.2f", number)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }

    /// A JSON value for nil, strings, numbers, booleans and `Raw` JSON.
    public static func encode(_ value: Any?) -> String {
        switch value {
        case nil: return "null"
        case let string as String: return quote(string)
        case let bool as Bool: return bool ? "true" : "false"
        case let int as Int: return String(int)
        case let double as Double: return number(double)
        case let raw as Raw: return raw.json
        default: return quote("\(value!)")
        }
    }
}
