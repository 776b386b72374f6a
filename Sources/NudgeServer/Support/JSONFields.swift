public import Foundation

/// A JSON object read leniently: providers add fields and vary number and string types, and a webhook must not
/// fail on what it does not need.
public struct JSONFields {
    private let values: [String: Any]

    public init?(_ value: Any?) {
        guard let values = value as? [String: Any] else { return nil }
        self.values = values
    }

    /// Parses `data` as one JSON value (object or array).
    public static func parse(_ data: Data) -> Any? {
        try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
    }

    /// A string field, or a number written as text.
    public func string(_ key: String) -> String? {
        switch values[key] {
        case let text as String: return text
        case let number as NSNumber: return number.stringValue
        default: return nil
        }
    }

    /// A number field, or text holding one.
    public func number(_ key: String) -> Double? {
        switch values[key] {
        case let number as NSNumber: return number.doubleValue
        case let text as String: return Double(text)
        default: return nil
        }
    }

    /// A nested object.
    public func object(_ key: String) -> JSONFields? {
        JSONFields(values[key])
    }
}
