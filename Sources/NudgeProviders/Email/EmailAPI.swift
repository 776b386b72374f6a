import AsyncHTTPClient
import Foundation
import NudgeDelivery
import NudgeEngine

/// What the HTTP email adapters share: the sender, the API's address and key, unsubscribe links, and the limits of
/// their calls (timeout, concurrency, rate).
struct EmailAPI: Sendable {
    /// The API's base URL, without a trailing slash.
    var baseURL: String
    var from: String
    var fromName: String?
    var replyTo: String?
    /// Never shown: masked out of every error, with the recipient's address.
    var apiKey: String
    var unsubscribe: UnsubscribeLinks?
    var http: ProviderHTTP
    var concurrency: Int
    var rateLimiter: RateLimiter?

    init(
        name: String, apiKey: String, from: String, fromName: String?, replyTo: String?, baseURL: String,
        unsubscribe: UnsubscribeLinks?, client: HTTPClient, timeout: TimeInterval, concurrency: Int,
        rateLimiter: RateLimiter?
    ) {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
        self.from = from
        self.fromName = fromName
        self.replyTo = replyTo
        self.apiKey = apiKey
        self.unsubscribe = unsubscribe
        self.http = ProviderHTTP(name: name, client: client, timeout: timeout)
        self.concurrency = max(1, concurrency)
        self.rateLimiter = rateLimiter
    }

    /// The settings of an email channel of nudge.yaml: `api_key_env`, `from`, `from_name`, `reply_to`, `base_url`
    /// (else `defaultBaseURL`), and the limits every network channel takes.
    init(name: String, context: Adapters.Context, defaultBaseURL: String) throws {
        self.init(
            name: name, apiKey: try context.secret("api_key_env"), from: try context.setting("from"),
            fromName: context.settings["from_name"], replyTo: context.settings["reply_to"],
            baseURL: context.baseURL(default: defaultBaseURL), unsubscribe: context.unsubscribe, client: context.client,
            timeout: context.timeout, concurrency: context.concurrency, rateLimiter: context.rateLimiter)
    }

    /// The email of `message`, from the configured sender.
    func email(_ message: OutboundMessage) -> EmailContent {
        EmailContent(message: message, from: from, fromName: fromName, replyTo: replyTo, unsubscribe: unsubscribe)
    }

    /// Delivers `batch` through `adapter`, `concurrency` at a time, each when the rate limiter allows.
    func deliver(batch: [OutboundMessage], with adapter: some ChannelAdapter) async -> [Result<
        DeliveryReceipt, DeliveryError
    >] {
        await adapter.deliverConcurrently(batch, limit: concurrency, rateLimiter: rateLimiter)
    }

    /// Sends `request` for `email` and reads the answer with `receipt`; the API key and the recipient's address are
    /// masked out of any error (provider answers and transport errors may quote what they were sent).
    func send(
        _ request: HTTPClientRequest, for email: EmailContent,
        receipt: (ProviderHTTP.Answer) throws -> DeliveryReceipt
    ) async throws -> DeliveryReceipt {
        do {
            return try receipt(try await http.send(request))
        } catch let error as DeliveryError {
            throw SecretMask([apiKey, email.to], replacement: "***", minimumLength: 1).apply(error)
        }
    }

    /// The failure of an answer that is not a success: 429, 408 and 5xx are transient (after `retryAfter`, the wait
    /// the provider asked for), 401 a refused key, anything else permanent. `detail` is `": the provider's words"`.
    func failure(status: Int, detail: String, retryAfter: TimeInterval?) -> DeliveryError {
        let name = http.name
        switch status {
        case 429: return .transient("\(name) answered 429 (rate limited)\(detail)", retryAfter: retryAfter)
        case 408, 500..<600: return .transient("\(name) answered \(status)\(detail)", retryAfter: retryAfter)
        case 401: return .permanent("\(name) refused the API key (401)\(detail)")
        case 403: return .permanent("\(name) refused the request (403)\(detail)")
        default: return .permanent("\(name) answered \(status)\(detail)")
        }
    }
}
