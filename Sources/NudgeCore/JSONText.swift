public import Foundation

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
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count + 2)
        appendQuoted(text, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// One JSON object written field by field in order, as UTF-8 bytes: strings, integers and nulls go straight
    /// into the buffer, with no `Any` to inspect per value and no `String` to grow (the JSON Lines of a large plan
    /// are mostly this).
    public struct Object {
        public fileprivate(set) var bytes: [UInt8] = [UInt8(ascii: "{")]
        private var isEmpty = true

        public init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

        /// An object written onto the end of `bytes`, which it takes over until `JSONText.writeObject` gives them back.
        init(continuing bytes: inout [UInt8]) {
            swap(&self.bytes, &bytes)
            self.bytes.append(UInt8(ascii: "{"))
        }

        private mutating func key(_ key: String) {
            if !isEmpty { bytes.append(UInt8(ascii: ",")) }
            isEmpty = false
            JSONText.appendQuoted(key, to: &bytes)
            bytes.append(UInt8(ascii: ":"))
        }

        /// A string, or null.
        public mutating func add(_ key: String, _ value: String?) {
            self.key(key)
            if let value { JSONText.appendQuoted(value, to: &bytes) } else { bytes.append(contentsOf: "null".utf8) }
        }

        /// A whole number.
        public mutating func add(_ key: String, _ value: Int) {
            self.key(key)
            bytes.append(contentsOf: String(value).utf8)
        }

        /// An instant in UTC (`ISO8601.format`).
        public mutating func add(_ key: String, instant: Date) {
            self.key(key)
            bytes.append(UInt8(ascii: "\""))
            ISO8601.write(instant, to: &bytes)
            bytes.append(UInt8(ascii: "\""))
        }

        /// The object's JSON text, closed.
        public var json: String {
            var closed = bytes
            closed.append(UInt8(ascii: "}"))
            return String(decoding: closed, as: UTF8.self)
        }
    }

    /// Appends the object made by `fill` to `out`, written in place rather than in a buffer of its own that is
    /// then copied (a plan's JSON Lines and the `file` provider's are made a hundred thousand at a time).
    public static func writeObject(to out: inout [UInt8], _ fill: (inout Object) -> Void) {
        var object = Object(continuing: &out)
        fill(&object)
        object.bytes.append(UInt8(ascii: "}"))
        swap(&object.bytes, &out)
    }

    /// Appends `text` as a JSON string literal to `out` (the escapes of the `String` form): runs of bytes that need
    /// no escape are copied whole.
    public static func appendQuoted(_ text: String, to out: inout [UInt8]) {
        var text = text
        out.append(UInt8(ascii: "\""))
        text.withUTF8 { bytes in
            var start = 0
            for (index, byte) in bytes.enumerated() where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<index]))
                out.append(UInt8(ascii: "\\"))
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(byte)
                case UInt8(ascii: "\n"): out.append(UInt8(ascii: "n"))
                case UInt8(ascii: "\r"): out.append(UInt8(ascii: "r"))
                case UInt8(ascii: "\t"): out.append(UInt8(ascii: "t"))
                default:
                    let hex = Array("0123456789abcdef".utf8)
                    out.append(contentsOf: "u00".utf8)
                    out.append(hex[Int(byte >> 4)])
                    out.append(hex[Int(byte & 0xf)])
                }
                start = index + 1
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start...]))
        }
        out.append(UInt8(ascii: "\""))
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
