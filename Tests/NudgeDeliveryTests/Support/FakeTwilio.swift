import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NudgeTestSupport
import NIOHTTP1
import NudgeDelivery
import NudgeProviders
import Synchronization

// The fakes of the SMS providers: Twilio and Amazon SNS on loopback servers (`LoopbackFake`), and moto (an SNS
// emulator that does not check signatures) as a child process.

// MARK: - Twilio

/// Twilio's Messages API (`POST /2010-04-01/Accounts/{AccountSid}/Messages.json`) on 127.0.0.1, for tests.
///
/// It checks what Twilio checks first: the account in the path, HTTP Basic auth (the account SID and auth token,
/// or an API key SID and secret), a form body, `To` in E.164, exactly one of `From` and `MessagingServiceSid`, a
/// `Body` of at most 1600 characters; answers Twilio's error JSON when they are wrong, and each valid request as
/// scripted (201 Message JSON when nothing is scripted).
final class FakeTwilio: Sendable {
    /// How to answer one valid request.
    enum Reply: Sendable, Hashable {
        /// 201 with a Message resource whose `sid` is `SM` and 32 hex digits.
        case created
        /// Twilio's error JSON `{code, message, more_info, status}`, with a `Retry-After` header when given.
        case error(status: Int, code: Int, message: String, retryAfter: String? = nil)
        /// 500 with an HTML page.
        case serverError
        /// Answers 201 only after `LoopbackFake.hangLimit` (or when the fake stops).
        case hang

        static let unsubscribed = Reply.error(
            status: 400, code: 21610, message: "Attempt to send to unsubscribed recipient")
        static let notMobile = Reply.error(
            status: 400, code: 21614, message: "'To' number +15005550009 is not a valid mobile number")
        static let forbidden = Reply.error(status: 403, code: 20003, message: "Forbidden")
        static func tooManyRequests(retryAfter: String?) -> Reply {
            .error(status: 429, code: 20429, message: "Too Many Requests", retryAfter: retryAfter)
        }
    }

    static let accountSID = "AC0123456789abcdef0123456789abcdef"
    static let authToken = "twilio-auth-token-9f8e7d6c5b4a"
    static let apiKeySID = "SK0123456789abcdef0123456789abcdef"
    static let apiKeySecret = "twilio-api-key-secret-1a2b3c4d"

    let server = LoopbackFake<Reply>(fallback: .created)
    /// Passwords by user: the account and its API key.
    let passwords = [FakeTwilio.accountSID: FakeTwilio.authToken, FakeTwilio.apiKeySID: FakeTwilio.apiKeySecret]
    private let sids = Mutex<[String]>([])

    /// Runs a fake Twilio for the duration of `body`, which gets the fake, its base URL (for `base_url`) and an HTTP
    /// client.
    static func with<T>(_ body: (FakeTwilio, String, HTTPClient) async throws -> T) async throws -> T {
        let fake = FakeTwilio()
        return try await fake.server.serve(
            post: "**", label: "fake-twilio", handler: { request, text, _ in await fake.handle(request, text) }
        ) { try await body(fake, $0, $1) }
    }

    /// The Message sids answered with 201, in order.
    var issuedSIDs: [String] { sids.withLock { $0 } }

    private func handle(_ request: Request, _ text: String) async -> Response {
        let form = FakeMailgun.Form(text)
        let reply = problem(request, form) ?? server.nextReply()
        switch reply {
        case .created, .hang:
            if reply == .hang { await server.hang() }
            let sid = sids.withLock { sids in
                sids.append(String(format: "SM%032x", sids.count + 1))
                return sids[sids.count - 1]
            }
            return Self.json(201, Self.message(sid: sid, form: form))
        case .error(let status, let code, let message, let retryAfter):
            let object: [String: Any] = [
                "code": code, "message": message, "more_info": "https://www.twilio.com/docs/errors/\(code)",
                "status": status,
            ]
            return Self.json(status, object, headers: retryAfter.map { ["Retry-After": $0] } ?? [:])
        case .serverError:
            return LoopbackFake<Reply>.response(
                .internalServerError, "<html><body>Internal Server Error</body></html>", json: false)
        }
    }

    /// The error Twilio answers to an invalid request, or nil when it is valid.
    private func problem(_ request: Request, _ form: FakeMailgun.Form) -> Reply? {
        let path = request.uri.path
        guard path == "/2010-04-01/Accounts/\(Self.accountSID)/Messages.json" else {
            return .error(status: 404, code: 20404, message: "The requested resource \(path) was not found")
        }
        let (user, password) = Self.basicCredentials(request.headers[.authorization])
        guard let user, let password, passwords[user] == password else {
            return .error(status: 401, code: 20003, message: "Authenticate")
        }
        guard request.headers[.contentType]?.hasPrefix("application/x-www-form-urlencoded") == true else {
            return .error(status: 400, code: 20001, message: "Expected a form body")
        }
        guard let to = form["To"], !to.isEmpty else {
            return .error(status: 400, code: 21604, message: "A 'To' phone number is required.")
        }
        guard Self.isE164(to), form.values("To").count == 1 else {
            return .error(status: 400, code: 21211, message: "The 'To' number \(to) is not a valid phone number.")
        }
        guard form.values("From").count + form.values("MessagingServiceSid").count == 1 else {
            return .error(status: 400, code: 21603, message: "Set exactly one of 'From' and 'MessagingServiceSid'.")
        }
        guard let body = form["Body"], !body.isEmpty else {
            return .error(status: 400, code: 21602, message: "Message body is required.")
        }
        guard body.utf16.count <= 1600 else {
            return .error(
                status: 400, code: 21617, message: "The concatenated message body exceeds the 1600 character limit.")
        }
        return nil
    }

    /// Whether `text` is a phone number in E.164: `+`, then 2 to 15 digits, the first not 0.
    static func isE164(_ text: String) -> Bool {
        let digits = text.dropFirst()
        return text.hasPrefix("+") && (2...15).contains(digits.count) && digits.allSatisfy { $0.isASCII && $0.isNumber }
            && digits.first != "0"
    }

    /// The user and password of a `Basic` authorization.
    static func basicCredentials(_ header: String?) -> (user: String?, password: String?) {
        guard let header, header.hasPrefix("Basic "), let data = Data(base64Encoded: String(header.dropFirst(6))) else {
            return (nil, nil)
        }
        let text = String(decoding: data, as: UTF8.self)
        guard let colon = text.firstIndex(of: ":") else { return (text, nil) }
        return (String(text[..<colon]), String(text[text.index(after: colon)...]))
    }

    /// The Message resource of a queued message.
    private static func message(sid: String, form: FakeMailgun.Form) -> [String: Any] {
        let path = "/2010-04-01/Accounts/\(accountSID)/Messages/\(sid)"
        return [
            "account_sid": accountSID, "api_version": "2010-04-01", "body": form["Body"] ?? "",
            "direction": "outbound-api", "error_code": NSNull(), "error_message": NSNull(),
            "from": form["From"] ?? NSNull(), "messaging_service_sid": form["MessagingServiceSid"] ?? NSNull(),
            "num_media": "0", "num_segments": "1", "sid": sid,
            "status": form["MessagingServiceSid"] == nil ? "queued" : "accepted", "to": form["To"] ?? "",
            "uri": "\(path).json", "subresource_uris": ["media": "\(path)/Media.json"],
        ]
    }

    /// `object` as JSON with `status`.
    private static func json(_ status: Int, _ object: [String: Any], headers: [String: String] = [:]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return LoopbackFake<Reply>.response(
            HTTPResponse.Status(code: status), String(decoding: data, as: UTF8.self), headers: headers)
    }
}

extension LoopbackFake.Received {
    /// The user and password of the request's Basic authorization.
    var basicCredentials: (user: String?, password: String?) {
        FakeTwilio.basicCredentials(header("authorization"))
    }
}

// MARK: - Amazon SNS

/// Amazon SNS's Query API `Publish` on 127.0.0.1, for tests, verifying AWS Signature Version 4.
///
/// It recomputes the signature from the request as received (the headers named in `SignedHeaders`, the path, the
/// body's SHA-256) with its own copy of the credentials, and answers 403 `SignatureDoesNotMatch` (quoting the
/// canonical request, as AWS does) when it differs, `InvalidClientTokenId` for another access key or session token;
/// then checks `Publish`'s parameters (`PhoneNumber` in E.164, a `Message` of at most 1600 bytes, the SMS attributes)
/// and answers each valid request as scripted (200 `PublishResponse` when nothing is scripted).
final class FakeSNS: Sendable {
    /// How to answer one valid request.
    enum Reply: Sendable, Hashable {
        /// 200 `<PublishResponse><PublishResult><MessageId>…`.
        case published
        /// `<ErrorResponse><Error><Type>Sender</Type><Code>…`, with a `Retry-After` header when given.
        case error(status: Int, code: String, message: String, retryAfter: String? = nil)
        /// 500 `InternalError`.
        case serverError
        /// Answers 200 only after `LoopbackFake.hangLimit` (or when the fake stops).
        case hang

        static let authorizationError = Reply.error(
            status: 403, code: "AuthorizationError",
            message: "User: arn:aws:iam::123456789012:user/nudge is not authorized to perform: SNS:Publish")
        static let throttling = Reply.error(status: 400, code: "Throttling", message: "Rate exceeded")
        static func tooManyRequests(retryAfter: String?) -> Reply {
            .error(status: 429, code: "Throttling", message: "Rate exceeded", retryAfter: retryAfter)
        }
    }

    static let region = "eu-west-1"
    static let credentials = SigV4.Credentials(
        accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    static let sessionToken = "FQoGZXIvYXdzEXAMPLESESSIONTOKEN//////////wEaDEXAMPLE"

    let server = LoopbackFake<Reply>(fallback: .published)
    /// What the fake accepts: the access key, the secret key it verifies with and the session token it requires.
    let credentials: SigV4.Credentials
    private let messageIDs = Mutex<[String]>([])

    init(credentials: SigV4.Credentials) {
        self.credentials = credentials
    }

    /// Runs a fake SNS for `credentials` for the duration of `body`, which gets the fake, its base URL and an HTTP
    /// client.
    static func with<T>(
        credentials: SigV4.Credentials = FakeSNS.credentials, _ body: (FakeSNS, String, HTTPClient) async throws -> T
    ) async throws -> T {
        let fake = FakeSNS(credentials: credentials)
        return try await fake.server.serve(
            post: "/", label: "fake-sns", handler: { request, text, _ in await fake.handle(request, text) }
        ) { try await body(fake, $0, $1) }
    }

    /// The `MessageId`s answered with 200, in order.
    var issuedMessageIDs: [String] { messageIDs.withLock { $0 } }

    private func handle(_ request: Request, _ text: String) async -> Response {
        var headers = request.headers.map { (name: $0.name.canonicalName, value: $0.value) }
        if !headers.contains(where: { $0.name == "host" }) { headers.append(("host", request.head.authority ?? "")) }
        let authorization = Self.parseAuthorization(request.headers[.authorization] ?? "")
        let signed = Set(authorization["SignedHeaders"]?.split(separator: ";").map(String.init) ?? [])
        let wire = SigV4.Request(
            method: request.method.rawValue, path: request.uri.path,
            headers: headers.filter { signed.contains($0.name) },
            payload: Data(text.utf8))
        let reply =
            signatureProblem(
                wire, authorization: authorization,
                headers: Dictionary(headers.map { ($0.name, $0.value) }, uniquingKeysWith: { "\($0),\($1)" }))
            ?? Self.parameterProblem(FakeMailgun.Form(text)) ?? server.nextReply()
        switch reply {
        case .published, .hang:
            if reply == .hang { await server.hang() }
            let messageID = messageIDs.withLock { ids in
                ids.append(String(format: "00000000-0000-4000-8000-%012x", ids.count + 1))
                return ids[ids.count - 1]
            }
            return Self.xml(
                .ok,
                #"<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult>"#
                    + "<MessageId>\(messageID)</MessageId></PublishResult><ResponseMetadata><RequestId>"
                    + "fake-request</RequestId></ResponseMetadata></PublishResponse>")
        case .error(let status, let code, let message, let retryAfter):
            return Self.error(HTTPResponse.Status(code: status), code: code, message: message, retryAfter: retryAfter)
        case .serverError:
            return Self.error(.internalServerError, code: "InternalError", message: "Internal failure")
        }
    }

    /// The 403 AWS answers to a request whose SigV4 authorization does not verify, or nil when it does.
    private func signatureProblem(
        _ wire: SigV4.Request, authorization: [String: String], headers: [String: String]
    ) -> Reply? {
        func denied(_ code: String, _ message: String) -> Reply { .error(status: 403, code: code, message: message) }
        let scope = authorization["Credential"]?.split(separator: "/").map(String.init) ?? []
        guard scope.count == 5, let given = authorization["Signature"],
            let timestamp = headers["x-amz-date"]
        else {
            return denied("IncompleteSignature", "The request signature does not conform to AWS standards.")
        }
        guard scope[0] == credentials.accessKeyID,
            headers["x-amz-security-token"] == credentials.sessionToken
        else {
            return denied("InvalidClientTokenId", "The security token included in the request is invalid.")
        }
        let signed = Set(wire.headers.map(\.name))
        let required =
            ["host", "x-amz-date", "content-type"] + (credentials.sessionToken == nil ? [] : ["x-amz-security-token"])
        guard required.allSatisfy(signed.contains) else {
            return denied("SignatureDoesNotMatch", "'Host', 'X-Amz-Date' and the body's headers must be signed.")
        }
        guard scope[1] == String(timestamp.prefix(8)), scope[2] == Self.region, scope[3] == "sns",
            scope[4] == "aws4_request"
        else {
            return denied("SignatureDoesNotMatch", "Credential should be scoped to a valid region, service and day.")
        }
        let signer = SigV4(credentials: credentials, region: scope[2], service: "sns")
        let canonical = signer.canonicalRequest(wire)
        let stringToSign = signer.stringToSign(canonicalRequest: canonical, timestamp: timestamp)
        let expected = signer.signature(stringToSign: stringToSign, timestamp: timestamp)
        guard FakeWebhookReceiver.constantTimeEquals(Data(given.utf8), Data(expected.utf8)) else {
            return denied(
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided. Check your AWS Secret "
                    + "Access Key and signing method. Consult the service documentation for details.\n\nThe Canonical "
                    + "String for this request should have been\n'\(canonical)'\n\nThe String-to-Sign should have been\n'"
                    + "\(stringToSign)'\n")
        }
        return nil
    }

    /// The 400 SNS answers to invalid `Publish` parameters, or nil when they are valid.
    private static func parameterProblem(_ form: FakeMailgun.Form) -> Reply? {
        func invalid(_ message: String) -> Reply { .error(status: 400, code: "InvalidParameter", message: message) }
        guard form["Action"] == "Publish", form["Version"] == "2010-03-31" else {
            return .error(status: 400, code: "InvalidAction", message: "Could not find operation for this version")
        }
        guard let number = form["PhoneNumber"], FakeTwilio.isE164(number) else {
            return invalid("Invalid parameter: PhoneNumber Reason: \(form["PhoneNumber"] ?? "") is not valid")
        }
        guard let message = form["Message"], !message.isEmpty, message.utf8.count <= 1600 else {
            return invalid("Invalid parameter: Message Reason: empty or longer than 1600 bytes")
        }
        let attributes = form.smsAttributes
        let entries = form.fields.filter { $0.name.hasPrefix("MessageAttributes.entry.") }
        guard entries.count == attributes.count * 3,
            attributes.keys.allSatisfy({ ["AWS.SNS.SMS.SMSType", "AWS.SNS.SMS.SenderID"].contains($0) }),
            entries.filter({ $0.name.hasSuffix(".Value.DataType") }).allSatisfy({ $0.value == "String" }),
            ["Transactional", "Promotional", nil].contains(attributes["AWS.SNS.SMS.SMSType"])
        else {
            return invalid("Invalid parameter: MessageAttributes")
        }
        return nil
    }

    /// `Credential`, `SignedHeaders` and `Signature` of an `AWS4-HMAC-SHA256` authorization.
    static func parseAuthorization(_ header: String) -> [String: String] {
        guard header.hasPrefix("AWS4-HMAC-SHA256 ") else { return [:] }
        var parts: [String: String] = [:]
        for item in header.dropFirst("AWS4-HMAC-SHA256 ".count).split(separator: ",") {
            let pair = item.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
            if pair.count == 2 { parts[String(pair[0])] = String(pair[1]) }
        }
        return parts
    }

    /// The Query API's error document.
    private static func error(
        _ status: HTTPResponse.Status, code: String, message: String, retryAfter: String? = nil
    ) -> Response {
        let escaped = message.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
        var response = xml(
            status,
            #"<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type>"#
                + "<Code>\(code)</Code><Message>\(escaped)</Message></Error><RequestId>fake-request</RequestId></ErrorResponse>"
        )
        if let retryAfter { response.headers[.retryAfter] = retryAfter }
        return response
    }

    /// An XML document with `status`.
    private static func xml(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "text/xml"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

extension FakeMailgun.Form {
    /// `MessageAttributes.entry.N` of an SNS `Publish` as name → string value.
    var smsAttributes: [String: String] {
        var attributes: [String: String] = [:]
        for index in 1...10 {
            guard let name = self["MessageAttributes.entry.\(index).Name"] else { break }
            attributes[name] = self["MessageAttributes.entry.\(index).Value.StringValue"]
        }
        return attributes
    }
}

extension LoopbackFake.Received {
    /// `SignedHeaders` of the request's SigV4 authorization.
    var signedHeaders: [String] {
        FakeSNS.parseAuthorization(header("authorization") ?? "")["SignedHeaders"]?.split(separator: ";").map(
            String.init) ?? []
    }
}

// MARK: - moto

/// moto (a Python emulator of AWS) in server mode on 127.0.0.1, an ephemeral port, as a child process.
final class MotoServer: Sendable {
    /// `http://127.0.0.1:PORT`.
    let baseURL: String

    private init(baseURL: String) {
        self.baseURL = baseURL
    }

    /// Starts moto, waits until it answers, runs `body` and stops moto.
    static func with<T>(client: HTTPClient, _ body: (MotoServer) async throws -> T) async throws -> T {
        let script = """
            import sys
            from moto.server import ThreadedMotoServer
            server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
            server.start()
            print(server.get_host_and_port()[1], flush=True)
            sys.stdin.read()
            server.stop()
            """
        let process = try ChildProcess("/usr/bin/env", ["python3", "-c", script], input: .pipe, output: .pipe)
        let result: Result<T, any Error>
        do {
            let line = await firstLine(of: process.output!)
            guard let port = line.flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) }), port > 0 else {
                throw ReceiverError(description: "moto did not start: `python3 -c 'import moto'` must work")
            }
            let server = MotoServer(baseURL: "http://127.0.0.1:\(port)")
            try await server.waitUntilAnswering(client: client)
            result = .success(try await body(server))
        } catch {
            result = .failure(error)
        }
        process.stop(grace: 5)
        return try result.get()
    }

    /// The SMS messages moto has published: (phone number, message) in order.
    func publishedSMS(client: HTTPClient) async throws -> [(phoneNumber: String, message: String, messageID: String)] {
        let response = try await client.execute(
            HTTPClientRequest(url: baseURL + "/moto-api/data.json"), timeout: .seconds(5))
        let data = Data(try await response.body.collect(upTo: 1 << 22).readableBytesView)
        let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        let sms = (object?["sns"] as? [String: Any])?["SMS"] as? [[String: Any]] ?? []
        return sms.map {
            (
                ($0["phone_number"] as? String) ?? "", ($0["message"] as? String) ?? "",
                ($0["message_id"] as? String) ?? ""
            )
        }
    }

    private func waitUntilAnswering(client: HTTPClient) async throws {
        for _ in 0..<100 {
            if let response = try? await client.execute(
                HTTPClientRequest(url: baseURL + "/moto-api/"), timeout: .seconds(1)),
                response.status == .ok
            {
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ReceiverError(description: "moto did not answer at \(baseURL)")
    }

    /// The first line written to `handle`, read on a thread of its own (reading blocks).
    private static func firstLine(of handle: FileHandle) async -> String? {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                var data = Data()
                while !data.contains(UInt8(ascii: "\n")) {
                    let chunk = handle.availableData
                    if chunk.isEmpty { break }
                    data.append(chunk)
                }
                continuation.resume(
                    returning: String(decoding: data, as: UTF8.self).split(separator: "\n").first.map(String.init))
            }
        }
    }
}
