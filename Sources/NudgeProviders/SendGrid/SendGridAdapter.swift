public import AsyncHTTPClient
public import Foundation
public import NudgeDelivery
import NIOCore
import NIOHTTP1
public import NudgeEngine

/// The `sendgrid` provider: one SendGrid v3 Mail Send request (`POST /v3/mail/send`, JSON, Bearer API key) per
/// message, carrying the outbox id as the `X-Nudge-Id` header and as `custom_args.nudge_id` (echoed in SendGrid's
/// events), since SendGrid takes no idempotency key.
public struct SendGridAdapter: ChannelAdapter {
    /// The API's address when `base_url` is not set.
    public static let defaultBaseURL = "https://api.sendgrid.com"

    let api: EmailAPI

    /// The API's base URL, without a trailing slash.
    public var baseURL: String { api.baseURL }

    /// An adapter sending from `from` (shown as `fromName` when given) with `apiKey`.
    public init(
        apiKey: String, from: String, fromName: String? = nil, replyTo: String? = nil,
        baseURL: String = SendGridAdapter.defaultBaseURL, unsubscribe: UnsubscribeLinks? = nil, client: HTTPClient,
        timeout: TimeInterval = 15, concurrency: Int = 8, rateLimiter: RateLimiter? = nil
    ) {
        api = EmailAPI(
            name: "SendGrid", apiKey: apiKey, from: from, fromName: fromName, replyTo: replyTo, baseURL: baseURL,
            unsubscribe: unsubscribe, client: client, timeout: timeout, concurrency: concurrency,
            rateLimiter: rateLimiter)
    }

    /// The adapter of a `sendgrid` channel of nudge.yaml.
    init(context: Adapters.Context) throws {
        api = try EmailAPI(name: "SendGrid", context: context, defaultBaseURL: Self.defaultBaseURL)
    }

    public func deliver(batch: [OutboundMessage]) async -> [Result<DeliveryReceipt, DeliveryError>] {
        await api.deliver(batch: batch, with: self)
    }

    public func deliver(_ message: OutboundMessage) async throws -> DeliveryReceipt {
        let email = api.email(message)
        let body: Data
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            body = try encoder.encode(MailSend(email))
        } catch {
            throw DeliveryError.permanent("SendGrid request could not be encoded")
        }
        var request = HTTPClientRequest(url: api.baseURL + "/v3/mail/send")
        request.method = .POST
        request.headers.add(name: "authorization", value: "Bearer \(api.apiKey)")
        request.headers.add(name: "content-type", value: "application/json")
        request.headers.add(name: "accept", value: "application/json")
        request.headers.add(name: "user-agent", value: "nudge")
        request.body = .bytes(ByteBuffer(bytes: body))
        return try await api.send(request, for: email) { answer in
            // 202 is queued; 200 is sandbox mode ("valid but not queued").
            guard answer.status != 202 && answer.status != 200 else {
                return DeliveryReceipt(providerMessageID: answer.headers.first(name: "x-message-id"))
            }
            // SendGrid documents X-RateLimit-Reset (epoch seconds) on 429, not Retry-After.
            let now = message.sentAt
            let reset = answer.status == 429 ? answer.headers.first(name: "x-ratelimit-reset") : nil
            let retryAfter =
                reset.flatMap { ProviderHTTP.resetDelay($0, now: now) }
                ?? answer.headers.first(name: "retry-after").flatMap { ProviderHTTP.retryAfter($0, now: now) }
            let detail = Self.errors(answer.body, first: answer.status == 401 || answer.status == 403)
            throw api.failure(status: answer.status, detail: detail, retryAfter: retryAfter)
        }
    }

    /// `": message (field); …"` of SendGrid's `{"errors":[{"message","field"}]}`, or the answer's summary.
    static func errors(_ body: String, first: Bool = false) -> String {
        guard let answer = try? JSONDecoder().decode(ErrorAnswer.self, from: Data(body.utf8)),
            !answer.errors.isEmpty
        else { return ProviderHTTP.summary(body) }
        let items = answer.errors.prefix(first ? 1 : 5).map { item in
            let message = item.message ?? "error"
            guard let field = item.field, !field.isEmpty else { return message }
            return "\(message) (\(field))"
        }
        return ProviderHTTP.summary(items.joined(separator: "; "))
    }

    /// SendGrid's error answer.
    struct ErrorAnswer: Decodable {
        struct Item: Decodable {
            var message: String?
            var field: String?
        }
        var errors: [Item]
    }

    /// The Mail Send request body.
    struct MailSend: Encodable {
        struct Address: Encodable {
            var email: String
            var name: String?
        }
        struct Personalization: Encodable {
            var to: [Address]
        }
        struct Content: Encodable {
            var type: String
            var value: String
        }

        var personalizations: [Personalization]
        var from: Address
        var replyTo: Address?
        var subject: String
        /// text/plain first, then text/html (SendGrid's required order); an empty part is left out.
        var content: [Content]
        var headers: [String: String]
        var customArgs: [String: String]

        enum CodingKeys: String, CodingKey {
            case personalizations, from, subject, content, headers
            case replyTo = "reply_to"
            case customArgs = "custom_args"
        }

        init(_ email: EmailContent) {
            personalizations = [Personalization(to: [Address(email: email.to)])]
            from = Address(email: email.from, name: email.fromName)
            replyTo = email.replyTo.map { Address(email: $0) }
            subject = email.subject
            content = [Content(type: "text/plain", value: email.text), Content(type: "text/html", value: email.html)]
                .filter { !$0.value.isEmpty }
            headers = Dictionary(email.headers.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first })
            customArgs = ["nudge_id": email.outboxID]
        }
    }
}
