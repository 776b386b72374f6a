public import AsyncHTTPClient
import Crypto
public import Foundation
public import NudgeDelivery
import NIOCore
import NIOHTTP1

/// Signs webhook requests per the Standard Webhooks specification (v1, HMAC-SHA256).
public struct StandardWebhookSigner: Sendable {
    let key: Data

    /// A signer for `secret`: `whsec_` followed by base64 (the spec's form), or any other text used as raw bytes.
    public init(secret: String) {
        if secret.hasPrefix("whsec_"), let data = Data(base64Encoded: String(secret.dropFirst("whsec_".count))) {
            key = data
        } else {
            key = Data(secret.utf8)
        }
    }

    /// The `webhook-signature` header value: `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`.
    public func signature(id: String, timestamp: Int, body: Data) -> String {
        var content = Data("\(id).\(timestamp).".utf8)
        content.append(body)
        let mac = HMAC<SHA256>.authenticationCode(for: content, using: SymmetricKey(data: key))
        return "v1," + Data(mac).base64EncodedString()
    }
}

/// The `webhook` provider: POSTs the message JSON to a URL, signed per Standard Webhooks, with the outbox id as
/// `webhook-id` (the receiver's idempotency key, the same on every retry).
public struct WebhookAdapter: ChannelAdapter {
    public let url: String
    let signer: StandardWebhookSigner
    let http: ProviderHTTP
    let concurrency: Int
    let rateLimiter: RateLimiter?
    /// The wall clock for `webhook-timestamp` and `sent_at` (injected for tests).
    let clock: @Sendable () -> Date

    public init(
        url: String, secret: String, client: HTTPClient, timeout: TimeInterval = 15, concurrency: Int = 8,
        rateLimiter: RateLimiter? = nil, clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.url = url
        self.signer = StandardWebhookSigner(secret: secret)
        self.http = ProviderHTTP(name: "webhook", client: client, timeout: timeout)
        self.concurrency = max(1, concurrency)
        self.rateLimiter = rateLimiter
        self.clock = clock
    }

    public func deliver(batch: [OutboundMessage]) async -> [Result<DeliveryReceipt, DeliveryError>] {
        await deliverConcurrently(batch, limit: concurrency, rateLimiter: rateLimiter)
    }

    public func deliver(_ message: OutboundMessage) async throws -> DeliveryReceipt {
        // Stamp and sign with the time of this request, not of the batch: sending a large or rate-limited batch
        // can take longer than the receivers' timestamp tolerance (±5 minutes), and a stale timestamp is rejected.
        var message = message
        message.sentAt = clock()
        let body = Data(message.json.utf8)
        let timestamp = Int(message.sentAt.timeIntervalSince1970)
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.headers.add(name: "user-agent", value: "nudge")
        request.headers.add(name: "webhook-id", value: message.id)
        request.headers.add(name: "webhook-timestamp", value: String(timestamp))
        request.headers.add(name: "webhook-signature", value: signer.signature(id: message.id, timestamp: timestamp, body: body))
        request.body = .bytes(ByteBuffer(bytes: body))
        let answer = try await http.send(request)
        let text = answer.body
        let status = answer.status
        switch status {
        case 200..<300:
            return DeliveryReceipt(providerMessageID: answer.headers.first(name: "x-message-id"))
        case 429, 500..<600, 408:
            throw DeliveryError.transient(
                "webhook answered \(status)\(ProviderHTTP.summary(text))",
                retryAfter: answer.headers.first(name: "retry-after").flatMap { ProviderHTTP.retryAfter($0, now: message.sentAt) })
        case 410:
            throw DeliveryError.permanent("webhook answered 410 Gone: the endpoint is disabled")
        default:
            throw DeliveryError.permanent("webhook answered \(status)\(ProviderHTTP.summary(text))")
        }
    }
}
