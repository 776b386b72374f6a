public import AsyncHTTPClient
public import Foundation
public import NudgeDelivery
import NIOCore
import NIOHTTP1
import NudgeStore
import NudgeCore

/// The `twilio` provider: one `POST /2010-04-01/Accounts/{AccountSid}/Messages.json` per message.
///
/// Twilio has no request idempotency key, so the outbox id travels in the `StatusCallback` URL of every attempt
/// (when `serve.public_url` is set): the status callbacks of a message sent twice name the same outbox row.
public struct TwilioAdapter: ChannelAdapter {
    /// Who the message is from: exactly one of the two.
    public enum Sender: Sendable, Hashable {
        /// A number in E.164, a short code or an alphanumeric sender id (`From`).
        case from(String)
        /// A Messaging Service (`MessagingServiceSid`, `MG…`), which picks the number.
        case messagingService(String)
    }

    /// The account (`AC…`), always in the path, also with an API key.
    public let accountSID: String
    public let sender: Sender
    /// The Messages resource URL.
    public let endpoint: String
    /// `serve.public_url`, without a trailing slash: where Twilio posts status callbacks.
    public let publicURL: String?
    let authorization: String
    /// Never shown: cut out of any answer quoted in an error.
    let secret: String
    let http: ProviderHTTP
    let concurrency: Int
    let rateLimiter: RateLimiter?
    /// The wall clock, for `Retry-After` dates (injected for tests).
    let clock: @Sendable () -> Date

    /// The path of the status callback route of `nudge serve`.
    public static let statusCallbackPath = "/webhooks/twilio/status"
    /// The query parameter of the status callback URL carrying the outbox id.
    public static let outboxIDParameter = "nudge_id"

    /// An adapter for `accountSID`, authenticating as `apiKeySID` (`SK…`) when given, else as the account;
    /// `authToken` is the account's auth token or the API key's secret.
    public init(
        accountSID: String, authToken: String, apiKeySID: String? = nil, sender: Sender,
        baseURL: String = "https://api.twilio.com", publicURL: String? = nil, client: HTTPClient,
        timeout: TimeInterval = 15, concurrency: Int = 8, rateLimiter: RateLimiter? = nil,
        clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.accountSID = accountSID
        self.sender = sender
        self.endpoint = "\(base)/2010-04-01/Accounts/\(ProviderHTTP.formEscape(accountSID))/Messages.json"
        self.publicURL = publicURL.map { url in
            var url = url
            while url.hasSuffix("/") { url.removeLast() }
            return url
        }
        self.authorization = ProviderHTTP.basicAuthorization(user: apiKeySID ?? accountSID, password: authToken)
        self.secret = authToken
        var http = ProviderHTTP(name: "Twilio", client: client, timeout: timeout)
        http.retriesUnknownOutcomes = self.publicURL != nil
        self.http = http
        self.concurrency = max(1, concurrency)
        self.rateLimiter = rateLimiter
        self.clock = clock
    }

    /// The adapter of a `twilio` channel of nudge.yaml.
    init(context: Adapters.Context) throws {
        let sender: Sender
        if let from = context.settings["from"] {
            sender = .from(from)
        } else {
            sender = .messagingService(try context.setting("messaging_service_sid"))
        }
        self.init(
            accountSID: try context.setting("account_sid"), authToken: try context.secret("auth_token_env"),
            apiKeySID: context.settings["api_key_sid"], sender: sender,
            baseURL: context.baseURL(default: "https://api.twilio.com"), publicURL: context.publicURL,
            client: context.client, timeout: context.timeout, concurrency: context.concurrency,
            rateLimiter: context.rateLimiter)
    }

    /// `{publicURL}/webhooks/twilio/status?nudge_id={outboxID}`: where Twilio reports the status of one message.
    public static func statusCallbackURL(publicURL: String, outboxID: String) -> String {
        var base = publicURL
        while base.hasSuffix("/") { base.removeLast() }
        return "\(base)\(statusCallbackPath)?\(outboxIDParameter)=\(ProviderHTTP.formEscape(outboxID))"
    }

    /// The form fields of `message`: `To`, `From` or `MessagingServiceSid`, `Body` and `StatusCallback`.
    public func form(for message: OutboundMessage) throws -> [(String, String)] {
        var fields = [("To", try SMSDelivery.phoneNumber(of: message))]
        switch sender {
        case .from(let from): fields.append(("From", from))
        case .messagingService(let sid): fields.append(("MessagingServiceSid", sid))
        }
        fields.append(("Body", message.content.text))
        if let publicURL {
            fields.append(("StatusCallback", Self.statusCallbackURL(publicURL: publicURL, outboxID: message.id)))
        }
        return fields
    }

    public func deliver(batch: [OutboundMessage]) async -> [Result<DeliveryReceipt, DeliveryError>] {
        await deliverConcurrently(batch, limit: concurrency, rateLimiter: rateLimiter)
    }

    public func deliver(_ message: OutboundMessage) async throws -> DeliveryReceipt {
        var request = HTTPClientRequest(url: endpoint)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "accept", value: "application/json")
        request.headers.add(name: "user-agent", value: "nudge")
        request.headers.add(name: "authorization", value: authorization)
        request.body = .bytes(ByteBuffer(string: ProviderHTTP.formEncoded(try form(for: message))))
        let answer = try await http.send(request)
        if (200..<300).contains(answer.status) {
            let created = try? JSONDecoder().decode(Created.self, from: Data(answer.body.utf8))
            return DeliveryReceipt(providerMessageID: created?.sid)
        }
        throw error(answer)
    }

    /// Twilio's `201 Created` Message resource (the part we keep).
    struct Created: Decodable {
        var sid: String?
    }

    /// Twilio's error body: `{"code": 21211, "message": "…", "more_info": "…", "status": 400}`.
    struct Failure: Decodable {
        var code: Int?
        var message: String?
    }

    /// The `DeliveryError` of a non-2xx answer: 429 (error 20429, never processed), 408 and 5xx are transient;
    /// anything else (invalid or unsubscribed recipient, bad credentials, …) is permanent.
    func error(_ answer: ProviderHTTP.Answer) -> DeliveryError {
        let failure = try? JSONDecoder().decode(Failure.self, from: Data(answer.body.utf8))
        var text: String
        if let failure, let code = failure.code {
            text = "Twilio error \(code)"
            if let message = failure.message, !message.isEmpty { text += ": " + message }
            if code == 20003 || answer.status == 401 || answer.status == 403 {
                text += " (Twilio refused the credentials: check account_sid, api_key_sid and auth_token_env)"
            }
        } else {
            text = "Twilio answered \(answer.status)\(ProviderHTTP.summary(answer.body))"
        }
        text = SMSDelivery.redact(text, secrets: [secret])
        if answer.status == 429 || failure?.code == 20429 {
            let retryAfter = answer.headers.first(name: "retry-after").flatMap {
                ProviderHTTP.retryAfter($0, now: clock())
            }
            return .transient(text, retryAfter: retryAfter)
        }
        if answer.status == 408 || answer.status >= 500 {
            // Retried only when the request carries the outbox id (in its StatusCallback URL).
            return publicURL == nil ? ProviderHTTP.unknownOutcome(text) : .transient(text)
        }
        return .permanent(text)
    }
}

/// What the SMS adapters share.
enum SMSDelivery {
    /// The recipient's phone number, or a permanent error when the outbox row has none.
    static func phoneNumber(of message: OutboundMessage) throws -> String {
        guard let number = message.record.recipient, !number.isEmpty else {
            throw DeliveryError.permanent("the message has no phone number to send to")
        }
        return number
    }

    /// `text` without phone numbers (`+` and digits, possibly grouped by spaces, dashes, dots or parentheses, and
    /// runs of 7 or more digits), without any of `secrets`, and without the double spaces this leaves.
    static func redact(_ text: String, secrets: [String]) -> String {
        let characters = Array(SecretMask(secrets, replacement: "[secret]", minimumLength: 1).apply(text))
        var kept = ""
        var index = 0
        while index < characters.count {
            let character = characters[index]
            if character == "+", index + 1 < characters.count, characters[index + 1].isASCIIDigit {
                // `+` then digits and separators, up to the last digit.
                var end = index + 1
                var scan = index + 1
                while scan < characters.count, characters[scan].isASCIIDigit || " -().".contains(characters[scan]) {
                    if characters[scan].isASCIIDigit { end = scan + 1 }
                    scan += 1
                }
                index = end
                continue
            }
            if character.isASCIIDigit {
                var end = index
                while end < characters.count, characters[end].isASCIIDigit { end += 1 }
                if end - index < 7 { kept += String(characters[index..<end]) }
                index = end
                continue
            }
            kept.append(character)
            index += 1
        }
        while kept.contains("  ") { kept = kept.replacingOccurrences(of: "  ", with: " ") }
        for mark in [".", ",", ";", ":", ")"] {
            kept = kept.replacingOccurrences(of: " " + mark, with: mark)
        }
        return kept.trimmingCharacters(in: .whitespaces)
    }
}

extension Character {
    /// `0` to `9`.
    var isASCIIDigit: Bool { isASCII && isWholeNumber }
}
