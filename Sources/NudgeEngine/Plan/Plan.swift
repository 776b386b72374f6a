public import Foundation
import NudgeLanguage
public import NudgeRender
public import NudgeCore

/// One message of a plan: sent on a channel, or suppressed with a reason.
public struct PlannedMessage: Sendable {
    /// Whether the message goes out.
    public enum Status: String, Sendable, Codable {
        case send
        case suppressed
    }

    public var workflowID: String
    public var customerID: String
    /// The occurrence key (design §5).
    public var occurrence: String
    /// Which action of the workflow (0-based), when a workflow sends several.
    public var actionIndex: Int
    /// The chosen channel; nil when suppressed.
    public var channel: Channel?
    public var template: String
    public var due: Date
    public var status: Status
    /// Why it is suppressed.
    public var reason: String?
    /// The recipient address on the chosen channel.
    public var recipient: String?
    /// The customer's platform on a channel with a provider per platform (which provider delivers it).
    public var platform: String? = nil
    /// The rendered message, when asked for.
    public var rendered: RenderedMessage?
    /// The customer's time zone.
    public var timeZone: String
    /// For an SMS: its encoding and segment count.
    public var segments: SMSSegments?
    /// The customer's variant of the workflow's A/B split (nil without a split).
    public var variant: String? = nil
    /// The journey step it belongs to (0: the trigger's own sends).
    public var step = 0
    /// When the policy holds the message back (quiet hours, a deferring cap): not sent before this; nil to go out
    /// at once.
    public var sendAfter: Date? = nil
}

extension PlannedMessage {
    /// Suppresses a message a later stage of the plan holds back: no channel, address, text or send time, and why.
    mutating func suppress(because reason: String) {
        status = .suppressed
        self.reason = reason
        channel = nil
        recipient = nil
        rendered = nil
        segments = nil
        sendAfter = nil
    }
}

/// What a run at `now` would send, and why: the output of dry-run and the input of run.
public struct Plan: Sendable {
    /// The evaluation instant.
    public var now: Date
    /// Planned messages, sorted by due time, workflow, customer and occurrence.
    public var messages: [PlannedMessage]
    /// Occurrences considered (after the trigger, before conditions and the ledger).
    public var candidates: Int
    /// Occurrences skipped because the ledger already holds them.
    public var alreadySent: Int
    /// Occurrences whose `when` conditions did not hold.
    public var filteredOut: Int
    /// Workflows evaluated.
    public var workflowIDs: [String]
    /// What the reader should know about how the plan was made (e.g. the customer model was never fitted).
    public var notes: [String] = []

    /// Messages that go out.
    public var sendCount: Int {
        // By index: each message's status is read in place, not the message copied (a broadcast has 100,000).
        var count = 0
        for index in messages.indices where messages[index].status == .send { count += 1 }
        return count
    }
    /// Messages suppressed.
    public var suppressedCount: Int { messages.count - sendCount }
}

extension PlannedMessage {
    /// The JSON line of `dry-run --format json` (design §7), keys in a stable order.
    public func jsonLine(includeRendered: Bool) -> String {
        var out: [UInt8] = []
        writeJSONLine(includeRendered: includeRendered, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the message's JSON line (without its newline) to `out`.
    public func writeJSONLine(includeRendered: Bool, to out: inout [UInt8]) {
        JSONText.writeObject(to: &out) { fill(&$0, includeRendered: includeRendered) }
    }

    func fill(_ object: inout JSONText.Object, includeRendered: Bool) {
        object.add("workflow", workflowID)
        object.add("customer", customerID)
        object.add("occurrence", occurrence)
        object.add("channel", channel?.rawValue)
        // A holdout's row sends no template.
        object.add("template", template.isEmpty ? nil : template)
        object.add("due", instant: due)
        object.add("status", status.rawValue)
        object.add("reason", reason)
        object.add("to", recipient)
        // Only a channel with a provider per platform plans a platform.
        if let platform { object.add("platform", platform) }
        object.add("variant", variant)
        if let sendAfter { object.add("send_after", instant: sendAfter) } else { object.add("send_after", nil) }
        if let segments {
            object.add("segments", segments.count)
            object.add("encoding", segments.encoding.rawValue)
        }
        if includeRendered, let rendered {
            if let heading = rendered.heading { object.add(heading.key, heading.value) }
            object.add("body", rendered.body)
            if let text = rendered.text { object.add("text", text) }
        }
    }
}
