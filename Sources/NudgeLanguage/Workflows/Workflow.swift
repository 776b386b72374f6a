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

    /// The trigger's kind.
    public var kind: TriggerKind {
        switch self {
        case .birthday: return .birthday
        case .inactivity: return .inactivity
        case .milestone: return .milestone
        case .signup: return .signup
        case .segment: return .segment
        }
    }

    /// Whether the due time is a local date at `send_at`.
    public var isDateBased: Bool {
        kind == .birthday || kind == .inactivity || kind == .segment
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
    /// What to send.
    public var actions: [SendAction]
    /// How late a due occurrence may still fire.
    public var catchUp: DurationSpec
    /// Overrides the project's send_at for date-based triggers.
    public var sendAt: TimeOfDay?
    /// The workflow's file, relative to the project.
    public var file: String
    /// Where the id is written.
    public var idLocation: SourceLocation
    /// Every field the conditions read.
    public var fieldsRead: Set<Field> {
        conditions.reduce(into: Set<Field>()) { $0.formUnion($1.fields) }
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
