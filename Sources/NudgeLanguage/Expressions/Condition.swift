public import Foundation
import NudgeCore

/// What a compiled condition reads at evaluation time.
public protocol FieldSource {
    /// The value of a field for the customer (and occurrence) being evaluated.
    func value(of field: Field) -> Value
    /// The evaluation instant.
    var now: Date { get }
    /// The customer's time zone, for calendar-day functions.
    var zone: TimeZone { get }
    /// `percent_rank(…)`: the share of the customers of `rank`'s population whose value is strictly smaller than
    /// `value` (the customer's own); null when the value is null or outside the population.
    func percentRank(_ rank: RankKey, of value: Value) -> Value
}

/// A `percent_rank(…)` population: one field over every customer, those with a non-null value (or, with
/// `"positive"`, a value above zero).
public struct RankKey: Sendable, Hashable, CustomStringConvertible {
    /// The field ranked.
    public var field: Field
    /// Whether only values above zero count (`percent_rank(customer.F, "positive")`).
    public var isPositiveOnly: Bool

    public init(field: Field, isPositiveOnly: Bool) {
        self.field = field
        self.isPositiveOnly = isPositiveOnly
    }

    /// Whether `value` belongs to the population, as a number.
    public func member(_ value: Value) -> Double? {
        guard !value.isNull, let number = value.numberValue else { return nil }
        return isPositiveOnly && number <= 0 ? nil : number
    }

    /// The share of `sorted` (ascending) strictly below `value`; null when `value` is not in the population.
    public func rank(of value: Value, in sorted: [Double]) -> Value {
        guard let number = member(value), !sorted.isEmpty else { return .null }
        var low = 0
        var high = sorted.count
        while low < high {
            let middle = (low + high) / 2
            if sorted[middle] < number { low = middle + 1 } else { high = middle }
        }
        return .number(Double(low) / Double(sorted.count))
    }

    public var description: String {
        "percent_rank(\(field)" + (isPositiveOnly ? ", \"positive\")" : ")")
    }
}

/// A `when:` expression parsed, type-checked against the field catalog and compiled to a closure.
public struct Condition: Sendable, CustomStringConvertible {
    /// The expression as written.
    public var text: String
    /// The syntax tree.
    public var expression: Expression
    /// Every field the expression reads.
    public var fields: Set<Field>
    /// The `percent_rank(…)` populations it reads.
    public var ranks: Set<RankKey>
    /// The segment names it tests with `"NAME" in customer.segments`.
    public var segmentsTested: Set<String>
    let evaluate: @Sendable (any FieldSource) -> Value

    /// Whether the condition holds: true, or text that reads as true ("true", "yes", "1": a bare
    /// `customer.attributes.x`, which arrives as text), as `and`, `or` and `not` read it. Null and
    /// anything else is false.
    public func holds(for source: any FieldSource) -> Bool {
        switch evaluate(source) {
        case .bool(let value): return value
        case .string(let text): return Value.string(text).isTrue
        default: return false
        }
    }

    /// The raw result, for tests.
    public func value(for source: any FieldSource) -> Value {
        evaluate(source)
    }

    public var description: String { text }

    /// Parses, checks and compiles `text`. Errors carry offsets into `text`.
    public static func compile(_ text: String, catalog: FieldCatalog) -> Result<Condition, ConditionError> {
        let expression: Expression
        do {
            expression = try ExpressionParser.parse(text)
        } catch {
            return .failure(ConditionError(errors: [error]))
        }
        var checker = TypeChecker(catalog: catalog)
        let type = checker.check(expression)
        if checker.errors.isEmpty, type != .bool, type != .any {
            checker.errors.append(
                ExpressionError(
                    message: "a condition must be true or false, but this is \(article(type))",
                    offset: expression.offset,
                    suggestion: type == .number ? "compare it, for example '… > 0'" : nil))
        }
        guard checker.errors.isEmpty else { return .failure(ConditionError(errors: checker.errors)) }
        let closure = ConditionCompiler(catalog: catalog).compile(expression)
        return .success(
            Condition(
                text: text, expression: expression, fields: checker.fields, ranks: checker.ranks,
                segmentsTested: checker.segmentsTested, evaluate: closure))
    }
}

/// The problems found in one expression.
public struct ConditionError: Error, Sendable {
    /// (message, offset in the text, suggestion)
    public var problems: [(message: String, offset: Int, suggestion: String?)]

    init(errors: [ExpressionError]) {
        problems = errors.map { ($0.message, $0.offset, $0.suggestion) }
    }
}

func article(_ type: ValueType) -> String {
    switch type {
    case .instant, .any: return "an \(type)"
    case .null: return "null"
    case .text: return "text"
    default: return "a \(type)"
    }
}

/// Static typing of expressions against the field list.
struct TypeChecker {
    var catalog: FieldCatalog
    var errors: [ExpressionError] = []
    var fields: Set<Field> = []
    var ranks: Set<RankKey> = []
    var segmentsTested: Set<String> = []

    static let functions = ["has", "days_since", "hours_since", "lower", "percent_rank"]

    mutating func check(_ expression: Expression) -> ValueType {
        switch expression {
        case .literal(let value, _):
            switch value {
            case .null: return .null
            case .bool: return .bool
            case .number: return .number
            case .string: return .text
            case .instant: return .instant
            case .list: return .list(.any)
            }
        case .path(let path, let offset):
            switch catalog.resolve(path) {
            case .success(let field):
                fields.insert(field)
                return field.type
            case .failure(.unknown(let suggestion)):
                if !path.contains(".") {
                    errors.append(
                        ExpressionError(
                            message: "unknown name '\(path)'", offset: offset,
                            suggestion: suggestion ?? "fields are written with their group, e.g. 'customer.\(path)'"))
                } else {
                    errors.append(ExpressionError(message: "unknown field '\(path)'", offset: offset, suggestion: suggestion))
                }
                return .any
            case .failure(.unavailable(let message)):
                errors.append(ExpressionError(message: message, offset: offset))
                return .any
            }
        case .list(let items, _):
            var element: ValueType? = nil
            for item in items {
                let type = check(item)
                if let known = element, known != type, type != .null, known != .any {
                    errors.append(ExpressionError(message: "list items must have one type", offset: item.offset))
                } else if element == nil {
                    element = type
                }
            }
            return .list(element ?? .any)
        case .unary(let op, let operand, let offset):
            let type = check(operand)
            switch op {
            case .not:
                if type != .bool, type != .any {
                    errors.append(ExpressionError(message: "'not' needs true or false, not \(article(type))", offset: offset))
                }
                return .bool
            case .negate:
                if type != .number, type != .any {
                    errors.append(ExpressionError(message: "'-' needs a number, not \(article(type))", offset: offset))
                }
                return .number
            }
        case .binary(let op, let lhs, let rhs, let offset):
            let left = check(lhs)
            let right = check(rhs)
            switch op {
            case .and, .or:
                for (type, side) in [(left, lhs), (right, rhs)] where type != .bool && type != .any {
                    errors.append(
                        ExpressionError(
                            message: "'\(op.rawValue)' needs true or false on both sides, not \(article(type))",
                            offset: side.offset))
                }
                return .bool
            case .equal, .notEqual:
                if !left.isComparable(with: right) {
                    errors.append(
                        ExpressionError(
                            message: "cannot compare \(article(left)) with \(article(right)) using '\(op.rawValue)'",
                            offset: offset))
                }
                return .bool
            case .less, .lessOrEqual, .greater, .greaterOrEqual:
                let ordered: Set<ValueType> = [.number, .text, .instant, .any]
                if !ordered.contains(left) || !ordered.contains(right) || !left.isComparable(with: right) {
                    errors.append(
                        ExpressionError(
                            message: "cannot order \(article(left)) and \(article(right)) using '\(op.rawValue)'",
                            offset: offset,
                            suggestion: left == .instant || right == .instant
                                ? "use days_since(…) to compare instants with numbers" : nil))
                }
                return .bool
            case .in:
                if case .path(let path, _) = rhs, case .success(.customer(.segments)) = catalog.resolve(path),
                    case .literal(.string(let name), let nameOffset) = lhs
                {
                    segmentsTested.insert(name)
                    if let known = catalog.segments, !known.contains(name) {
                        errors.append(
                            ExpressionError(
                                message: "unknown segment '\(name)'", offset: nameOffset,
                                suggestion: Suggestion.didYouMean(name, in: known.sorted())
                                    ?? "segments are defined under 'segments:' in nudge.yaml"))
                    }
                }
                switch right {
                case .list(let element):
                    if !left.isComparable(with: element) {
                        errors.append(
                            ExpressionError(
                                message: "cannot look for \(article(left)) in a \(right)", offset: offset))
                    }
                case .any:
                    break
                default:
                    errors.append(
                        ExpressionError(
                            message: "'in' needs a list on its right, not \(article(right))", offset: rhs.offset))
                }
                return .bool
            case .add, .subtract, .multiply, .divide:
                if op == .add, left == .text || right == .text {
                    if (left != .text && left != .any) || (right != .text && right != .any) {
                        errors.append(ExpressionError(message: "cannot add \(article(left)) and \(article(right))", offset: offset))
                    }
                    return .text
                }
                for (type, side) in [(left, lhs), (right, rhs)] where type != .number && type != .any {
                    errors.append(
                        ExpressionError(
                            message: "'\(op.rawValue)' needs numbers, not \(article(type))", offset: side.offset,
                            suggestion: type == .instant ? "use days_since(…)" : nil))
                }
                return .number
            }
        case .call(let name, let arguments, let offset):
            guard TypeChecker.functions.contains(name) else {
                errors.append(
                    ExpressionError(
                        message: "unknown function '\(name)'", offset: offset,
                        suggestion: Suggestion.didYouMean(name, in: TypeChecker.functions)))
                arguments.forEach { _ = check($0) }
                return .any
            }
            if name == "percent_rank" { return checkPercentRank(arguments, offset: offset) }
            guard arguments.count == 1 else {
                errors.append(
                    ExpressionError(message: "\(name)(…) takes one argument, not \(arguments.count)", offset: offset))
                return name == "has" ? .bool : name == "lower" ? .text : .number
            }
            let argument = arguments[0]
            switch name {
            case "has":
                guard case .path = argument else {
                    errors.append(ExpressionError(message: "has(…) takes a field, e.g. has(customer.email)", offset: argument.offset))
                    return .bool
                }
                _ = check(argument)
                return .bool
            case "days_since", "hours_since":
                let type = check(argument)
                if type != .instant, type != .any {
                    errors.append(
                        ExpressionError(message: "\(name)(…) needs an instant, not \(article(type))", offset: argument.offset))
                }
                return .number
            default:
                let type = check(argument)
                if type != .text, type != .any {
                    errors.append(ExpressionError(message: "lower(…) needs text, not \(article(type))", offset: argument.offset))
                }
                return .text
            }
        }
    }
}

extension TypeChecker {
    /// `percent_rank(customer.FIELD)` or `percent_rank(customer.FIELD, "positive")`: a number field of the
    /// customer (or an attribute, read as a number), ranked among all customers.
    mutating func checkPercentRank(_ arguments: [Expression], offset: Int) -> ValueType {
        guard (1...2).contains(arguments.count) else {
            errors.append(
                ExpressionError(
                    message: "percent_rank(…) takes a customer field and, optionally, \"positive\"", offset: offset))
            return .number
        }
        guard case .path(let path, let pathOffset) = arguments[0] else {
            errors.append(
                ExpressionError(
                    message: "percent_rank(…) takes a customer field, e.g. percent_rank(customer.lifetime_value)",
                    offset: arguments[0].offset))
            return .number
        }
        let type = check(arguments[0])
        if case .success(let field) = catalog.resolve(path) {
            switch field {
            case .customer, .attribute:
                if type != .number, type != .any {
                    errors.append(
                        ExpressionError(
                            message: "percent_rank(…) ranks numbers, but '\(path)' is \(article(type))", offset: pathOffset))
                }
            default:
                errors.append(
                    ExpressionError(
                        message: "percent_rank(…) ranks customer fields, not '\(path)'", offset: pathOffset,
                        suggestion: "rank a field such as customer.lifetime_value or customer.visits_total"))
            }
            var isPositiveOnly = false
            if arguments.count == 2 {
                if case .literal(.string("positive"), _) = arguments[1] {
                    isPositiveOnly = true
                } else {
                    errors.append(
                        ExpressionError(
                            message: "the second argument of percent_rank(…) can only be \"positive\" (rank among values above zero)",
                            offset: arguments[1].offset))
                }
            }
            ranks.insert(RankKey(field: field, isPositiveOnly: isPositiveOnly))
        }
        return .number
    }
}

/// Turns a checked expression into nested closures, once, so evaluation walks no tree and looks up no names.
struct ConditionCompiler {
    typealias Evaluator = @Sendable (any FieldSource) -> Value
    var catalog: FieldCatalog

    func compile(_ expression: Expression) -> Evaluator {
        switch expression {
        case .literal(let value, _):
            return { _ in value }
        case .path(let path, _):
            guard case .success(let field) = catalog.resolve(path) else { return { _ in .null } }
            return { $0.value(of: field) }
        case .list(let items, _):
            let compiled = items.map(compile)
            return { source in .list(compiled.map { $0(source) }) }
        case .unary(.not, let operand, _):
            let inner = compile(operand)
            return { .bool(!inner($0).isTrue) }
        case .unary(.negate, let operand, _):
            let inner = compile(operand)
            return { source in
                guard let n = inner(source).numberValue else { return .null }
                return .number(-n)
            }
        case .binary(let op, let lhs, let rhs, _):
            let left = compile(lhs)
            let right = compile(rhs)
            switch op {
            case .and: return { .bool(left($0).isTrue && right($0).isTrue) }
            case .or: return { .bool(left($0).isTrue || right($0).isTrue) }
            case .equal: return { .bool(ConditionCompiler.equal(left($0), right($0)) == true) }
            case .notEqual:
                return { source in
                    guard let equal = ConditionCompiler.equal(left(source), right(source)) else { return .bool(false) }
                    return .bool(!equal)
                }
            case .less, .lessOrEqual, .greater, .greaterOrEqual:
                return { source in
                    guard let order = ConditionCompiler.order(left(source), right(source)) else { return .bool(false) }
                    switch op {
                    case .less: return .bool(order < 0)
                    case .lessOrEqual: return .bool(order <= 0)
                    case .greater: return .bool(order > 0)
                    default: return .bool(order >= 0)
                    }
                }
            case .in:
                return { source in
                    let needle = left(source)
                    guard !needle.isNull, case .list(let items) = right(source) else { return .bool(false) }
                    return .bool(items.contains { ConditionCompiler.equal(needle, $0) == true })
                }
            case .add, .subtract, .multiply, .divide:
                // `+` joins text only where the checker typed it as text (a side is text, not just attributes,
                // which arrive as text but may hold numbers): `attributes.a + attributes.b` adds.
                let joinsText = op == .add && (staticType(of: lhs) == .text || staticType(of: rhs) == .text)
                return { source in
                    let a = left(source)
                    let b = right(source)
                    if joinsText {
                        guard case .string(let x) = a, case .string(let y) = b else { return .null }
                        return .string(x + y)
                    }
                    guard let x = a.numberValue, let y = b.numberValue, !a.isNull, !b.isNull else { return .null }
                    switch op {
                    case .add: return .number(x + y)
                    case .subtract: return .number(x - y)
                    case .multiply: return .number(x * y)
                    default: return y == 0 ? .null : .number(x / y)
                    }
                }
            }
        case .call(let name, let arguments, _):
            guard let argument = arguments.first else { return { _ in .null } }
            switch name {
            case "has":
                let inner = compile(argument)
                return { source in
                    switch inner(source) {
                    case .null: return .bool(false)
                    case .string(let s): return .bool(!s.isEmpty)
                    case .list(let items): return .bool(!items.isEmpty)
                    default: return .bool(true)
                    }
                }
            case "percent_rank":
                guard case .path(let path, _) = argument, case .success(let field) = catalog.resolve(path) else {
                    return { _ in .null }
                }
                var isPositiveOnly = false
                if arguments.count == 2, case .literal(.string("positive"), _) = arguments[1] { isPositiveOnly = true }
                let rank = RankKey(field: field, isPositiveOnly: isPositiveOnly)
                return { source in source.percentRank(rank, of: source.value(of: field)) }
            case "hours_since":
                let inner = compile(argument)
                return { source in
                    guard let instant = ConditionCompiler.instant(inner(source), zone: source.zone) else { return .null }
                    return .number(source.now.timeIntervalSince(instant) / 3_600)
                }
            case "days_since":
                let inner = compile(argument)
                return { source in
                    guard let instant = ConditionCompiler.instant(inner(source), zone: source.zone) else { return .null }
                    let zone = source.zone
                    return .number(Double(zone.localDate(of: instant).days(to: zone.localDate(of: source.now))))
                }
            default:
                let inner = compile(argument)
                return { source in
                    guard case .string(let s) = inner(source) else { return .null }
                    return .string(s.lowercased())
                }
            }
        }
    }

    /// An instant, or text holding one (an attribute).
    static func instant(_ value: Value, zone: TimeZone) -> Date? {
        switch value {
        case .instant(let d): return d
        case .string(let s): return ISO8601.parse(s, zone: zone)
        default: return nil
        }
    }

    /// The type the checker gives `expression`.
    func staticType(of expression: Expression) -> ValueType {
        var checker = TypeChecker(catalog: catalog)
        return checker.check(expression)
    }

    /// Equality with null semantics: nil when either side is null.
    static func equal(_ a: Value, _ b: Value) -> Bool? {
        if a.isNull || b.isNull { return nil }
        switch (a, b) {
        case (.number(let x), .string), (.string, .number(let x)):
            let other = a.isNumber ? b : a
            guard let y = other.numberValue else { return false }
            return x == y
        case (.bool(let x), .string), (.string, .bool(let x)):
            let other = a.isBool ? b : a
            guard case .string(let s) = other else { return false }
            return x == other.isTrue && ["true", "false", "yes", "no", "1", "0"].contains(s.lowercased())
        default:
            return a == b
        }
    }

    /// Ordering with null semantics: nil when either side is null or the kinds differ.
    static func order(_ a: Value, _ b: Value) -> Int? {
        switch (a, b) {
        case (.string(let x), .string(let y)):
            if let p = Double(x), let q = Double(y) { return p < q ? -1 : p > q ? 1 : 0 }
            return x < y ? -1 : x > y ? 1 : 0
        case (.instant(let x), .instant(let y)): return x < y ? -1 : x > y ? 1 : 0
        case (.instant(let x), .string(let s)), (.string(let s), .instant(let x)):
            guard let y = ISO8601.parse(s, zone: TimeZone(identifier: "UTC")!) else { return nil }
            let result = x < y ? -1 : x > y ? 1 : 0
            return a.isInstant ? result : -result
        default:
            guard !a.isNull, !b.isNull, let x = a.numberValue, let y = b.numberValue else { return nil }
            return x < y ? -1 : x > y ? 1 : 0
        }
    }
}

extension Value {
    var isNumber: Bool {
        if case .number = self { return true }
        return false
    }
    var isBool: Bool {
        if case .bool = self { return true }
        return false
    }
    var isInstant: Bool {
        if case .instant = self { return true }
        return false
    }
}
