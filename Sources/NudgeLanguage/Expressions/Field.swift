/// The trigger kinds of the workflow language.
public enum TriggerKind: String, Sendable, Hashable, CaseIterable, Codable {
    case birthday
    case inactivity
    case milestone
    case signup
    case segment
    case reward
    case visit
    case once
    case schedule
    case new_offer

    /// Whether its occurrences come from a stamp card, whose `offer.*` and `progress.*` conditions and templates read.
    public var readsStampCard: Bool { self == .milestone || self == .reward }

    /// Whether its occurrences name an offer, whose `offer.*` conditions and templates read.
    public var readsOffer: Bool { readsStampCard || self == .new_offer }

    /// Whether every customer is a candidate (whose `when` holds): a broadcast at the trigger's times.
    public var isBroadcast: Bool { self == .once || self == .schedule || self == .new_offer }
}

/// A field that conditions and templates can read (design §4).
public enum Field: Sendable, Hashable, CustomStringConvertible {
    case customer(CustomerField)
    /// `customer.attributes.<name>`: an imported extra column.
    case attribute(String)
    case offer(OfferField)
    case progress(ProgressField)
    case trigger(TriggerField)
    case business(BusinessField)
    case workflow(WorkflowField)

    /// Fields of `customer.`.
    public enum CustomerField: String, Sendable, Hashable, CaseIterable {
        case id, name, first_name, email, phone, birth_date, timezone, signed_up_at, tags, attributes
        /// The `preferences` column, `;`-separated, as a list (what a new_offer workflow matches a category against).
        case preferences
        case email_opt_in, sms_opt_in, push_opt_in, push_token, wallet_pass_id
        /// `android`, `ios`, `web`; `google`, `apple` (null when not imported).
        case push_platform, wallet_platform
        case last_visit_at, last_activity_at, days_since_last_activity
        case visits_total, visits_30d, visits_90d, lifetime_value, age
        /// The names of the segments the customer is in (nudge.yaml `segments:` and the built-in ones).
        case segments
        /// The customer model's (`nudge model fit`): null for a customer without visits or before the first fit.
        case p_alive, churn_risk, expected_visits_90d, avg_spend, clv
        /// Where the customer stands (`vip`, `new`, `inactive`, `churning`, `active`) and how far they came
        /// (`new`, `one_time`, `repeat`, `loyal`, `vip`): both read the vip segment, so segments cannot read them.
        case status, lifecycle
        /// 0–100: recency, frequency, spend and how the customer answers messages; and what to do next
        /// (`welcome`, `vip_thanks`, `reward_reminder`, `win_back`, `second_visit`, `none`).
        case engagement_score, next_action

        /// The field's static type.
        public var type: ValueType {
            switch self {
            case .id, .name, .first_name, .email, .phone, .birth_date, .timezone, .push_token, .wallet_pass_id, .status,
                .lifecycle, .next_action, .push_platform, .wallet_platform:
                return .text
            case .signed_up_at, .last_visit_at, .last_activity_at: return .instant
            case .tags, .segments, .preferences: return .list(.text)
            case .attributes: return .any
            case .email_opt_in, .sms_opt_in, .push_opt_in: return .bool
            case .days_since_last_activity, .visits_total, .visits_30d, .visits_90d, .lifetime_value, .age:
                return .number
            case .p_alive, .churn_risk, .expected_visits_90d, .avg_spend, .clv, .engagement_score:
                return .number
            }
        }
    }

    /// Fields of `offer.` (milestone, reward and new_offer workflows only; `category` and `published_at` new_offer
    /// only).
    public enum OfferField: String, Sendable, Hashable, CaseIterable {
        case id, name, stamps_required, category, published_at

        /// Whether a stamp card's occurrence (milestone, reward) has it too, not only an announced offer.
        var isOnStampCard: Bool { self == .id || self == .name || self == .stamps_required }
    }

    /// Fields of `progress.` (milestone and reward workflows only).
    public enum ProgressField: String, Sendable, Hashable, CaseIterable {
        case stamps, percent, stamps_remaining, rewards_earned
    }

    /// Fields of `trigger.`: its kind and parameters.
    public enum TriggerField: String, Sendable, Hashable, CaseIterable {
        case kind, days, percent, days_before, days_after, offer, enter

        /// The trigger kinds that have this parameter.
        var kinds: Set<TriggerKind> {
            switch self {
            case .kind: return Set(TriggerKind.allCases)
            case .days: return [.inactivity]
            case .percent: return [.milestone]
            case .offer: return [.milestone, .reward, .new_offer]
            case .days_before: return [.birthday]
            case .days_after: return [.signup]
            case .enter: return [.segment]
            }
        }
    }

    /// Fields of `business.`.
    public enum BusinessField: String, Sendable, Hashable, CaseIterable {
        case name, timezone
    }

    /// Fields of `workflow.`.
    public enum WorkflowField: String, Sendable, Hashable, CaseIterable {
        case id, name
    }

    /// The dotted path, as written.
    public var description: String {
        switch self {
        case .customer(let f): return "customer.\(f.rawValue)"
        case .attribute(let name): return "customer.attributes.\(name)"
        case .offer(let f): return "offer.\(f.rawValue)"
        case .progress(let f): return "progress.\(f.rawValue)"
        case .trigger(let f): return "trigger.\(f.rawValue)"
        case .business(let f): return "business.\(f.rawValue)"
        case .workflow(let f): return "workflow.\(f.rawValue)"
        }
    }

    /// The field's static type.
    public var type: ValueType {
        switch self {
        case .customer(let f): return f.type
        case .attribute: return .any
        case .offer(let f): return f == .stamps_required ? .number : f == .published_at ? .instant : .text
        case .progress: return .number
        case .trigger(let f): return f == .kind || f == .offer || f == .enter ? .text : .number
        case .business, .workflow: return .text
        }
    }
}

/// Resolves dotted paths to fields for one trigger kind, with did-you-mean help.
public struct FieldCatalog: Sendable {
    /// The trigger kind of the workflow being checked (nil when unknown).
    public var trigger: TriggerKind?
    /// The segment names a `"NAME" in customer.segments` test may name (nil: not checked).
    public var segments: Set<String>?
    /// Whether only `customer.` and `business.` fields are readable (a segment's condition, which belongs to no
    /// workflow).
    public var isCustomerOnly = false

    /// A catalog for workflows with `trigger`.
    public init(trigger: TriggerKind?, segments: Set<String>? = nil) {
        self.trigger = trigger
        self.segments = segments
    }

    /// The catalog of segment conditions: customer and business fields only.
    public static func segment(names: Set<String>) -> FieldCatalog {
        var catalog = FieldCatalog(trigger: nil, segments: names)
        catalog.isCustomerOnly = true
        return catalog
    }

    /// Why a path does not resolve.
    public enum Failure: Error, Sendable {
        case unknown(suggestion: String?)
        case unavailable(String)
    }

    /// The field a dotted path names.
    public func resolve(_ path: String) -> Result<Field, Failure> {
        let parts = path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 2 else { return .failure(.unknown(suggestion: suggestion(for: path))) }
        let (root, name) = (parts[0], parts[1])
        if root == "customer", name == "attributes", parts.count >= 3 {
            return .success(.attribute(parts[2...].joined(separator: ".")))
        }
        guard parts.count == 2 else { return .failure(.unknown(suggestion: suggestion(for: path))) }
        if isCustomerOnly, ["offer", "progress", "trigger", "workflow"].contains(root) {
            return .failure(.unavailable("a segment reads customer and business fields only, not '\(path)'"))
        }
        switch root {
        case "customer":
            if let f = Field.CustomerField(rawValue: name) {
                if isCustomerOnly, [.status, .lifecycle, .next_action].contains(f) {
                    return .failure(
                        .unavailable("a segment cannot read '\(path)': it depends on the vip segment; test the fields it reads"))
                }
                if isCustomerOnly, f == .engagement_score {
                    return .failure(.unavailable("a segment cannot read '\(path)' yet: test the fields it blends"))
                }
                return .success(.customer(f))
            }
        case "offer":
            if let f = Field.OfferField(rawValue: name) {
                guard trigger?.readsOffer ?? true else {
                    return .failure(.unavailable("'\(path)' is only available in milestone, reward and new_offer workflows"))
                }
                if !f.isOnStampCard, let trigger, trigger != .new_offer {
                    return .failure(.unavailable("'\(path)' is only available in new_offer workflows"))
                }
                return .success(.offer(f))
            }
        case "progress":
            if let f = Field.ProgressField(rawValue: name) {
                guard trigger?.readsStampCard ?? true else {
                    return .failure(.unavailable("'\(path)' is only available in milestone and reward workflows"))
                }
                return .success(.progress(f))
            }
        case "trigger":
            if let f = Field.TriggerField(rawValue: name) {
                if let trigger, !f.kinds.contains(trigger) {
                    return .failure(.unavailable("'\(path)' is not a parameter of the \(trigger.rawValue) trigger"))
                }
                return .success(.trigger(f))
            }
        case "business":
            if let f = Field.BusinessField(rawValue: name) { return .success(.business(f)) }
        case "workflow":
            if let f = Field.WorkflowField(rawValue: name) { return .success(.workflow(f)) }
        default:
            break
        }
        return .failure(.unknown(suggestion: suggestion(for: path)))
    }

    /// Every path valid for this trigger kind.
    public var allPaths: [String] {
        var paths = Field.CustomerField.allCases.map { "customer.\($0.rawValue)" }
        if isCustomerOnly { return paths + Field.BusinessField.allCases.map { "business.\($0.rawValue)" } }
        if trigger?.readsOffer ?? true {
            paths += Field.OfferField.allCases.filter { trigger == nil || trigger == .new_offer || $0.isOnStampCard }
                .map { "offer.\($0.rawValue)" }
        }
        if trigger?.readsStampCard ?? true {
            paths += Field.ProgressField.allCases.map { "progress.\($0.rawValue)" }
        }
        paths += Field.TriggerField.allCases.filter { trigger == nil || $0.kinds.contains(trigger!) }.map {
            "trigger.\($0.rawValue)"
        }
        paths += Field.BusinessField.allCases.map { "business.\($0.rawValue)" }
        paths += Field.WorkflowField.allCases.map { "workflow.\($0.rawValue)" }
        return paths
    }

    func suggestion(for path: String) -> String? {
        if let match = Suggestion.closest(to: path, in: allPaths) { return "did you mean '\(match)'?" }
        let last = path.split(separator: ".").last.map(String.init) ?? path
        let byName = allPaths.filter { $0.hasSuffix("." + last) }
        if let first = byName.first { return "did you mean '\(first)'?" }
        return nil
    }
}
