public import AsyncHTTPClient
public import Foundation
public import NudgeDelivery
import NIOCore
import NIOHTTP1
import NudgeLanguage
import NudgeStore
import NudgeCore

/// The `sns` provider: Amazon SNS `Publish` to a phone number through the Query API, signed with SigV4.
///
/// `Publish` has no field of ours for SMS, so the outbox id does not travel: the receipt carries SNS's `MessageId`,
/// and delivery status comes only through SNS's CloudWatch delivery logs.
public struct SNSAdapter: ChannelAdapter {
    /// The Query API endpoint (`https://sns.{region}.amazonaws.com/` unless `base_url` says otherwise).
    public let endpoint: String
    /// `AWS.SNS.SMS.SMSType`: `Transactional` or `Promotional` (the account's default when nil).
    public let smsType: String?
    /// `AWS.SNS.SMS.SenderID`: an alphanumeric sender id where the destination allows one.
    public let senderID: String?
    let signer: SigV4
    /// The `host` header signed and sent.
    let host: String
    let path: String
    let http: ProviderHTTP
    let concurrency: Int
    let rateLimiter: RateLimiter?
    /// The wall clock for `x-amz-date` (injected for tests).
    let clock: @Sendable () -> Date

    /// The `Version` of the SNS Query API.
    public static let apiVersion = "2010-03-31"

    /// An adapter publishing in `region` with `credentials`; `baseURL` replaces `https://sns.{region}.amazonaws.com`.
    public init(
        region: String, credentials: SigV4.Credentials, smsType: String? = nil, senderID: String? = nil,
        baseURL: String? = nil, client: HTTPClient, timeout: TimeInterval = 15, concurrency: Int = 8,
        rateLimiter: RateLimiter? = nil, clock: @escaping @Sendable () -> Date = { Date() }
    ) throws {
        guard !region.isEmpty, region.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }) else {
            throw Adapters.ConfigurationError(
                description: "'region' must be an AWS region such as eu-west-1, not '\(region)'")
        }
        if let senderID, !Self.isSenderID(senderID) {
            throw Adapters.ConfigurationError(
                description:
                    "'sender_id' must be 1 to 11 letters and digits with at least one letter, not '\(senderID)'")
        }
        var base = baseURL ?? "https://sns.\(region).amazonaws.com"
        while base.hasSuffix("/") { base.removeLast() }
        guard let components = URLComponents(string: base + "/"), let hostName = components.host, !hostName.isEmpty
        else {
            throw Adapters.ConfigurationError(description: "'base_url' must be an http or https URL, not '\(base)'")
        }
        self.endpoint = base + "/"
        self.host = components.port.map { "\(hostName):\($0)" } ?? hostName
        self.path = components.percentEncodedPath
        self.smsType = smsType
        self.senderID = senderID
        self.signer = SigV4(credentials: credentials, region: region, service: "sns")
        var http = ProviderHTTP(name: "SNS", client: client, timeout: timeout)
        http.retriesUnknownOutcomes = false
        self.http = http
        self.concurrency = max(1, concurrency)
        self.rateLimiter = rateLimiter
        self.clock = clock
    }

    /// The adapter of an `sns` channel of nudge.yaml.
    init(context: Adapters.Context) throws {
        let region = try context.setting("region")
        let credentials = SigV4.Credentials(
            accessKeyID: try context.secret("access_key_id_env"),
            secretAccessKey: try context.secret("secret_access_key_env"),
            sessionToken: context.settings["session_token_env"] == nil ? nil : try context.secret("session_token_env"))
        do {
            try self.init(
                region: region, credentials: credentials, smsType: context.settings["sms_type"],
                senderID: context.settings["sender_id"],
                baseURL: context.baseURL(default: "https://sns.\(region).amazonaws.com"), client: context.client,
                timeout: context.timeout, concurrency: context.concurrency, rateLimiter: context.rateLimiter)
        } catch let error as Adapters.ConfigurationError {
            throw Adapters.ConfigurationError(
                description: "\(context.name): \(error.description)")
        }
    }

    /// 1 to 11 ASCII letters and digits, at least one a letter.
    static func isSenderID(_ text: String) -> Bool {
        (1...11).contains(text.count) && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) }
            && text.contains(where: \.isLetter)
    }

    /// The `Publish` parameters of `message`, in the order sent.
    public func parameters(for message: OutboundMessage) throws -> [(String, String)] {
        var parameters = [
            ("Action", "Publish"), ("Version", Self.apiVersion),
            ("PhoneNumber", try SMSDelivery.phoneNumber(of: message)),
            ("Message", message.content.text),
        ]
        var entry = 0
        for (name, value) in [("AWS.SNS.SMS.SMSType", smsType), ("AWS.SNS.SMS.SenderID", senderID)] {
            guard let value else { continue }
            entry += 1
            let prefix = "MessageAttributes.entry.\(entry)"
            parameters += [
                ("\(prefix).Name", name), ("\(prefix).Value.DataType", "String"),
                ("\(prefix).Value.StringValue", value),
            ]
        }
        return parameters
    }

    public func deliver(batch: [OutboundMessage]) async -> [Result<DeliveryReceipt, DeliveryError>] {
        await deliverConcurrently(batch, limit: concurrency, rateLimiter: rateLimiter)
    }

    public func deliver(_ message: OutboundMessage) async throws -> DeliveryReceipt {
        let body = Data(ProviderHTTP.formEncoded(try parameters(for: message)).utf8)
        let headers: [(name: String, value: String)] = [
            ("content-type", "application/x-www-form-urlencoded; charset=utf-8"), ("host", host),
        ]
        let signed = signer.sign(
            SigV4.Request(method: "POST", path: path, headers: headers, payload: body), at: clock())
        var request = HTTPClientRequest(url: endpoint)
        request.method = .POST
        for (name, value) in headers + signed { request.headers.add(name: name, value: value) }
        request.headers.add(name: "user-agent", value: "nudge")
        request.body = .bytes(ByteBuffer(bytes: body))
        let answer = try await http.send(request)
        if (200..<300).contains(answer.status) {
            return DeliveryReceipt(providerMessageID: Self.element("MessageId", in: answer.body))
        }
        throw error(answer)
    }

    /// Error codes that mean "slow down": the request was not processed.
    static let throttlingCodes: Set<String> = [
        "Throttling", "ThrottlingException", "ThrottledException", "TooManyRequestsException",
    ]

    /// The `DeliveryError` of a non-2xx answer (`<ErrorResponse><Error><Type/><Code/><Message/>`): throttling (400
    /// or 429), 408 and 5xx are transient; anything else (`InvalidParameter`, `AuthorizationError`,
    /// `InvalidClientTokenId`, `SignatureDoesNotMatch`, …) is permanent.
    func error(_ answer: ProviderHTTP.Answer) -> DeliveryError {
        let code = Self.element("Code", in: answer.body)
        var text: String
        if let code {
            text = "SNS error \(code)"
            // AWS may append the canonical request (with the session token) after the first line: keep the first.
            let message = Self.element("Message", in: answer.body)?.split(separator: "\n").first.map(String.init) ?? ""
            if !message.isEmpty { text += ": " + String(message.prefix(300)) }
            if answer.status == 403 {
                text +=
                    " (AWS refused the request: check access_key_id_env, secret_access_key_env, session_token_env,"
                    + " the IAM policy and the clock)"
            }
        } else {
            let firstLine = answer.body.split(separator: "\n").first.map(String.init) ?? ""
            text = "SNS answered \(answer.status)\(ProviderHTTP.summary(firstLine))"
        }
        let credentials = signer.credentials
        text = SMSDelivery.redact(text, secrets: [credentials.secretAccessKey, credentials.sessionToken ?? ""])
        if answer.status == 429 || code.map(Self.throttlingCodes.contains) == true {
            let retryAfter = answer.headers.first(name: "retry-after").flatMap {
                ProviderHTTP.retryAfter($0, now: clock())
            }
            return .transient(text, retryAfter: retryAfter)
        }
        // SNS Publish has no field for the outbox id: a 5xx may have been sent, and is not retried.
        if answer.status == 408 || answer.status >= 500 { return ProviderHTTP.unknownOutcome(text) }
        return .permanent(text)
    }

    /// The text of the first `<name>…</name>` in `xml`, with the five predefined entities decoded.
    static func element(_ name: String, in xml: String) -> String? {
        guard let start = xml.range(of: "<\(name)>"),
            let end = xml.range(of: "</\(name)>", range: start.upperBound..<xml.endIndex)
        else { return nil }
        var text = String(xml[start.upperBound..<end.lowerBound])
        for (entity, character) in [("&lt;", "<"), ("&gt;", ">"), ("&quot;", "\""), ("&apos;", "'"), ("&amp;", "&")] {
            text = text.replacingOccurrences(of: entity, with: character)
        }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
