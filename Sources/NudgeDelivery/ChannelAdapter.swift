public import Foundation
import NudgeLanguage
public import NudgeStore

/// A message ready for a channel adapter: the outbox row and its JSON representation.
public struct OutboundMessage: Sendable {
    /// The outbox row (id, recipient, rendered fields, attempts).
    public var record: OutboxMessage
    /// When this attempt started.
    public var sentAt: Date

    public init(record: OutboxMessage, sentAt: Date) {
        self.record = record
        self.sentAt = sentAt
    }

    /// The outbox id: the idempotency key of every attempt.
    public var id: String { record.id }

    /// Whether an earlier attempt was started (and may have reached the provider before a crash).
    public var isRetry: Bool { record.attempts > 1 }

    /// The message as one JSON object, `id` first: what the `file` provider appends and `webhook` POSTs.
    public var json: String {
        var fields: [(String, Any?)] = [
            ("id", record.id),
            ("workflow", record.workflowId),
            ("customer", record.customerId),
            ("occurrence", record.occurrence),
            ("channel", record.channel),
            ("to", record.recipient),
            ("template", record.template),
        ]
        if let key = record.headingKey { fields.append((key, record.heading ?? "")) }
        fields += [
            ("body", record.body ?? ""),
        ]
        if let text = record.textBody { fields.append(("text", text)) }
        fields += [
            ("due", ISO8601.format(StoredInstant.date(record.dueAt))),
            ("sent_at", ISO8601.format(sentAt)),
        ]
        return JSONText.object(fields)
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
    /// Not sent at all: the provider asked to wait (for another message of the batch). Tried again after
    /// `retryAfter`, without counting as an attempt.
    case postponed(String, retryAfter: TimeInterval)

    /// The same error with `transform` applied to its message.
    public func mapMessage(_ transform: (String) -> String) -> DeliveryError {
        switch self {
        case .transient(let message, let retryAfter): return .transient(transform(message), retryAfter: retryAfter)
        case .permanent(let message): return .permanent(transform(message))
        case .postponed(let message, let retryAfter): return .postponed(transform(message), retryAfter: retryAfter)
        }
    }

    public var description: String {
        switch self {
        case .transient(let message, _): return message
        case .permanent(let message): return message
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
