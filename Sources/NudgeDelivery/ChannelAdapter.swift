public import Foundation
import NudgeLanguage
import NudgeStore
public import NudgeCore

/// What a message says, typed by channel: what an adapter sends.
public enum MessageContent: Sendable, Hashable {
    /// An email: subject, HTML body, and the plain-text part when a text template gave one (else derived from the
    /// HTML when sent).
    case email(subject: String, html: String, text: String?)
    case sms(text: String)
    /// A push notification: title, body and key-value data for the app.
    case push(title: String, body: String, data: [String: String])
    /// A wallet pass update: the pass field's header and body.
    case wallet(header: String, body: String)

    /// The content of an outbox row, by its channel (an unknown channel reads as SMS text).
    public init(record: OutboxMessage) {
        let body = record.body ?? ""
        switch record.channel.flatMap(Channel.init(rawValue:)) {
        case .email: self = .email(subject: record.heading ?? "", html: body, text: record.textBody)
        case .push: self = .push(title: record.heading ?? "", body: body, data: [:])
        case .wallet: self = .wallet(header: record.heading ?? "", body: body)
        case .sms, nil: self = .sms(text: body)
        }
    }

    /// The email's parts; nil for another channel.
    public var email: (subject: String, html: String, text: String?)? {
        if case .email(let subject, let html, let text) = self { return (subject, html, text) }
        return nil
    }

    /// A notification's title and body: a push's own, or an empty title over another channel's text.
    public var notification: (title: String, body: String) {
        if case .push(let title, let body, _) = self { return (title, body) }
        return ("", text)
    }

    /// The text an SMS carries (the body of other channels).
    public var text: String {
        switch self {
        case .email(_, let html, _): return html
        case .sms(let text): return text
        case .push(_, let body, _): return body
        case .wallet(_, let body): return body
        }
    }
}

/// A message ready for a channel adapter: the outbox row, its typed content and its JSON representation.
public struct OutboundMessage: Sendable {
    /// The outbox row (id, recipient, workflow, attempts).
    public var record: OutboxMessage
    /// What it says, typed by channel.
    public var content: MessageContent
    /// When this attempt started.
    public var sentAt: Date

    public init(record: OutboxMessage, sentAt: Date) {
        self.record = record
        self.content = MessageContent(record: record)
        self.sentAt = sentAt
    }

    /// The outbox id: the idempotency key of every attempt.
    public var id: String { record.id }

    /// Whether an earlier attempt was started (and may have reached the provider before a crash).
    public var isRetry: Bool { record.attempts > 1 }

    /// The message as one JSON object, `id` first: what the `file` provider appends and `webhook` POSTs.
    public var json: String {
        var out: [UInt8] = []
        writeJSON(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `json` to `out`, with no `String` in between.
    public func writeJSON(to out: inout [UInt8]) { JSONText.writeObject(to: &out) { fill(&$0) } }

    func fill(_ object: inout JSONText.Object) {
        object.add("id", record.id)
        object.add("workflow", record.workflowId)
        object.add("customer", record.customerId)
        object.add("occurrence", record.occurrence)
        object.add("channel", record.channel)
        object.add("to", record.recipient)
        if let platform = record.platform { object.add("platform", platform) }
        object.add("template", record.template)
        if let key = record.headingKey { object.add(key, record.heading ?? "") }
        object.add("body", record.body ?? "")
        if let text = record.textBody { object.add("text", text) }
        object.add("due", instant: StoredInstant.date(record.dueAt))
        object.add("sent_at", instant: sentAt)
        // Only a workflow with an A/B split has variants: analytics compare them by this key.
        if let variant = record.variant { object.add("variant", variant) }
    }
}

/// What a provider said when it accepted a message.
public struct DeliveryReceipt: Sendable, Hashable {
    /// The provider's id for the message, if it gives one.
    public var providerMessageID: String?

    public init(providerMessageID: String? = nil) {
        self.providerMessageID = providerMessageID
    }
}

/// Why a delivery did not succeed. Descriptions are safe to log: no customer data.
public enum DeliveryError: Error, Sendable, CustomStringConvertible {
    /// May succeed later: timeouts, connection failures, 429, 5xx. `retryAfter` honours the provider's wish.
    case transient(String, retryAfter: TimeInterval? = nil)
    /// Will not succeed: other 4xx, a misconfiguration.
    case permanent(String)
    /// Will not succeed, and the recipient is gone for good: a push token the provider no longer knows. The message
    /// fails like a permanent error.
    case deadRecipient(String)
    /// Not sent at all: the provider asked to wait (for another message of the batch). Tried again after
    /// `retryAfter`, without counting as an attempt.
    case postponed(String, retryAfter: TimeInterval)

    /// The same error with `transform` applied to its message.
    public func mapMessage(_ transform: (String) -> String) -> DeliveryError {
        switch self {
        case .transient(let message, let retryAfter): return .transient(transform(message), retryAfter: retryAfter)
        case .permanent(let message): return .permanent(transform(message))
        case .deadRecipient(let message): return .deadRecipient(transform(message))
        case .postponed(let message, let retryAfter): return .postponed(transform(message), retryAfter: retryAfter)
        }
    }

    public var description: String {
        switch self {
        case .transient(let message, _): return message
        case .permanent(let message), .deadRecipient(let message): return message
        case .postponed(let message, _): return message
        }
    }
}

/// A channel's delivery mechanism.
public protocol ChannelAdapter: Sendable {
    /// Delivers one message, or throws a `DeliveryError`.
    func deliver(_ message: OutboundMessage) async throws -> DeliveryReceipt

    /// Delivers a batch; the default delivers each message with bounded concurrency.
    func deliver(batch: [OutboundMessage]) async -> [Result<DeliveryReceipt, DeliveryError>]
}

extension ChannelAdapter {
    public func deliver(batch: [OutboundMessage]) async -> [Result<DeliveryReceipt, DeliveryError>] {
        await deliverConcurrently(batch, limit: 8)
    }

    /// Delivers each message through `deliver(_:)`, at most `limit` at a time (each when `rateLimiter` allows),
    /// results in input order.
    ///
    /// Once the provider asks to wait (a transient failure with a Retry-After, such as a 429), the messages not yet
    /// started are not sent: they are postponed by the same delay instead of each drawing the same answer.
    public func deliverConcurrently(
        _ batch: [OutboundMessage], limit: Int, rateLimiter: RateLimiter? = nil
    ) async -> [Result<DeliveryReceipt, DeliveryError>] {
        var results = [Result<DeliveryReceipt, DeliveryError>?](repeating: nil, count: batch.count)
        await withTaskGroup(of: (Int, Result<DeliveryReceipt, DeliveryError>).self) { group in
            var next = 0
            func start(_ index: Int) {
                let message = batch[index]
                group.addTask {
                    await rateLimiter?.acquire()
                    do {
                        return (index, .success(try await self.deliver(message)))
                    } catch let error as DeliveryError {
                        return (index, .failure(error))
                    } catch {
                        return (index, .failure(.transient("\(error)")))
                    }
                }
            }
            while next < min(limit, batch.count) {
                start(next)
                next += 1
            }
            var pause: (reason: String, delay: TimeInterval)?
            while let (index, result) = await group.next() {
                results[index] = result
                if pause == nil, case .failure(.transient(let reason, let delay?)) = result, delay > 0 {
                    pause = (reason, delay)
                }
                if let pause {
                    while next < batch.count {
                        results[next] = .failure(
                            .postponed("not sent: the provider asked to wait (\(pause.reason))", retryAfter: pause.delay))
                        next += 1
                    }
                } else if next < batch.count {
                    start(next)
                    next += 1
                }
            }
        }
        return results.map { $0 ?? .failure(.transient("not attempted")) }
    }
}
