public import Foundation
public import NudgeLanguage
import NudgeStore
public import NudgeRender
import NudgeCore

/// The fields of `customer.` for one customer at `now`: what segments and workflows read alike.
struct CustomerView {
    let customer: CustomerState
    /// `business.name` and `business.timezone` (not the whole config: a view is made for every customer of a sweep).
    let businessName: String
    let businessZoneName: String
    let now: Date
    /// The customer's own zone, else the business zone.
    let zone: TimeZone
    /// Visits in the last 30 and 90 days, in the order of `Planner.recentVisitWindows` (nil: none).
    let recentVisits: [Int]?
    /// What the visits say of the customer, and the customer model (nil when nothing read them).
    let history: CustomerHistory?
    var prediction: CustomerModel.Prediction? { history?.prediction }

    init(
        customer: CustomerState, config: ProjectConfig, now: Date, zone: TimeZone, recentVisits: [Int]?,
        history: CustomerHistory? = nil
    ) {
        self.history = history
        self.customer = customer
        self.businessName = config.businessName
        self.businessZoneName = config.timeZoneName
        self.now = now
        self.zone = zone
        self.recentVisits = recentVisits
    }

    func visits(inLast days: Int) -> Int {
        guard let recentVisits, let index = Planner.recentVisitWindows.firstIndex(of: days) else { return 0 }
        return recentVisits[index]
    }

    /// Local calendar days from the last activity to `now`.
    var daysSinceLastActivity: Int {
        zone.localDate(of: customer.lastActivityAt).days(to: zone.localDate(of: now))
    }

    /// Whole years of age on the local date of `now`; nil without a birth year.
    var age: Int? {
        guard let year = customer.birthYear, let birth = customer.birthDate.flatMap(LocalDate.init(parsing:)) else {
            return nil
        }
        let today = zone.localDate(of: now)
        var birthdayThisYear = (birth.month, birth.day)
        if birth.month == 2, birth.day == 29, !LocalDate.isLeapYear(today.year) { birthdayThisYear = (2, 28) }
        let hadBirthday = (today.month, today.day) >= birthdayThisYear
        return today.year - year - (hadBirthday ? 0 : 1)
    }

    /// The first word of the name (words split at spaces and tabs).
    var firstName: String? {
        guard let name = customer.name else { return nil }
        let word = name.drop { $0 == " " || $0 == "\t" }.prefix { $0 != " " && $0 != "\t" }
        return word.isEmpty ? nil : String(word)
    }

    /// A field of `customer.` (not `segments`, which the segment book answers), of `customer.attributes.` or of
    /// `business.`; null for the others.
    func value(of field: Field) -> Value {
        switch field {
        case .customer(let f):
            switch f {
            case .id: return .string(customer.id)
            case .name: return customer.name.map(Value.string) ?? .null
            case .first_name: return firstName.map(Value.string) ?? .null
            case .email: return customer.email.map(Value.string) ?? .null
            case .phone: return customer.phone.map(Value.string) ?? .null
            case .birth_date: return customer.birthDate.map(Value.string) ?? .null
            case .timezone: return .string(customer.timeZone ?? businessZoneName)
            case .signed_up_at: return .instant(customer.signedUpAt)
            case .tags: return .list(customer.tags.map(Value.string))
            case .preferences: return .list(customer.preferences.map(Value.string))
            case .attributes: return customer.attributes.isEmpty ? .null : .string("")
            case .email_opt_in: return .bool(customer.isEmailOptIn)
            case .sms_opt_in: return .bool(customer.isSMSOptIn)
            case .push_opt_in: return .bool(customer.isPushOptIn)
            case .push_token: return customer.pushToken.map(Value.string) ?? .null
            case .wallet_pass_id: return customer.walletPassID.map(Value.string) ?? .null
            case .push_platform: return customer.pushPlatform.map(Value.string) ?? .null
            case .wallet_platform: return customer.walletPlatform.map(Value.string) ?? .null
            case .last_visit_at: return customer.lastVisitAt.map(Value.instant) ?? .null
            case .last_activity_at: return .instant(customer.lastActivityAt)
            case .days_since_last_activity:
                return .number(Double(daysSinceLastActivity))
            case .visits_total: return .number(Double(customer.visitsTotal))
            case .visits_30d: return .number(Double(visits(inLast: 30)))
            case .visits_90d: return .number(Double(visits(inLast: 90)))
            case .lifetime_value: return .number(Double(customer.lifetimeValueCents) / 100)
            case .age: return age.map { .number(Double($0)) } ?? .null
            case .segments, .status, .lifecycle, .engagement_score, .next_action:
                return .null  // the facts answer these: they read the segments or the messages
            case .p_alive: return prediction.map { .number($0.pAlive) } ?? .null
            case .churn_risk: return prediction.map { .number($0.churnRisk) } ?? .null
            case .expected_visits_90d: return prediction.map { .number($0.expectedVisits90d) } ?? .null
            case .avg_spend: return prediction?.avgSpend.map(Value.number) ?? .null
            case .clv: return prediction?.clv.map(Value.number) ?? .null
            }
        case .attribute(let name):
            return customer.attributes[name].map(Value.string) ?? .null
        case .business(let f):
            return f == .name ? .string(businessName) : .string(businessZoneName)
        default:
            return .null
        }
    }
}

/// What the facts of every occurrence of one workflow share: the workflow and the project's settings, held once.
///
/// Both are large values: copied into each occurrence's facts, every string and array in them was retained when the
/// facts were made and released when they went, a tenth of a broadcast's time.
public final class FactsScope: Sendable {
    public let workflow: Workflow
    public let config: ProjectConfig

    public init(workflow: Workflow, config: ProjectConfig) {
        self.workflow = workflow
        self.config = config
    }
}

/// The fields of design §4 for one occurrence, computed from stored state at `now`.
///
/// A class: the render context and the conditions share one instance per occurrence.
public final class CustomerFacts: FieldSource {
    public let occurrence: Occurrence
    /// The workflow and settings, shared with the other occurrences of the workflow.
    public let scope: FactsScope
    public var workflow: Workflow { _read { yield scope.workflow } }
    public var config: ProjectConfig { _read { yield scope.config } }
    public let now: Date
    public let zone: TimeZone
    let view: CustomerView
    /// The project's segments at `now` (nil when no condition or template of the workflow reads them).
    let segmentBook: SegmentBook?
    /// The segments the customer is in, worked out when first read.
    lazy var segmentNames: [String] = segmentBook?.segments(of: view) ?? []

    /// Facts for `occurrence` of `workflow`; `recentVisits` holds the customer's visit counts of the last 30 and
    /// 90 days, in the order of `Planner.recentVisitWindows` (nil: no recent visits).
    public convenience init(
        occurrence: Occurrence, workflow: Workflow, config: ProjectConfig, now: Date, recentVisits: [Int]?,
        segmentBook: SegmentBook? = nil, history: CustomerHistory? = nil
    ) {
        self.init(
            occurrence: occurrence, scope: FactsScope(workflow: workflow, config: config), now: now,
            recentVisits: recentVisits, segmentBook: segmentBook, history: history)
    }

    /// Facts for `occurrence` of the scope's workflow.
    public init(
        occurrence: Occurrence, scope: FactsScope, now: Date, recentVisits: [Int]?, segmentBook: SegmentBook? = nil,
        history: CustomerHistory? = nil
    ) {
        self.occurrence = occurrence
        self.scope = scope
        self.now = now
        self.zone = occurrence.zone
        self.view = CustomerView(
            customer: occurrence.customer, config: scope.config, now: now, zone: occurrence.zone,
            recentVisits: recentVisits, history: history)
        self.segmentBook = segmentBook
    }

    var customer: CustomerState { occurrence.customer }

    public func percentRank(_ rank: RankKey, of value: Value) -> Value {
        segmentBook?.percentRank(rank, of: value) ?? .null
    }

    /// `vip` in the vip segment; else `new` signed up less than 30 × 24 h ago; else `inactive` after 90 quiet days;
    /// else `churning` with a churn risk of 0.5 or more or after 30 quiet days; else `active`.
    var status: String {
        if segmentNames.contains("vip") { return "vip" }
        if now.timeIntervalSince(customer.signedUpAt) < 30 * 86_400 { return "new" }
        let quietDays = view.daysSinceLastActivity
        if quietDays >= 90 { return "inactive" }
        if quietDays >= 30 || (view.prediction?.churnRisk ?? 0) >= 0.5 { return "churning" }
        return "active"
    }

    /// The engagement score's parts, each from 0 to 1: recency (1 today, 0 after 90 quiet days), frequency
    /// (visits in the last 90 days, 6 or more for 1), spend (`percent_rank(customer.lifetime_value, "positive")`, 0
    /// without spend) and response (opens and clicks per message delivered in the last 90 days, clicks counting
    /// twice, at most 1; 0.5 without messages; 0 after an opt-out in the period).
    var engagementParts: (recency: Double, frequency: Double, spend: Double, response: Double) {
        let recency = max(0, min(1, 1 - Double(view.daysSinceLastActivity) / 90))
        let frequency = min(1, Double(view.visits(inLast: 90)) / 6)
        let spend = percentRank(
            RankKey(field: .customer(.lifetime_value), isPositiveOnly: true), of: view.value(of: .customer(.lifetime_value))
        ).numberValue ?? 0
        var response = 0.5
        if let answered = view.history?.response {
            if answered.optedOut {
                response = 0
            } else if answered.delivered > 0 {
                response = min(1, Double(answered.opened + answered.clicked) / Double(answered.delivered))
            }
        }
        return (recency, frequency, spend, response)
    }

    /// 0–100: round(100 × (0.35 recency + 0.25 frequency + 0.2 spend + 0.2 response)).
    var engagementScore: Int {
        let p = engagementParts
        return Int((100 * (0.35 * p.recency + 0.25 * p.frequency + 0.2 * p.spend + 0.2 * p.response)).rounded())
    }

    /// The first rule that applies: `welcome` (status new, never came), `vip_thanks` (status vip),
    /// `reward_reminder` (a stamp card at 80 % or more but not full), `win_back` (churning or inactive after
    /// coming at least once), `second_visit` (lifecycle one_time), else `none`.
    var nextAction: String {
        let status = self.status
        let transactions = view.history?.transactions ?? 0
        if status == "new", transactions == 0 { return "welcome" }
        if status == "vip" { return "vip_thanks" }
        if view.history?.cards?.contains(where: { $0.percent >= 80 && $0.percent < 100 }) == true { return "reward_reminder" }
        if status == "churning" || status == "inactive", customer.visitsTotal >= 1 { return "win_back" }
        if lifecycle == "one_time" { return "second_visit" }
        return "none"
    }

    /// `vip` in the vip segment; else by transactions (local dates with visits): none `new`, one `one_time`, two to
    /// four `repeat`, five or more `loyal`.
    var lifecycle: String {
        if segmentNames.contains("vip") { return "vip" }
        switch view.history?.transactions ?? 0 {
        case 0: return "new"
        case 1: return "one_time"
        case 2...4: return "repeat"
        default: return "loyal"
        }
    }

    public func value(of field: Field) -> Value {
        switch field {
        case .customer(.segments):
            return .list(segmentNames.map(Value.string))
        case .customer(.status):
            return .string(status)
        case .customer(.lifecycle):
            return .string(lifecycle)
        case .customer(.engagement_score):
            return .number(Double(engagementScore))
        case .customer(.next_action):
            return .string(nextAction)
        case .customer, .attribute, .business:
            return view.value(of: field)
        case .offer(let f):
            if let offer = occurrence.offer {
                switch f {
                case .id: return .string(offer.id)
                case .name: return offer.name.map(Value.string) ?? .null
                case .stamps_required: return .number(Double(offer.stampsRequired))
                case .category: return offer.category.map(Value.string) ?? .null
                case .published_at: return offer.publishedAt.map(Value.instant) ?? .null
                }
            }
            guard let progress = occurrence.progress else { return .null }
            switch f {
            case .id: return .string(progress.offerID)
            case .name: return progress.offerName.map(Value.string) ?? .null
            case .stamps_required: return .number(Double(progress.stampsRequired))
            case .category, .published_at: return .null
            }
        case .progress(let f):
            guard let progress = occurrence.progress else { return .null }
            switch f {
            case .stamps: return .number(Double(progress.stamps))
            case .percent: return .number(progress.percent)
            case .stamps_remaining: return .number(Double(progress.stampsRemaining))
            case .rewards_earned: return .number(Double(progress.rewardsEarned))
            }
        case .trigger(let f):
            switch (f, workflow.trigger) {
            case (.kind, _): return .string(workflow.trigger.kind.rawValue)
            case (.days, .inactivity): return occurrence.parameter.map { .number(Double($0)) } ?? .null
            case (.percent, .milestone): return occurrence.parameter.map { .number(Double($0)) } ?? .null
            case (.offer, .milestone), (.offer, .reward): return occurrence.progress.map { .string($0.offerID) } ?? .null
            case (.offer, .newOffer): return occurrence.offer.map { .string($0.id) } ?? .null
            case (.days_before, .birthday(let days)): return .number(Double(days))
            case (.days_after, .signup(let days)): return .number(Double(days))
            case (.enter, .segment(let name)): return .string(name)
            default: return .null
            }
        case .workflow(let f):
            return f == .id ? .string(workflow.id) : .string(workflow.name)
        }
    }

    /// A field's value as a template shows it: text, whole numbers without a fraction, local instants.
    func plain(_ value: Value) -> Any? {
        switch value {
        case .null: return nil
        case .bool(let b): return b
        case .number(let n): return n == n.rounded() && abs(n) < 1e15 ? Int(n) : Value.format(n)
        case .string(let s): return s
        case .instant(let d): return ISO8601.format(d, in: zone)
        case .list(let items): return items.compactMap(plain)
        }
    }

    /// The `business` group of the rendering context: the same for every message of a project.
    static func businessContext(_ config: ProjectConfig) -> LazyContext {
        LazyContext { name in
            switch Field.BusinessField(rawValue: name) {
            case .name: return config.businessName
            case .timezone: return config.timeZoneName
            case nil: return nil
            }
        }
    }

    /// The rendering context: the groups of design §4, each field computed only when a template reads it.
    public var renderContext: LazyContext {
        LazyContext { [self] group in
            switch group {
            case "customer":
                return LazyContext { name in
                    if name == "attributes" { return self.customer.attributes }
                    return Field.CustomerField(rawValue: name).flatMap { self.plain(self.value(of: .customer($0))) }
                }
            case "business":
                return Self.businessContext(config)
            case "workflow":
                return LazyContext { name in Field.WorkflowField(rawValue: name).flatMap { self.plain(self.value(of: .workflow($0))) } }
            case "trigger":
                return LazyContext { name in Field.TriggerField(rawValue: name).flatMap { self.plain(self.value(of: .trigger($0))) } }
            case "offer" where self.occurrence.progress != nil || self.occurrence.offer != nil:
                return LazyContext { name in Field.OfferField(rawValue: name).flatMap { self.plain(self.value(of: .offer($0))) } }
            case "progress" where self.occurrence.progress != nil:
                return LazyContext { name in Field.ProgressField(rawValue: name).flatMap { self.plain(self.value(of: .progress($0))) } }
            default:
                return nil
            }
        }
    }
}
