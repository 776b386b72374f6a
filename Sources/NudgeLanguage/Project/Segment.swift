/// A named customer condition: nudge.yaml's `segments:` and the five built-in segments.
public struct Segment: Sendable {
    /// The name, as `"NAME" in customer.segments` and `segment: { enter: NAME }` write it.
    public var name: String
    /// What `nudge segments` shows beside the name.
    public var description: String
    /// Conditions that must all hold, as a workflow's `when`.
    public var conditions: [Condition]
    /// Where nudge.yaml defines it; nil for a built-in segment not redefined.
    public var location: SourceLocation?

    static let keys = ["description", "when"]

    /// The segments it tests with `"NAME" in customer.segments`.
    public var dependencies: Set<String> {
        conditions.reduce(into: Set<String>()) { $0.formUnion($1.segmentsTested) }
    }

    /// Every field its conditions read.
    public var fieldsRead: Set<Field> {
        conditions.reduce(into: Set<Field>()) { $0.formUnion($1.fields) }
    }

    /// The `percent_rank(…)` populations its conditions read.
    public var ranks: Set<RankKey> {
        conditions.reduce(into: Set<RankKey>()) { $0.formUnion($1.ranks) }
    }

    /// The conditions as written, joined with `and`.
    public var definition: String {
        conditions.map(\.text).joined(separator: " and ")
    }
}

extension Segment {
    /// The built-in segments, in the order `nudge segments` lists them; a project may redefine any by name.
    static let builtIns: [(name: String, description: String, when: [String])] = [
        (
            "high_value", "Top 20 % of spenders",
            ["customer.lifetime_value > 0", #"percent_rank(customer.lifetime_value, "positive") >= 0.8"#]
        ),
        ("frequent", "Visited 3 times or more in the last 30 days", ["customer.visits_30d >= 3"]),
        (
            "at_risk", "Came before, quiet for 30 days or more",
            ["customer.visits_total >= 1", "customer.days_since_last_activity >= 30"]
        ),
        ("vip", "High value and frequent", [#""high_value" in customer.segments"#, #""frequent" in customer.segments"#]),
        ("new", "Signed up in the last 30 days", ["hours_since(customer.signed_up_at) < 720"]),
    ]

    /// The built-in segments as compiled, for a project without `segments:`.
    public static let builtInSegments: [Segment] = {
        var diagnostics = Diagnostics()
        return parse(nil, diagnostics: &diagnostics)
    }()

    /// Names a segment may have: letters, digits, `_` and `-`.
    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
    }

    /// The built-in segments with the project's `segments:` mapping (nil when absent) applied: a definition with
    /// a built-in's name replaces it in place, others follow in file order. Reports every problem.
    static func parse(_ node: YAMLNode?, diagnostics: inout Diagnostics) -> [Segment] {
        var entries: [(name: String, description: String, when: [YAMLNode]?, texts: [String], key: YAMLNode?)] =
            builtIns.map { ($0.name, $0.description, nil, $0.when, nil) }
        if let node, !node.isNull {
            guard let pairs = node.mapping else {
                diagnostics.error(
                    "'segments' must be a mapping of name to { description: …, when: … }", at: node.location)
                return []
            }
            var seen = Set<String>()
            for (key, value) in pairs {
                guard let name = key.scalar, isValidName(name) else {
                    diagnostics.error("a segment's name must be letters, digits, '-' and '_', such as regulars", at: key.location)
                    continue
                }
                guard seen.insert(name).inserted else {
                    diagnostics.error("segment '\(name)' is defined twice", at: key.location)
                    continue
                }
                let context = "segment '\(name)'"
                guard let reader = MappingReader(value, context: context, allowed: keys, diagnostics: &diagnostics)
                else { continue }
                let description = reader.string("description", diagnostics: &diagnostics)?.0 ?? ""
                guard let whenNode = reader.required("when", context: context, diagnostics: &diagnostics) else { continue }
                let items = whenNode.sequence ?? [whenNode]
                if items.isEmpty || whenNode.isNull {
                    diagnostics.error("'when' of \(context) is empty: give it a condition", at: whenNode.location)
                    continue
                }
                let entry = (name, description, Optional(items), [String](), Optional(key))
                if let index = entries.firstIndex(where: { $0.name == name }) {
                    entries[index] = entry
                } else {
                    entries.append(entry)
                }
            }
        }

        let names = Set(entries.map(\.name))
        let catalog = FieldCatalog.segment(names: names)
        var segments: [Segment] = []
        var failed = false
        for entry in entries {
            var segment = Segment(name: entry.name, description: entry.description, conditions: [], location: entry.key?.location)
            if let items = entry.when {
                for item in items {
                    guard let text = item.scalar else {
                        diagnostics.error(
                            "each 'when' entry must be an expression such as customer.visits_30d >= 4, not \(item.kindName)",
                            at: item.location, suggestion: item.mapping != nil ? "quote an expression that contains ': '" : nil)
                        failed = true
                        continue
                    }
                    switch Condition.compile(text, catalog: catalog) {
                    case .success(let condition):
                        if let offset = condition.expression.segmentsReadOtherwise(catalog: catalog) {
                            diagnostics.error(
                                "a segment reads other segments only as \"NAME\" in customer.segments",
                                at: item.location(ofOffset: offset))
                            failed = true
                        }
                        segment.conditions.append(condition)
                    case .failure(let error):
                        failed = true
                        for problem in error.problems {
                            diagnostics.error(problem.message, at: item.location(ofOffset: problem.offset), suggestion: problem.suggestion)
                        }
                    }
                }
            } else {
                // Built-in text: compiled with the same catalog, so a redefinition it names is the one it reads.
                segment.conditions = entry.texts.compactMap { try? Condition.compile($0, catalog: catalog).get() }
            }
            segments.append(segment)
        }
        guard !failed else { return segments }
        if case .failure(let error) = evaluationOrder(segments) {
            let cycle = error.names
            let first = segments.first { $0.name == cycle[0] }
            diagnostics.error(
                "segment '\(cycle[0])' depends on itself: " + cycle.joined(separator: " → "),
                at: first?.location ?? node?.location ?? SourceLocation(file: "nudge.yaml"),
                suggestion: "a segment may test other segments, but not one that tests it back")
        }
        return segments
    }

    /// The indices of `segments` in an order where each comes after the segments it tests; or a cycle of names.
    public static func evaluationOrder(_ segments: [Segment]) -> Result<[Int], CycleError> {
        let index = Dictionary(segments.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
        var state = [Int](repeating: 0, count: segments.count)  // 0 new, 1 on the path, 2 done
        var order: [Int] = []
        var path: [Int] = []
        func visit(_ i: Int) -> [String]? {
            if state[i] == 2 { return nil }
            if state[i] == 1 {
                let start = path.firstIndex(of: i) ?? 0
                return (path[start...] + [i]).map { segments[$0].name }
            }
            state[i] = 1
            path.append(i)
            for name in segments[i].dependencies.sorted() {
                if let j = index[name], let cycle = visit(j) { return cycle }
            }
            path.removeLast()
            state[i] = 2
            order.append(i)
            return nil
        }
        for i in segments.indices {
            if let cycle = visit(i) { return .failure(CycleError(names: cycle)) }
        }
        return .success(order)
    }

    /// Segments that test each other in a circle.
    public struct CycleError: Error, Sendable {
        public var names: [String]
    }
}

extension Expression {
    /// The offset of the first read of `customer.segments` that is not the right side of `"NAME" in …` (segments
    /// test each other by name only, so that the order of evaluation is known), or nil.
    func segmentsReadOtherwise(catalog: FieldCatalog) -> Int? {
        switch self {
        case .literal: return nil
        case .path(let path, let offset):
            if case .success(.customer(.segments)) = catalog.resolve(path) { return offset }
            return nil
        case .binary(.in, .literal(.string, _), .path, _):
            return nil
        case .binary(_, let lhs, let rhs, _):
            return lhs.segmentsReadOtherwise(catalog: catalog) ?? rhs.segmentsReadOtherwise(catalog: catalog)
        case .unary(_, let operand, _):
            return operand.segmentsReadOtherwise(catalog: catalog)
        case .list(let items, _), .call(_, let items, _):
            return items.lazy.compactMap { $0.segmentsReadOtherwise(catalog: catalog) }.first
        }
    }
}
