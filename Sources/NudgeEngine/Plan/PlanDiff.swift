public import Foundation
import NudgeCore
import NudgeRender

/// What changes between two versions of a project's plans on the same customers (`nudge diff REV`): the messages
/// only one side plans, and those both plan differently.
public struct PlanDiff: Sendable {
    /// One difference: a message added, removed or changed.
    public struct Change: Sendable {
        public enum Kind: String, Sendable {
            case added, removed, changed
        }

        public var kind: Kind
        public var workflowID: String
        public var customerID: String
        public var occurrence: String
        public var due: Date
        /// The message as the work tree plans it (nil when removed).
        public var new: PlannedMessage?
        /// The message as the revision plans it (nil when added).
        public var old: PlannedMessage?
        /// What differs, for a change: "channel sms → email", "template a → b", "status send → suppressed (…)",
        /// "subject differs", "body differs".
        public var differences: [String]
    }

    public var changes: [Change] = []
    /// Messages both sides plan alike.
    public var unchanged = 0

    public init() {}

    /// The key a message is matched by on both sides: workflow, customer, occurrence and the action it comes from.
    static func key(_ message: PlannedMessage) -> String {
        "\(message.workflowID)\u{0}\(message.customerID)\u{0}\(message.occurrence)\u{0}\(message.actionIndex)"
    }

    /// Compares the plans of the revision (`old`) and of the work tree (`new`), each the plans at one or more
    /// instants: a message is taken at the first instant it is planned (a later plan that has it again, within its
    /// catch-up, is the same message).
    public init(old: [Plan], new: [Plan]) {
        func firsts(_ plans: [Plan]) -> [String: PlannedMessage] {
            var result: [String: PlannedMessage] = [:]
            for plan in plans {
                for message in plan.messages where result[Self.key(message)] == nil { result[Self.key(message)] = message }
            }
            return result
        }
        let before = firsts(old)
        let after = firsts(new)
        for (key, message) in after {
            guard let previous = before[key] else {
                changes.append(Change(kind: .added, message: message, new: message, old: nil, differences: []))
                continue
            }
            let differences = Self.differences(previous, message)
            if differences.isEmpty {
                unchanged += 1
            } else {
                changes.append(Change(kind: .changed, message: message, new: message, old: previous, differences: differences))
            }
        }
        for (key, message) in before where after[key] == nil {
            changes.append(Change(kind: .removed, message: message, new: nil, old: message, differences: []))
        }
        changes.sort { ($0.workflowID, $0.due, $0.customerID, $0.occurrence) < ($1.workflowID, $1.due, $1.customerID, $1.occurrence) }
    }

    /// How `new` differs from `old`, in words.
    static func differences(_ old: PlannedMessage, _ new: PlannedMessage) -> [String] {
        var found: [String] = []
        if old.channel != new.channel {
            found.append("channel \(old.channel?.rawValue ?? "none") → \(new.channel?.rawValue ?? "none")")
        }
        if old.template != new.template { found.append("template \(old.template) → \(new.template)") }
        if old.status != new.status || old.reason != new.reason {
            found.append(
                "status \(old.status.rawValue)\(old.reason.map { " (\($0))" } ?? "") → \(new.status.rawValue)\(new.reason.map { " (\($0))" } ?? "")")
        }
        if old.variant != new.variant { found.append("variant \(old.variant ?? "none") → \(new.variant ?? "none")") }
        if old.sendAfter != new.sendAfter { found.append("send_after differs") }
        if old.channel == new.channel, old.template == new.template {
            let (a, b) = (old.rendered, new.rendered)
            if a?.heading?.value != b?.heading?.value { found.append("\(b?.heading?.key ?? a?.heading?.key ?? "heading") differs") }
            if a?.body != b?.body { found.append("body differs") }
            if a?.text != b?.text { found.append("text differs") }
        }
        return found
    }

    /// The changes by workflow, in workflow order.
    public var byWorkflow: [(workflow: String, changes: [Change])] {
        Dictionary(grouping: changes, by: \.workflowID).sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }
}

extension PlanDiff.Change {
    init(kind: Kind, message: PlannedMessage, new: PlannedMessage?, old: PlannedMessage?, differences: [String]) {
        self.init(
            kind: kind, workflowID: message.workflowID, customerID: message.customerID, occurrence: message.occurrence,
            due: message.due, new: new, old: old, differences: differences)
    }
}
