public import Foundation
import NudgeCore

/// A runtime value of a field or expression.
public enum Value: Sendable, Hashable, CustomStringConvertible {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case instant(Date)
    case list([Value])

    /// Whether the value is null.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The value as a number, converting numeric text (attributes arrive as text).
    public var numberValue: Double? {
        switch self {
        case .number(let n): return n
        case .string(let s): return Double(s.trimmingCharacters(in: .whitespaces))
        case .bool(let b): return b ? 1 : 0
        default: return nil
        }
    }

    /// The value as a boolean; null and non-booleans are false, "true"/"yes"/"1" text is true.
    public var isTrue: Bool {
        switch self {
        case .bool(let b): return b
        case .string(let s): return ["true", "yes", "1"].contains(s.lowercased())
        case .number(let n): return n != 0
        default: return false
        }
    }

    /// Text as shown in templates and messages.
    public var description: String {
        switch self {
        case .null: return ""
        case .bool(let b): return b ? "true" : "false"
        case .number(let n): return Value.format(n)
        case .string(let s): return s
        case .instant(let d): return ISO8601.format(d)
        case .list(let items): return items.map(\.description).joined(separator: ", ")
        }
    }

    /// Whole numbers without a fraction, others with up to two decimals.
    public static func format(_ number: Double) -> String {
        JSONText.number(number)
    }
}

/// The static type of a field or expression.
public indirect enum ValueType: Sendable, Hashable, CustomStringConvertible {
    case bool
    case number
    case text
    case instant
    case list(ValueType)
    /// Known only at run time (customer attributes); checked loosely.
    case any
    /// The type of the literal `null`.
    case null

    public var description: String {
        switch self {
        case .bool: return "boolean"
        case .number: return "number"
        case .text: return "text"
        case .instant: return "instant"
        case .list(let element): return "list of \(element)"
        case .any: return "any"
        case .null: return "null"
        }
    }

    /// Whether a value of this type may be compared for equality with `other`.
    func isComparable(with other: ValueType) -> Bool {
        if self == .any || other == .any || self == .null || other == .null { return true }
        return self == other
    }
}
