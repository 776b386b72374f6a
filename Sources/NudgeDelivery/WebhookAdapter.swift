public import AsyncHTTPClient
import Crypto
public import Foundation
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
    let client: HTTPClient
    let timeout: TimeAmount
    let concurrency: Int
    let rateLimiter: RateLimiter?
    /// The wall clock for `webhook-timestamp` and `sent_at` (injected for tests).
    let clock: @Sendable () -> Date
    /// Response bodies larger than this are cut (only the first part is kept for error messages).
    static let maxResponseBytes = 64 * 1024

    public init(
        url: String, secret: String, client: HTTPClient, timeout: TimeInterval = 15, concurrency: Int = 8,
        rateLimiter: RateLimiter? = nil, clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.url = url
        self.signer = StandardWebhookSigner(secret: secret)
        self.client = client
        self.timeout = .milliseconds(Int64(timeout * 1000))
        self.concurrency = max(1, concurrency)
        self.rateLimiter = rateLimiter
        self.clock = clock
    }

    public func deliver(batch: [OutboundMessage]) async -> [Result<DeliveryReceipt, DeliveryError>] {
        var before: (@Sendable () async -> Void)?
        if let limiter = rateLimiter {
            before = { await limiter.acquire() }
        }
        return await deliverConcurrently(batch, limit: concurrency, before: before)
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
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: timeout)
        } catch let error as HTTPClientError {
            if error == .deadlineExceeded || error == .readTimeout {
                throw DeliveryError.transient("webhook timed out after \(timeout.nanoseconds / 1_000_000) ms")
            }
            throw DeliveryError.transient("webhook unreachable: \(error)")
        } catch {
            throw DeliveryError.transient("webhook unreachable: \(error)")
        }
        // Keep at most the first 64 KiB of the answer (enough for an error message); ignore the rest.
        var kept = ByteBuffer()
        do {
            for try await var chunk in response.body {
                let room = Self.maxResponseBytes - kept.readableBytes
                if chunk.readableBytes > room { chunk = chunk.getSlice(at: chunk.readerIndex, length: room) ?? chunk }
                kept.writeBuffer(&chunk)
                if kept.readableBytes >= Self.maxResponseBytes { break }
            }
        } catch {
            // A body cut short still says what it said.
        }
        let text = String(buffer: kept)
        let status = Int(response.status.code)
        switch status {
        case 200..<300:
            return DeliveryReceipt(providerMessageID: response.headers.first(name: "x-message-id"))
        case 429, 500..<600, 408:
            throw DeliveryError.transient(
                "webhook answered \(status)\(Self.summary(text))",
                retryAfter: response.headers.first(name: "retry-after").flatMap { Self.retryAfter($0, now: message.sentAt) })
        case 410:
            throw DeliveryError.permanent("webhook answered 410 Gone: the endpoint is disabled")
        default:
            throw DeliveryError.permanent("webhook answered \(status)\(Self.summary(text))")
        }
    }

    static func summary(_ text: String) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { return "" }
        return ": " + String(trimmed.prefix(300))
    }

    /// The longest `Retry-After` honoured; a larger one (or `inf`, `1e300`) is cut to this, so that the next
    /// attempt's instant stays representable.
    static let maxRetryAfter: TimeInterval = 30 * 86_400

    /// `Retry-After`: delay seconds or an HTTP date.
    static func retryAfter(_ value: String, now: Date) -> TimeInterval? {
        if let seconds = Double(value.trimmingCharacters(in: .whitespaces)) {
            guard seconds >= 0 else { return nil }
            return min(seconds, maxRetryAfter)
        }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: value) else { return nil }
        return min(max(0, date.timeIntervalSince(now)), maxRetryAfter)
    }
}
