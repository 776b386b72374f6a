public import AsyncHTTPClient
public import Foundation
public import NudgeDelivery
import NIOCore
import NIOHTTP1
import NudgeCore

/// The `fcm` provider: one `POST {base_url}/v1/projects/{project_id}/messages:send` per message (FCM HTTP v1), with
/// an OAuth 2 access token of the project's service account.
///
/// FCM has no idempotency key; the outbox id travels in the message's `data.nudge_id`, so an app can tell a repeat
/// after a retried 5xx or timeout from a new message.
public struct FCMAdapter: ChannelAdapter {
    public let projectID: String
    /// The messages:send URL.
    public let endpoint: String
    let api: GoogleAPI
    let concurrency: Int
    let rateLimiter: RateLimiter?
    /// The wall clock, for `Retry-After` dates (injected for tests).
    let clock: @Sendable () -> Date

    /// The scope of FCM's access tokens.
    public static let scope = "https://www.googleapis.com/auth/firebase.messaging"
    /// The key of `data` carrying the outbox id.
    public static let outboxIDKey = "nudge_id"

    public init(
        projectID: String, account: GoogleServiceAccount, baseURL: String = "https://fcm.googleapis.com",
        client: HTTPClient, timeout: TimeInterval = 15, concurrency: Int = 8, rateLimiter: RateLimiter? = nil,
        clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.projectID = projectID
        self.endpoint = "\(base)/v1/projects/\(ProviderHTTP.formEscape(projectID))/messages:send"
        self.api = GoogleAPI("FCM", account: account, scope: Self.scope, client: client, timeout: timeout, clock: clock)
        self.concurrency = max(1, concurrency)
        self.rateLimiter = rateLimiter
        self.clock = clock
    }

    /// The adapter of an `fcm` channel of nudge.yaml.
    init(context: Adapters.Context) throws {
        let account = try GoogleServiceAccount.named(by: context)
        self.init(
            projectID: try context.setting("project_id"), account: account,
            baseURL: context.baseURL(default: "https://fcm.googleapis.com"), client: context.client,
            timeout: context.timeout, concurrency: context.concurrency, rateLimiter: context.rateLimiter)
    }

    /// The request body: `{"message": {"token", "notification": {"title", "body"}, "data": {"nudge_id"}}}`.
    public func body(for message: OutboundMessage) throws -> String {
        guard let token = message.record.recipient, !token.isEmpty else {
            throw DeliveryError.permanent("the message has no push token to send to")
        }
        let (title, text) = message.content.notification
        struct Notification: Encodable {
            var title: String
            var body: String
        }
        struct Message: Encodable {
            var token: String
            var notification: Notification
            var data: [String: String]
        }
        struct Send: Encodable { var message: Message }
        let send = Send(
            message: Message(
                token: token, notification: Notification(title: title, body: text), data: [Self.outboxIDKey: message.id]))
        return try GoogleAPI.json(send)
    }

    public func deliver(batch: [OutboundMessage]) async -> [Result<DeliveryReceipt, DeliveryError>] {
        await deliverConcurrently(batch, limit: concurrency, rateLimiter: rateLimiter)
    }

    public func deliver(_ message: OutboundMessage) async throws -> DeliveryReceipt {
        let answer = try await api.send(.POST, endpoint, json: try body(for: message))
        guard (200..<300).contains(answer.status) else { throw error(answer) }
        struct Sent: Decodable { var name: String? }
        return DeliveryReceipt(providerMessageID: (try? JSONDecoder().decode(Sent.self, from: Data(answer.body.utf8)))?.name)
    }

    /// The `DeliveryError` of a non-2xx answer. A token FCM no longer knows (`UNREGISTERED`) or does not accept
    /// (`INVALID_ARGUMENT` about the token) is a dead recipient; 429 and 5xx are transient (`Retry-After` honoured);
    /// anything else is permanent.
    func error(_ answer: ProviderHTTP.Answer) -> DeliveryError {
        let failure = GoogleFailure.parse(answer)
        let code = failure?.details?.compactMap(\.errorCode).first
        var text = "FCM answered \(answer.status)"
        if let failure {
            text += ": " + [failure.status, code.flatMap { $0 == failure.status ? nil : $0 }].compactMap { $0 }.joined(separator: " ")
            if let message = failure.message, !message.isEmpty { text += " (\(message))" }
        } else {
            // A 502 can come back as an HTML page.
            text += ProviderHTTP.summary(answer.body.contains("<html") || answer.body.contains("<!DOCTYPE") ? "" : answer.body)
        }
        let aboutToken =
            failure?.details?.contains { $0.fieldViolations?.contains { $0.field == "message.token" } ?? false } ?? false
            || (failure?.message ?? "").localizedCaseInsensitiveContains("registration token")
        if code == "UNREGISTERED" || (answer.status == 400 && aboutToken) {
            return .deadRecipient(text)
        }
        if answer.status == 429 || answer.status >= 500 {
            let retryAfter = answer.headers.first(name: "retry-after").flatMap { ProviderHTTP.retryAfter($0, now: clock()) }
            return .transient(text, retryAfter: retryAfter)
        }
        if answer.status == 401 || answer.status == 403 {
            text += " (check the service account and project_id)"
        }
        return .permanent(text)
    }
}
