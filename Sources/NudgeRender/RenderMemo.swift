import Mustache

/// Remembers rendered bodies by the values their variables had, so that a plan renders each distinct body once.
///
/// A body without sections reads nothing but its variables: two messages whose variables have the same values get
/// the same text, and a broadcast's 100,000 bodies often differ only in a first name that many customers share. The
/// memo asks the context for those values (through the same lookups Mustache makes, without its dynamic casts and
/// name splitting, which were most of a render), and renders with Mustache only a combination it has not seen.
///
/// A template whose values rarely repeat (an unsubscribe link, a customer id) stops being remembered after a trial
/// of `trial` renders, and each template keeps at most `capacity` bodies. A memo is used by one task at a time: the
/// planner makes one per slice of a plan.
public final class RenderMemo {
    /// One template's remembered bodies.
    final class Cache {
        var bodies: [String: String] = [:]
        var lookups = 0
        var hits = 0
        var isOff = false
    }

    /// Bodies kept per template.
    static let capacity = 8192
    /// Renders after which a template whose values repeated less than `minimumHits` times stops being remembered.
    static let trial = 1024
    static let minimumHits = trial / 5

    private var caches: [String: Cache] = [:]

    public init() {}

    /// `template`'s body rendered with `context`, from the memo when the same values were rendered before.
    public func body(of template: MessageTemplate, context: LazyContext) -> String {
        guard let paths = template.bodyPaths else { return template.body.render(context) }
        let cache: Cache
        if let known = caches[template.file] {
            cache = known
        } else {
            cache = Cache()
            caches[template.file] = cache
        }
        guard !cache.isOff, let key = Self.key(paths, in: context) else { return template.body.render(context) }
        cache.lookups += 1
        if let body = cache.bodies[key] {
            cache.hits += 1
            return body
        }
        if cache.lookups == Self.trial, cache.hits < Self.minimumHits {
            cache.isOff = true
            cache.bodies = [:]
        }
        let body = template.body.render(context)
        if !cache.isOff, cache.bodies.count < Self.capacity { cache.bodies[key] = body }
        return body
    }

    /// Whether bodies of `template` are remembered (false once its trial found too few repeats).
    func isRemembering(_ template: MessageTemplate) -> Bool {
        template.bodyPaths != nil && caches[template.file]?.isOff != true
    }

    /// The values of `paths` in `context`, each with its type and length so that no two combinations share a key;
    /// nil when one of them is not text, a number, a boolean or missing (a list, a group): those are left to
    /// Mustache.
    static func key(_ paths: [[String]], in context: LazyContext) -> String? {
        var key = ""
        for path in paths {
            var value: Any? = context
            for name in path {
                switch value {
                case let group as LazyContext: value = group.child(named: name)
                case let dictionary as [String: String]: value = dictionary[name]
                default: return nil
                }
            }
            switch value {
            case nil: key += "n"
            case let text as String: key += "s\(text.utf8.count):" + text
            case let number as Int: key += "i\(number);"
            case let flag as Bool: key += flag ? "t" : "f"
            default: return nil
            }
        }
        return key
    }
}

extension MessageTemplate {
    /// The dotted paths of the body's variables when the body has no sections (nil otherwise): then the body is a
    /// function of their values (see `RenderMemo`).
    static func memoPaths(_ variables: [TemplateVariable]) -> [[String]]? {
        guard variables.allSatisfy({ !$0.isSection && $0.sections.isEmpty && $0.name != "." }) else { return nil }
        var seen = Set<String>()
        return variables.filter { seen.insert($0.name).inserted }.map { $0.name.split(separator: ".").map(String.init) }
    }
}
