public import NudgeCore
/// Reads a YAML mapping with a fixed set of keys, reporting unknown, missing and mistyped keys.
public struct MappingReader {
    /// The mapping node.
    public let node: YAMLNode
    /// Pairs by key.
    public private(set) var values: [String: (key: YAMLNode, value: YAMLNode)] = [:]

    /// Reads `node` as a mapping whose keys must be in `allowed`. Returns nil (and reports) when it is not a mapping.
    public init?(_ node: YAMLNode, context: String, allowed: [String], diagnostics: inout Diagnostics) {
        self.node = node
        guard let pairs = node.mapping else {
            diagnostics.error("\(context) must be a mapping, not \(node.kindName)", at: node.location)
            return nil
        }
        for pair in pairs {
            guard let name = pair.key.scalar else {
                diagnostics.error("keys must be plain names", at: pair.key.location)
                continue
            }
            guard allowed.contains(name) else {
                diagnostics.error(
                    "unknown key '\(name)' in \(context)", at: pair.key.location,
                    suggestion: Suggestion.didYouMean(name, in: allowed))
                continue
            }
            values[name] = pair
        }
    }

    /// The value under `key`, if present.
    public subscript(key: String) -> YAMLNode? { values[key]?.value }

    /// The value under `key`, reporting it as missing when absent.
    public func required(_ key: String, context: String, diagnostics: inout Diagnostics) -> YAMLNode? {
        guard let value = values[key]?.value else {
            diagnostics.error("missing key '\(key)' in \(context)", at: node.location)
            return nil
        }
        return value
    }

    /// A text value; reports a mapping or list.
    public func string(_ key: String, diagnostics: inout Diagnostics) -> (String, YAMLNode)? {
        guard let value = self[key] else { return nil }
        guard let text = value.scalar else {
            diagnostics.error("'\(key)' must be text, not \(value.kindName)", at: value.location)
            return nil
        }
        return (text, value)
    }

    /// One of the words an enumeration is spelled with (`category: transactional`); a misspelling is reported with
    /// the closest word.
    public func choice<Choice: RawRepresentable & CaseIterable>(
        _ key: String, as type: Choice.Type, diagnostics: inout Diagnostics
    ) -> Choice? where Choice.RawValue == String {
        guard let (text, node) = string(key, diagnostics: &diagnostics) else { return nil }
        if let value = Choice(rawValue: text) { return value }
        let words = Choice.allCases.map(\.rawValue)
        diagnostics.error(
            "'\(key)' must be \(words.dropLast().joined(separator: ", ")) or \(words.last ?? ""), not '\(text)'",
            at: node.location, suggestion: Suggestion.didYouMean(text, in: words))
        return nil
    }

    /// A boolean value (`true/false/yes/no`).
    public func bool(_ key: String, diagnostics: inout Diagnostics) -> Bool? {
        guard let value = self[key] else { return nil }
        switch value.scalar?.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            diagnostics.error("'\(key)' must be true or false", at: value.location)
            return nil
        }
    }

    /// An integer value within `range`.
    public func integer(_ key: String, in range: ClosedRange<Int>, diagnostics: inout Diagnostics) -> Int? {
        guard let value = self[key] else { return nil }
        return MappingReader.integer(value, name: key, in: range, diagnostics: &diagnostics)
    }

    /// A duration scalar (`30m`, `12h`, `1d`, `2w`) of at most a year, positive unless `allowsZero`, or nil with a
    /// diagnostic: "'NAME' must be KIND such as EXAMPLES (at most a year), not 'VALUE'".
    public static func duration(
        _ value: YAMLNode, name: String, kind: String = "a positive duration", examples: String, allowsZero: Bool = false,
        diagnostics: inout Diagnostics
    ) -> DurationSpec? {
        if let text = value.scalar, let duration = DurationSpec(parsing: text),
            duration.seconds > 0 || (allowsZero && duration.seconds == 0), duration.seconds <= 366 * 86_400
        {
            return duration
        }
        diagnostics.error("'\(name)' must be \(kind) such as \(examples) (at most a year), not '\(value)'", at: value.location)
        return nil
    }

    /// An integer scalar within `range`, or nil with a diagnostic.
    public static func integer(_ value: YAMLNode, name: String, in range: ClosedRange<Int>, diagnostics: inout Diagnostics)
        -> Int?
    {
        guard let text = value.scalar, let number = Int(text) else {
            diagnostics.error("'\(name)' must be a whole number, not '\(value)'", at: value.location)
            return nil
        }
        guard range.contains(number) else {
            let bounds =
                range.upperBound == Int.max
                ? "at least \(range.lowerBound)" : "between \(range.lowerBound) and \(range.upperBound)"
            diagnostics.error("'\(name)' must be \(bounds), not \(number)", at: value.location)
            return nil
        }
        return number
    }

    /// One integer or a list of integers within `range`, without repeats.
    public static func integers(_ value: YAMLNode, name: String, in range: ClosedRange<Int>, diagnostics: inout Diagnostics)
        -> [Int]?
    {
        let items = value.sequence ?? [value]
        guard !items.isEmpty else {
            diagnostics.error("'\(name)' needs at least one number", at: value.location)
            return nil
        }
        var numbers: [Int] = []
        var ok = true
        for item in items {
            guard let number = integer(item, name: name, in: range, diagnostics: &diagnostics) else {
                ok = false
                continue
            }
            if numbers.contains(number) {
                diagnostics.error("'\(name)' lists \(number) twice", at: item.location)
                ok = false
            }
            numbers.append(number)
        }
        return ok ? numbers.sorted() : nil
    }
}
