public import AsyncHTTPClient
public import Foundation
public import NudgeDelivery
import NIOCore
import NIOHTTP1
public import NudgeEngine

/// The `mailgun` provider: one Messages API request (`POST /v3/{domain}/messages`, a form, Basic `api:KEY`) per
/// message, carrying the outbox id as the `X-Nudge-Id` header and the `nudge_id` variable (echoed in Mailgun's
/// events as `user-variables`). Mailgun takes no idempotency key; a retry after a 5xx or a timeout carries the same
/// outbox id, so a duplicate can be traced and dropped downstream.
public struct MailgunAdapter: ChannelAdapter {
    /// The API's address when `base_url` is not set (the US region; EU domains use `https://api.eu.mailgun.net`).
    public static let defaultBaseURL = "https://api.mailgun.net"

    let api: EmailAPI
    /// The sending domain, e.g. `mg.example.com`.
    public let domain: String

    /// The API's base URL, without a trailing slash.
    public var baseURL: String { api.baseURL }

    /// An adapter sending from `from` (shown as `fromName` when given) through `domain`.
    public init(
        apiKey: String, domain: String, from: String, fromName: String? = nil, replyTo: String? = nil,
        baseURL: String = MailgunAdapter.defaultBaseURL, unsubscribe: UnsubscribeLinks? = nil, client: HTTPClient,
        timeout: TimeInterval = 15, concurrency: Int = 8, rateLimiter: RateLimiter? = nil
    ) {
        self.domain = domain
        api = EmailAPI(
            name: "Mailgun", apiKey: apiKey, from: from, fromName: fromName, replyTo: replyTo, baseURL: baseURL,
            unsubscribe: unsubscribe, client: client, timeout: timeout, concurrency: concurrency,
            rateLimiter: rateLimiter)
    }

    /// The adapter of a `mailgun` channel of nudge.yaml.
    init(context: Adapters.Context) throws {
        domain = try context.setting("domain")
        api = try EmailAPI(name: "Mailgun", context: context, defaultBaseURL: Self.defaultBaseURL)
    }

    public func deliver(batch: [OutboundMessage]) async -> [Result<DeliveryReceipt, DeliveryError>] {
        await api.deliver(batch: batch, with: self)
    }

    public func deliver(_ message: OutboundMessage) async throws -> DeliveryReceipt {
        let email = api.email(message)
        var request = HTTPClientRequest(url: "\(api.baseURL)/v3/\(ProviderHTTP.formEscape(domain))/messages")
        request.method = .POST
        request.headers.add(
            name: "authorization", value: ProviderHTTP.basicAuthorization(user: "api", password: api.apiKey))
        request.headers.add(name: "content-type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "accept", value: "application/json")
        request.headers.add(name: "user-agent", value: "nudge")
        request.body = .bytes(ByteBuffer(string: ProviderHTTP.formEncoded(Self.fields(email))))
        return try await api.send(request, for: email) { answer in
            let words = try? JSONDecoder().decode(Answer.self, from: Data(answer.body.utf8))
            guard !(200..<300).contains(answer.status) else { return DeliveryReceipt(providerMessageID: words?.id) }
            // A 401 is plain text `Forbidden`; other errors are `{"message": …}`.
            throw api.failure(
                status: answer.status, detail: ProviderHTTP.summary(words?.message ?? answer.body),
                retryAfter: answer.headers.first(name: "retry-after").flatMap {
                    ProviderHTTP.retryAfter($0, now: message.sentAt)
                })
        }
    }

    /// The form fields of `email`, in order: addresses, subject, bodies, then `h:` headers and the `v:` variable.
    static func fields(_ email: EmailContent) -> [(String, String)] {
        var fields = [
            ("from", mailbox(email.from, name: email.fromName)), ("to", email.to), ("subject", email.subject),
            ("text", email.text), ("html", email.html),
        ]
        if let replyTo = email.replyTo { fields.append(("h:Reply-To", replyTo)) }
        fields += email.headers.map { ("h:" + $0.name, $0.value) }
        fields.append(("v:nudge_id", email.outboxID))
        return fields
    }

    /// `Name <address>`, the name quoted when it holds a character RFC 5322 reserves; the bare address without one.
    static func mailbox(_ address: String, name: String?) -> String {
        guard let name, !name.isEmpty else { return address }
        guard name.contains(where: { "()<>[]:;@\\,.\"".contains($0) }) else { return "\(name) <\(address)>" }
        let escaped = name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        return "\"\(escaped)\" <\(address)>"
    }

    /// Mailgun's answer: `{"id": "<…>", "message": "Queued. Thank you."}`, or `{"message": …}` for an error.
    struct Answer: Decodable {
        var id: String?
        var message: String?
    }
}
