import Foundation

/// One message of a committed plan: delivered by the dispatcher, or recorded as suppressed.
public struct OutboxMessage: Codable, Sendable, Hashable {
    /// Where a message stands.
    public enum Status: String, Codable, Sendable, CaseIterable {
        /// Waiting for its first delivery or a retry.
        case pending
        case delivered
        /// Permanently failed, or out of retries.
        case failed
        /// No channel could carry it; never retried.
        case suppressed
    }

    /// The outbox id: the idempotency key sent to providers.
    public var id: String
    public var workflowId: String
    public var customerId: String
    public var occurrence: String
    public var actionIndex: Int
    /// The chosen channel (raw value); nil when suppressed.
    public var channel: String?
    public var recipient: String?
    public var template: String
    /// `subject`, `title` or `header`.
    public var headingKey: String?
    public var heading: String?
    public var body: String?
    /// An email's plain-text part from a text template (nil: derived from the HTML body when sent).
    public var textBody: String?
    /// Milliseconds since 1970.
    public var dueAt: Int64
    public var createdAt: Int64
    public var status: Status
    /// Why it was suppressed, or the last failure.
    public var reason: String?
    /// Delivery attempts started (incremented when a dispatcher claims the message).
    public var attempts: Int
    public var nextAttemptAt: Int64
    public var leaseOwner: String?
    public var leaseExpiresAt: Int64?
    public var deliveredAt: Int64?
    public var providerMessageId: String?
    /// The customer's variant of the workflow's A/B split (nil without a split); the ledger row holds it too.
    public var variant: String?
    /// The workflow's category (`marketing`, `transactional`) when the message was planned: caps count marketing.
    public var category: String?
    /// The journey step it belongs to (0: the trigger's own sends); the ledger row holds it too.
    public var step: Int = 0
    /// The customer's platform on a channel with a provider per platform (`android`, `ios`, `web`; `google`,
    /// `apple`): which provider delivers it. Nil otherwise.
    public var platform: String?

    /// Creates a message.
    public init(
        id: String, workflowId: String, customerId: String, occurrence: String, actionIndex: Int, channel: String?,
        recipient: String?, template: String, headingKey: String?, heading: String?, body: String?, dueAt: Int64,
        createdAt: Int64, status: Status, reason: String?
    ) {
        self.id = id
        self.workflowId = workflowId
        self.customerId = customerId
        self.occurrence = occurrence
        self.actionIndex = actionIndex
        self.channel = channel
        self.recipient = recipient
        self.template = template
        self.headingKey = headingKey
        self.heading = heading
        self.body = body
        self.dueAt = dueAt
        self.createdAt = createdAt
        self.status = status
        self.reason = reason
        self.attempts = 0
        self.nextAttemptAt = createdAt
    }

    /// The ledger's key of the occurrence this message belongs to.
    public var ledgerKey: LedgerKey { LedgerKey(workflowID: workflowId, customerID: customerId, occurrence: occurrence) }

    /// Pending with at least one attempt made and none in flight: waiting for a retry.
    public var isRetrying: Bool { status == .pending && attempts > 0 && leaseOwner == nil }
}

/// One delivery attempt, for history and diagnosis.
public struct DeliveryAttempt: Codable, Sendable, Hashable {
    public var outboxId: String
    public var attempt: Int
    /// Milliseconds since 1970.
    public var at: Int64
    /// `delivered`, `retry`, `failed`.
    public var outcome: String
    public var detail: String?

    public init(outboxId: String, attempt: Int, at: Int64, outcome: String, detail: String?) {
        self.outboxId = outboxId
        self.attempt = attempt
        self.at = at
        self.outcome = outcome
        self.detail = detail
    }
}
