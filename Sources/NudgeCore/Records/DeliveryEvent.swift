public import Foundation

/// Something a provider reported about a message after accepting it, or a customer's reply (STOP, START).
public struct DeliveryEvent: Sendable, Hashable {
    /// What happened.
    public enum Kind: String, Sendable, CaseIterable, Codable {
        case processed, deferred, sent, delivered, opened, clicked, bounced, complained, failed, dropped, unsubscribed
        /// An inbound SMS opt-out (STOP) or opt-in (START).
        case stopped, started
    }

    /// `sendgrid`, `mailgun`, `twilio`, `unsubscribe`.
    public var provider: String
    /// The provider's event id (deduplication key with `provider`).
    public var eventID: String
    /// The outbox id the provider echoed back, when it did.
    public var outboxID: String?
    public var customerID: String?
    public var channel: String?
    public var kind: Kind
    /// When it happened, by the provider's clock.
    public var at: Date
    /// The provider's words (bounce reason, error code), never a secret.
    public var detail: String?

    public init(
        provider: String, eventID: String, outboxID: String? = nil, customerID: String? = nil, channel: String? = nil,
        kind: Kind, at: Date, detail: String? = nil
    ) {
        self.provider = provider
        self.eventID = eventID
        self.outboxID = outboxID
        self.customerID = customerID
        self.channel = channel
        self.kind = kind
        self.at = at
        self.detail = detail
    }
}

/// A change of a customer's consent on one channel.
public struct ConsentChange: Sendable, Hashable {
    public var customerID: String
    /// `email` or `sms` (or `push`).
    public var channel: String
    public var optIn: Bool
    /// Why: "hard bounce", "spam complaint", "STOP", "unsubscribe link".
    public var reason: String

    /// The customer column holding each channel's consent.
    public static let columns = ["email": "email_opt_in", "sms": "sms_opt_in", "push": "push_opt_in"]

    /// The customer column holding a channel's address that a provider can declare gone: the push token.
    public static let addressColumns = ["push": "push_token"]

    /// The reason logged when a provider declared the address gone and it was cleared.
    public static func addressRemoved(_ why: String) -> String { addressRemovedPrefix + why }
    static let addressRemovedPrefix = "address removed: "

    /// What happened, in words: `opted in`, `opted out` or `address removed`.
    public var action: String {
        reason.hasPrefix(Self.addressRemovedPrefix) ? "address removed" : optIn ? "opted in" : "opted out"
    }

    /// Why, without the words of `action`.
    public var cause: String {
        reason.hasPrefix(Self.addressRemovedPrefix) ? String(reason.dropFirst(Self.addressRemovedPrefix.count)) : reason
    }

    public init(customerID: String, channel: String, optIn: Bool, reason: String) {
        self.customerID = customerID
        self.channel = channel
        self.optIn = optIn
        self.reason = reason
    }
}

/// The ledger's key: an occurrence of a workflow for a customer, recorded once ever.
public struct LedgerKey: Sendable, Hashable {
    public var workflowID: String
    public var customerID: String
    public var occurrence: String

    public init(workflowID: String, customerID: String, occurrence: String) {
        self.workflowID = workflowID
        self.customerID = customerID
        self.occurrence = occurrence
    }
}
