import Foundation

// Lint on conditions (`nudge check` warnings): a condition that can never hold, and two workflows' conditions that
// cannot both hold (so that their workflows never reach the same customer).

extension Condition {
    /// Why the condition can never hold, when folding its constant parts shows it; nil when it may hold.
    ///
    /// Each part of a top-level `and` is looked at on its own: a comparison with `null` (always false in the
    /// language), or a part that reads no field and folds to false.
    public var neverHoldsReason: String? {
        for part in Self.conjuncts(expression) {
            if case .binary(let op, let lhs, let rhs, _) = part, op.isComparison, lhs.isNullLiteral || rhs.isNullLiteral {
                return "'\(op.rawValue) null' is always false (a comparison with null is false)"
            }
            guard part.readsNoField,
                case .success(let constant) = Condition.compile(part.description, catalog: FieldCatalog(trigger: nil)),
                !constant.holds(for: NoFields())
            else { continue }
            return part.isLiteral ? "it is always false" : "'\(part.description)' is always false"
        }
        return nil
    }

    /// The parts of a top-level `and` (the expression itself when it is no `and`).
    static func conjuncts(_ expression: Expression) -> [Expression] {
        if case .binary(.and, let lhs, let rhs, _) = expression { return conjuncts(lhs) + conjuncts(rhs) }
        return [expression]
    }

    /// Whether `these` and `those` (the conditions of two workflows, all of which must hold) can never hold at once,
    /// as far as simple reasoning shows: one part is the other's `not`, one field is compared with numbers whose
    /// ranges do not meet, or one field is required equal to two different values. False means "may overlap".
    public static func exclude(_ these: [Condition], _ those: [Condition]) -> Bool {
        let left = these.flatMap { conjuncts($0.expression) }
        let right = those.flatMap { conjuncts($0.expression) }
        for a in left {
            for b in right {
                if case .unary(.not, let inner, _) = a, inner.description == b.description { return true }
                if case .unary(.not, let inner, _) = b, inner.description == a.description { return true }
            }
        }
        // Per field: the numeric range the parts of both sides allow, and the value an equality pins.
        var ranges: [String: (low: Double, lowIncluded: Bool, high: Double, highIncluded: Bool)] = [:]
        var pinned: [String: String] = [:]
        for part in left + right {
            guard let (path, op, value) = part.comparisonWithLiteral else { continue }
            if op == .equal {
                let text = value.description
                if let other = pinned[path], other != text { return true }
                pinned[path] = text
            }
            guard let number = value.numberValue, case .number = value else { continue }
            var range = ranges[path] ?? (-.infinity, false, .infinity, false)
            switch op {
            case .less, .lessOrEqual:
                if number < range.high || (number == range.high && op == .less) { range.high = number; range.highIncluded = op == .lessOrEqual }
            case .greater, .greaterOrEqual:
                if number > range.low || (number == range.low && op == .greater) { range.low = number; range.lowIncluded = op == .greaterOrEqual }
            case .equal:
                if number > range.low || (number == range.low && !range.lowIncluded) { (range.low, range.lowIncluded) = (number, true) }
                if number < range.high || (number == range.high && !range.highIncluded) { (range.high, range.highIncluded) = (number, true) }
            default: continue
            }
            ranges[path] = range
            if range.low > range.high || (range.low == range.high && !(range.lowIncluded && range.highIncluded)) { return true }
        }
        return false
    }
}

/// A source in which every field is null: what a condition that reads no field is evaluated against.
private struct NoFields: FieldSource {
    func value(of field: Field) -> Value { .null }
    var now: Date { Date(timeIntervalSince1970: 0) }
    var zone: TimeZone { .gmt }
    func percentRank(_ rank: RankKey, of value: Value) -> Value { .null }
}

extension Expression.BinaryOperator {
    var isComparison: Bool {
        switch self {
        case .equal, .notEqual, .less, .lessOrEqual, .greater, .greaterOrEqual: return true
        default: return false
        }
    }

    /// The operator with its sides swapped (`1 < x` is `x > 1`).
    var flipped: Self {
        switch self {
        case .less: return .greater
        case .lessOrEqual: return .greaterOrEqual
        case .greater: return .less
        case .greaterOrEqual: return .lessOrEqual
        default: return self
        }
    }
}

extension Expression {
    var isNullLiteral: Bool {
        if case .literal(.null, _) = self { return true }
        return false
    }

    var isLiteral: Bool {
        if case .literal = self { return true }
        return false
    }

    /// Whether it reads no field (no path, no function call).
    var readsNoField: Bool {
        switch self {
        case .literal: return true
        case .path, .call: return false
        case .list(let items, _): return items.allSatisfy(\.readsNoField)
        case .unary(_, let operand, _): return operand.readsNoField
        case .binary(_, let lhs, let rhs, _): return lhs.readsNoField && rhs.readsNoField
        }
    }

    /// `path OP literal` (or `literal OP path`, turned around) for a comparison.
    var comparisonWithLiteral: (path: String, op: BinaryOperator, value: Value)? {
        guard case .binary(let op, let lhs, let rhs, _) = self, op.isComparison else { return nil }
        switch (lhs, rhs) {
        case (.path(let path, _), .literal(let value, _)): return (path, op, value)
        case (.literal(let value, _), .path(let path, _)): return (path, op.flipped, value)
        default: return nil
        }
    }
}
