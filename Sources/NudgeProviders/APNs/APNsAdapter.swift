public import AsyncHTTPClient
import Crypto
public import Foundation
import JWTKit
import NIOCore
import NIOHTTP1
public import NudgeDelivery
import NudgeCore

/// The `apns` provider: one `POST /3/device/{token}` per message to the Apple Push Notification service over HTTP/2,
/// authenticated by a provider token (ES256, `kid` the key id, `iss` the team id) that is reused for 40 minutes
/// (Apple refuses one renewed more often than every 20 minutes, and one older than an hour).
///
/// `apns-id` is derived from the outbox id, so a retried message carries the same id to Apple.
public struct APNsAdapter: ChannelAdapter {
    public let topic: String
    /// `https://api.push.apple.com`, `https://api.sandbox.push.apple.com`, or `base_url`.
    public let baseURL: String
    let tokens: ProviderTokens
    let http: ProviderHTTP
    /// The HTTP client: the one trusting `ca_file` when it is set.
    public var client: HTTPClient { http.client }
    let concurrency: Int
    let rateLimiter: RateLimiter?
    /// The wall clock, for `Retry-After` dates (injected for tests).
    let clock: @Sendable () -> Date

    public static let productionURL = "https://api.push.apple.com"
    public static let sandboxURL = "https://api.sandbox.push.apple.com"
    /// The key of the payload carrying the outbox id.
    public static let outboxIDKey = "nudge_id"

    /// An adapter signing with `key` (the `.p8` file's PEM) as `keyID` of team `teamID`.
    public init(
        teamID: String, keyID: String, key: String, topic: String, baseURL: String, client: HTTPClient,
        timeout: TimeInterval = 15, concurrency: Int = 8, rateLimiter: RateLimiter? = nil,
        clock: @escaping @Sendable () -> Date = { Date() }
    ) throws(DeliveryError) {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.topic = topic
        self.baseURL = base
        self.tokens = try ProviderTokens(teamID: teamID, keyID: keyID, pem: key, clock: clock)
        self.http = ProviderHTTP(name: "APNs", client: client, timeout: timeout)
        self.concurrency = max(1, concurrency)
        self.rateLimiter = rateLimiter
        self.clock = clock
    }

    /// The adapter of an `apns` channel of nudge.yaml: `ca_file` (a PEM file of the certificates to trust instead of
    /// the system's) gets a client of its own.
    init(context: Adapters.Context) throws {
        let environment = context.settings["environment"] ?? "production"
        let base = context.baseURL(default: environment == "production" ? Self.productionURL : Self.sandboxURL)
        let client = try context.settings["ca_file"].map { try Adapters.httpClient(trusting: context.resolve($0)) }
        do {
            try self.init(
                teamID: try context.setting("team_id"), keyID: try context.setting("key_id"),
                key: try context.secret("key_env"), topic: try context.setting("topic"), baseURL: base,
                client: client ?? context.client, timeout: context.timeout, concurrency: context.concurrency,
                rateLimiter: context.rateLimiter)
        } catch let error as DeliveryError {
            throw Adapters.ConfigurationError(description: "\(context.name): key_env: \(error)")
        }
    }

    /// The `apns-id` of an outbox message: a UUID made from the SHA-256 of its id (version 8, RFC 9562), the same on
    /// every attempt.
    public static func apnsID(outboxID: String) -> String {
        var bytes = Array(SHA256.hash(data: Data(outboxID.utf8)).prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x80
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let hex = bytes.map { String(format: "%02X", $0) }.joined()
        let parts = [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { range in
            String(hex[hex.index(hex.startIndex, offsetBy: range.lowerBound)..<hex.index(hex.startIndex, offsetBy: range.upperBound)])
        }
        return parts.joined(separator: "-")
    }

    /// The payload: `{"aps": {"alert": {"title", "body"}}, "nudge_id": …}`.
    public func payload(for message: OutboundMessage) throws -> String {
        let (title, body) = message.content.notification
        struct Alert: Encodable {
            var title: String
            var body: String
        }
        struct APS: Encodable { var alert: Alert }
        struct Payload: Encodable {
            var aps: APS
            var nudge_id: String
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return String(
                decoding: try encoder.encode(Payload(aps: APS(alert: Alert(title: title, body: body)), nudge_id: message.id)),
                as: UTF8.self)
        } catch {
            throw DeliveryError.permanent("cannot encode the APNs payload: \(error)")
        }
    }

    public func deliver(batch: [OutboundMessage]) async -> [Result<DeliveryReceipt, DeliveryError>] {
        await deliverConcurrently(batch, limit: concurrency, rateLimiter: rateLimiter)
    }

    public func deliver(_ message: OutboundMessage) async throws -> DeliveryReceipt {
        guard let device = message.record.recipient, !device.isEmpty else {
            throw DeliveryError.permanent("the message has no device token to send to")
        }
        let payload = try payload(for: message)
        let id = Self.apnsID(outboxID: message.id)
        // A provider token Apple calls expired is renewed once.
        var renewed = false
        while true {
            let token = try await tokens.token()
            var request = HTTPClientRequest(url: "\(baseURL)/3/device/\(ProviderHTTP.formEscape(device))")
            request.method = .POST
            request.headers.add(name: "authorization", value: "bearer \(token)")
            request.headers.add(name: "apns-topic", value: topic)
            request.headers.add(name: "apns-push-type", value: "alert")
            request.headers.add(name: "apns-priority", value: "10")
            request.headers.add(name: "apns-id", value: id)
            request.headers.add(name: "content-type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: payload))
            let answer = try await http.send(request)
            if answer.status == 200 {
                return DeliveryReceipt(providerMessageID: answer.headers.first(name: "apns-id") ?? id)
            }
            let reason = Self.reason(answer)
            if answer.status == 403, reason == "ExpiredProviderToken", !renewed {
                renewed = true
                await tokens.renew(after: token)
                continue
            }
            throw error(answer, reason: reason)
        }
    }

    /// Apple's `{"reason": "…"}`.
    static func reason(_ answer: ProviderHTTP.Answer) -> String? {
        struct Failure: Decodable { var reason: String? }
        return (try? JSONDecoder().decode(Failure.self, from: Data(answer.body.utf8)))?.reason
    }

    /// The `DeliveryError` of a non-200 answer: a device token Apple no longer knows (410 `Unregistered`) or refuses
    /// (400 `BadDeviceToken`) is a dead recipient; 429 and 5xx are transient; the rest is permanent.
    func error(_ answer: ProviderHTTP.Answer, reason: String?) -> DeliveryError {
        Self.error(answer, reason: reason, now: clock(), forbidden: "check team_id, key_id, key_env and topic")
    }

    /// The same for any APNs client (`apple_wallet`'s pass pushes too); `forbidden` says what to check on a 403.
    static func error(_ answer: ProviderHTTP.Answer, reason: String?, now: Date, forbidden: String) -> DeliveryError {
        let text = "APNs answered \(answer.status)" + (reason.map { ": \($0)" } ?? ProviderHTTP.summary(answer.body))
        if answer.status == 410 || reason == "BadDeviceToken" || reason == "Unregistered" {
            return .deadRecipient(text)
        }
        if answer.status == 429 || answer.status >= 500 {
            let retryAfter = answer.headers.first(name: "retry-after").flatMap { ProviderHTTP.retryAfter($0, now: now) }
            return .transient(text, retryAfter: retryAfter)
        }
        if answer.status == 403 { return .permanent(text + " (\(forbidden))") }
        return .permanent(text)
    }
}

/// APNs provider tokens of one key: made on first use, reused for `lifetime`, renewed early when Apple calls one
/// expired.
final class ProviderTokens: Sendable {
    let teamID: String
    let keyID: String
    let key: ES256PrivateKey
    let clock: @Sendable () -> Date
    private let cache = TokenCache()

    /// How long a token is used: within Apple's 20 to 60 minutes.
    static let lifetime: TimeInterval = 40 * 60

    init(teamID: String, keyID: String, pem: String, clock: @escaping @Sendable () -> Date) throws(DeliveryError) {
        guard let key = try? ES256PrivateKey(pem: pem) else {
            throw .permanent("the APNs key is not a P-256 private key in PEM form (the .p8 file's text)")
        }
        self.teamID = teamID
        self.keyID = keyID
        self.key = key
        self.clock = clock
    }

    /// The token in use, or a new one when it is `lifetime` old.
    func token() async throws -> String {
        let now = clock()
        return try await cache.token(now: now, margin: 0) { [teamID, keyID, key] in
            let keys = JWTKeyCollection()
            await keys.add(ecdsa: key, kid: JWKIdentifier(string: keyID))
            let token = try await keys.sign(
                Claims(iss: teamID, iat: Int(now.timeIntervalSince1970)), kid: JWKIdentifier(string: keyID))
            return (token, now.addingTimeInterval(Self.lifetime))
        }
    }

    /// Drops `token` if it is still the one in use: the next `token()` makes another.
    func renew(after token: String) async {
        await cache.invalidate(token)
    }

    struct Claims: JWTPayload {
        var iss: String
        var iat: Int

        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }
}
