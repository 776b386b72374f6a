public import Foundation
public import NudgeCore
/// A workflow's trigger (design §5).
public enum Trigger: Sendable, Hashable {
    /// Due on the local date `daysBefore` days before the birthday.
    case birthday(daysBefore: Int)
    /// Due `days` days after the local date of the last activity.
    case inactivity(days: [Int])
    /// Due when stamp progress on `offer` (nil: any offer) reaches a percentage.
    case milestone(offer: String?, percents: [Int])
    /// Due `daysAfter` × 24 h after sign-up.
    case signup(daysAfter: Int)
    /// Due at send_at on the local date a run first saw the customer in the segment.
    case segment(enter: String)
    /// Due when a stamp card of `offer` (nil: any offer) has earned a reward: at the card's update.
    case reward(offer: String?)
    /// Due `delay` seconds after each visit.
    case visit(delaySeconds: Int)
    /// A broadcast due once, at `at` (ISO 8601: an instant, or a local time in the business zone).
    case once(at: String)
    /// A broadcast due at each time of the cron expression, in the business zone.
    case schedule(Cron)
    /// A broadcast due when an offer is published (offers CSV `published_at`), once per offer.
    case newOffer

    /// The trigger's kind.
    public var kind: TriggerKind {
        switch self {
        case .birthday: return .birthday
        case .inactivity: return .inactivity
        case .milestone: return .milestone
        case .signup: return .signup
        case .segment: return .segment
        case .reward: return .reward
        case .visit: return .visit
        case .once: return .once
        case .schedule: return .schedule
        case .newOffer: return .new_offer
        }
    }

    /// Whether the due time is a local date at `send_at`.
    public var isDateBased: Bool {
        kind == .birthday || kind == .inactivity || kind == .segment
    }

    /// When a `once` trigger falls due: its local time read in `zone` (the business's), or the instant it names
    /// with its offset; nil for other triggers.
    public func onceInstant(in zone: TimeZone) -> Date? {
        guard case .once(let at) = self else { return nil }
        return ISO8601.parts(at)?.instant(in: zone)
    }

    /// The trigger as a workflow writes it: `schedule: { cron: "0 10 * * 5" }`.
    public var summary: String {
        func list(_ numbers: [Int]) -> String { "[" + numbers.map(String.init).joined(separator: ", ") + "]" }
        func offer(_ id: String?) -> String { id ?? "\"*\"" }
        switch self {
        case .birthday(let days): return "birthday: { days_before: \(days) }"
        case .inactivity(let days): return "inactivity: { days: \(list(days)) }"
        case .milestone(let id, let percents): return "milestone: { offer: \(offer(id)), percent: \(list(percents)) }"
        case .signup(let days): return "signup: { days_after: \(days) }"
        case .segment(let name): return "segment: { enter: \(name) }"
        case .reward(let id): return "reward: { offer: \(offer(id)) }"
        case .visit(let seconds):
            let delay =
                seconds % 86_400 == 0 && seconds > 0
                ? "\(seconds / 86_400)d" : seconds % 3600 == 0 && seconds > 0 ? "\(seconds / 3600)h" : "\(seconds / 60)m"
            return "visit: { delay: \(delay) }"
        case .once(let at): return "once: { at: \"\(at)\" }"
        case .schedule(let cron): return "schedule: { cron: \"\(cron)\" }"
        case .newOffer: return "new_offer: {}"
        }
    }

    /// The segment a `segment: { enter: NAME }` trigger watches.
    public var enteredSegment: String? {
        if case .segment(let name) = self { return name }
        return nil
    }
}

/// One `send` action.
public struct SendAction: Sendable {
    /// The channels in order of preference: the first the customer can receive is used.
    public var channels: [Channel]
    /// The template name: `Templates/<template>.<channel>.mustache`.
    public var template: String
    /// Where the action is written.
    public var location: SourceLocation
}

/// A workflow's `category`.
public enum MessageCategory: String, Sendable, Hashable, CaseIterable {
    case marketing
    case transactional
}

/// A workflow's `on_cap`: a message over a frequency cap is dropped (suppressed with the cap as its reason), or
/// deferred to the first instant the caps allow.
public enum CapAction: String, Sendable, Hashable, CaseIterable {
    case drop
    case `defer`
}

/// One step of a journey: the sends after `index` waits, due `offset` seconds after the trigger's due time, when the
/// step before it is in the ledger and its own `when` entries hold. Step 0 is what the trigger sends.
public struct Step: Sendable, Hashable {
    /// The number of waits before it: the `/k` of its occurrence key (`KEY/k`; step 0 is `KEY`).
    public var index: Int
    /// The sum of the waits before it, in seconds.
    public var offset: Int
    /// Its own `when` entries (the workflow's `when` picks step 0's audience).
    public var conditions: [Condition]
    /// The indices in `Workflow.actions` of its sends.
    public var actions: Range<Int>

    public init(index: Int, offset: Int, conditions: [Condition], actions: Range<Int>) {
        self.index = index
        self.offset = offset
        self.conditions = conditions
        self.actions = actions
    }

    public static func == (a: Step, b: Step) -> Bool {
        a.index == b.index && a.offset == b.offset && a.actions == b.actions
            && a.conditions.map(\.text) == b.conditions.map(\.text)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(index)
        hasher.combine(offset)
        hasher.combine(actions)
    }
}

/// An A/B split: each customer gets one variant of the workflow, by a deterministic draw on (workflow id, customer id)
/// weighted by the variants' weights. A variant without sends is a holdout: nothing is sent, the assignment is
/// recorded.
public struct Split: Sendable {
    /// One variant.
    public struct Variant: Sendable, Hashable {
        /// Its name, as written (`control`).
        public var name: String
        /// Its weight: its share is weight / the sum of the weights.
        public var weight: Int
        /// The indices in `Workflow.actions` of its sends, every step's (empty: a holdout).
        public var actions: Range<Int>
        /// Its journey: the steps of its `then` (one step, or none for a holdout, without waits).
        public var steps: [Step]

        public init(name: String, weight: Int, actions: Range<Int>, steps: [Step]? = nil) {
            self.name = name
            self.weight = weight
            self.actions = actions
            self.steps = steps ?? (actions.isEmpty ? [] : [Step(index: 0, offset: 0, conditions: [], actions: actions)])
        }

        /// Whether nothing is sent to it.
        public var isHoldout: Bool { actions.isEmpty }
    }

    /// The variants, as written.
    public var variants: [Variant]
    /// Where `split:` is written.
    public var location: SourceLocation

    public init(variants: [Variant], location: SourceLocation) {
        self.variants = variants
        self.location = location
    }

    /// The sum of the weights.
    public var totalWeight: Int { variants.reduce(0) { $0 + $1.weight } }
}

/// A checked, compiled workflow.
public struct Workflow: Sendable {
    /// Unique id across the project.
    public var id: String
    /// Human name (defaults to the id).
    public var name: String
    /// Disabled workflows are skipped.
    public var isEnabled: Bool
    /// The one trigger.
    public var trigger: Trigger
    /// Conditions that must all hold.
    public var conditions: [Condition]
    /// What to send: every send of the workflow, those of every variant of a split too, in the order written.
    public var actions: [SendAction]
    /// The workflow's A/B split, when it has one: then every send belongs to one of its variants.
    public var split: Split? = nil
    /// The journey of a workflow without a split: step 0 (the sends before the first `wait`) and the follow-up
    /// steps (nil: one step of every action).
    public var journey: [Step]? = nil
    /// `exit_when`: a journey stops, before any step, once one of these holds.
    public var exitConditions: [Condition] = []
    /// How late a due occurrence may still fire.
    public var catchUp: DurationSpec
    /// Overrides the project's send_at for date-based triggers.
    public var sendAt: TimeOfDay?
    /// `category`: marketing messages (the default) are held to the policy's caps and quiet hours; transactional
    /// ones (rewards, receipts) are exempt and not counted.
    public var category: MessageCategory = .marketing
    /// `priority`: when messages compete for a cap in one plan, lower goes first (ties by workflow id).
    public var priority = 100
    /// `on_cap`: what a capped message becomes.
    public var onCap: CapAction = .drop
    /// `max_defer`: how far `on_cap: defer` may push a message before it is suppressed instead.
    public var maxDefer = DurationSpec(seconds: 3 * 86_400, text: "3d")
    /// The workflow's file, relative to the project.
    public var file: String
    /// Where the id is written.
    public var idLocation: SourceLocation
    /// Every field the conditions read.
    public var fieldsRead: Set<Field> {
        allConditions.reduce(into: Set<Field>()) { $0.formUnion($1.fields) }
    }

    /// The `when` of the workflow, of its steps and `exit_when`.
    public var allConditions: [Condition] {
        conditions + exitConditions + journeys.flatMap(\.steps).flatMap(\.conditions)
    }

    /// Every journey of the workflow: one per variant of its split (a holdout's without steps), else its own.
    public var journeys: [(variant: String?, steps: [Step])] {
        split?.variants.map { ($0.name, $0.steps) } ?? [(nil, steps)]
    }

    /// The steps of the journey without a split: one step of every action when the workflow has no `wait`.
    public var steps: [Step] {
        journey ?? [Step(index: 0, offset: 0, conditions: [], actions: actions.indices)]
    }

    /// The steps of `variant`'s journey (nil: the workflow's own, without a split).
    public func steps(of variant: Split.Variant?) -> [Step] {
        variant?.steps ?? steps
    }

    /// Whether some journey of the workflow has a step after a `wait`.
    public var hasFollowUps: Bool {
        journeys.contains { $0.steps.count > 1 }
    }
}

extension Workflow {
    /// A workflow that sends nothing, for reading a customer's fields outside any workflow (the profile): its
    /// trigger and workflow fields mean nothing.
    public static func none(file: String = "") -> Workflow {
        Workflow(
            id: "", name: "", isEnabled: false, trigger: .signup(daysAfter: 0), conditions: [], actions: [],
            catchUp: DurationSpec(seconds: 86_400, text: "1d"), sendAt: nil, file: file,
            idLocation: SourceLocation(file: file))
    }
}
