internal import Yams

/// A YAML node decoded from Yams at once into a Sendable value that keeps its source location.
public struct YAMLNode: Sendable, CustomStringConvertible {
    /// The scalar quoting style, needed to map columns inside expression strings.
    public enum ScalarStyle: Sendable {
        case plain, singleQuoted, doubleQuoted, literal, folded
    }

    /// The node's shape.
    public enum Kind: Sendable {
        case scalar(String, ScalarStyle)
        case mapping([(key: YAMLNode, value: YAMLNode)])
        case sequence([YAMLNode])
    }

    /// What the node holds.
    public var kind: Kind
    /// Where it starts.
    public var location: SourceLocation

    /// Creates a node.
    public init(_ kind: Kind, at location: SourceLocation) {
        self.kind = kind
        self.location = location
    }

    /// The scalar's text, or nil for a mapping or sequence.
    public var scalar: String? {
        if case .scalar(let text, _) = kind { return text }
        return nil
    }

    /// Whether this is a plain `null`, `~` or empty scalar.
    public var isNull: Bool {
        if case .scalar(let text, .plain) = kind { return text.isEmpty || text == "~" || text == "null" || text == "Null" || text == "NULL" }
        return false
    }

    /// The mapping's pairs, or nil.
    public var mapping: [(key: YAMLNode, value: YAMLNode)]? {
        if case .mapping(let pairs) = kind { return pairs }
        return nil
    }

    /// The sequence's items, or nil.
    public var sequence: [YAMLNode]? {
        if case .sequence(let items) = kind { return items }
        return nil
    }

    /// A short name of the node's kind for messages: "a mapping", "a list", "text".
    public var kindName: String {
        switch kind {
        case .scalar: return "a scalar"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        }
    }

    /// The location of the character at `offset` (in Unicode scalars) inside a one-line scalar's text.
    public func location(ofOffset offset: Int) -> SourceLocation {
        guard case .scalar(_, let style) = kind else { return location }
        switch style {
        case .plain: return location.advanced(by: offset)
        case .singleQuoted, .doubleQuoted: return location.advanced(by: offset + 1)
        case .literal, .folded: return SourceLocation(file: location.file, line: location.line + 1, column: 0)
        }
    }

    public var description: String {
        switch kind {
        case .scalar(let text, _): return text
        case .mapping(let pairs): return "{" + pairs.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + "}"
        case .sequence(let items): return "[" + items.map(\.description).joined(separator: ", ") + "]"
        }
    }
}

/// Parses YAML text into `YAMLNode`s, turning Yams errors into located diagnostics.
public enum YAMLReader {
    /// Parses one YAML document. Returns nil and a diagnostic when the text is not valid YAML.
    public static func parse(_ text: String, file: String) -> (node: YAMLNode?, diagnostics: [Diagnostic]) {
        do {
            // No tag resolution: the reader keeps each scalar's text and style and types values itself, so the
            // default resolver's regular expressions (compiled at first use, then run on every key) buy nothing.
            guard let node = try Yams.compose(yaml: text, .basic) else {
                return (nil, [.error("the file is empty", at: SourceLocation(file: file, line: 1, column: 1))])
            }
            var diagnostics: [Diagnostic] = []
            let converted = convert(node, file: file, diagnostics: &diagnostics)
            return (converted, diagnostics)
        } catch let error as YamlError {
            return (nil, [diagnostic(for: error, file: file)])
        } catch {
            return (nil, [.error("invalid YAML: \(error)", at: SourceLocation(file: file, line: 1, column: 1))])
        }
    }

    private static func diagnostic(for error: YamlError, file: String) -> Diagnostic {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _):
            var message = "invalid YAML: \(problem)"
            if let context { message += " \(context.text)" }
            return .error(message, at: SourceLocation(file: file, line: mark.line, column: mark.column))
        case .composer(let context, let problem, let mark, _):
            var message = "invalid YAML: \(problem)"
            if let context { message += " \(context.text)" }
            return .error(message, at: SourceLocation(file: file, line: mark.line, column: mark.column))
        case .duplicatedKeysInMapping(let duplicates, let context):
            return .error(
                "duplicate key '\(duplicates.joined(separator: "', '"))'",
                at: SourceLocation(file: file, line: context.mark.line, column: context.mark.column))
        default:
            return .error("invalid YAML: \(error)", at: SourceLocation(file: file, line: 1, column: 1))
        }
    }

    private static func convert(_ node: Node, file: String, diagnostics: inout [Diagnostic]) -> YAMLNode {
        let location = SourceLocation(file: file, line: node.mark?.line ?? 0, column: node.mark?.column ?? 0)
        switch node {
        case .scalar(let scalar):
            let style: YAMLNode.ScalarStyle
            switch scalar.style {
            case .singleQuoted: style = .singleQuoted
            case .doubleQuoted: style = .doubleQuoted
            case .literal: style = .literal
            case .folded: style = .folded
            default: style = .plain
            }
            return YAMLNode(.scalar(scalar.string, style), at: location)
        case .mapping(let mapping):
            var pairs: [(key: YAMLNode, value: YAMLNode)] = []
            var seen: [String: SourceLocation] = [:]
            for (key, value) in mapping {
                let convertedKey = convert(key, file: file, diagnostics: &diagnostics)
                if let name = convertedKey.scalar {
                    if let first = seen[name] {
                        diagnostics.append(
                            .error("duplicate key '\(name)' (first at line \(first.line))", at: convertedKey.location))
                        continue
                    }
                    seen[name] = convertedKey.location
                }
                pairs.append((convertedKey, convert(value, file: file, diagnostics: &diagnostics)))
            }
            return YAMLNode(.mapping(pairs), at: location)
        case .sequence(let sequence):
            return YAMLNode(.sequence(sequence.map { convert($0, file: file, diagnostics: &diagnostics) }), at: location)
        case .alias:
            diagnostics.append(.error("YAML aliases are not supported here", at: location))
            return YAMLNode(.scalar("", .plain), at: location)
        }
    }
}
