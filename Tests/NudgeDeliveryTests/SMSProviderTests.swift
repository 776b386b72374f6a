import AsyncHTTPClient
import Foundation
import NudgeDelivery
import NudgeLanguage
import NudgeProviders
import NudgeStore
import Testing
import NudgeCore

/// An SMS of the outbox as the dispatcher hands it over, on its `attempt`.
private func sms(
    _ id: String, to phone: String = "+15558675310", body: String = "Hi Ana, 10% off today", attempt: Int = 1
) -> OutboundMessage {
    var record = DeliveryFixture.message(id, channel: "sms", body: body)
    record.recipient = phone
    record.attempts = attempt
    return OutboundMessage(record: record, sentAt: DeliveryFixture.start)
}

/// The error `deliver` throws, or nil (recorded as an issue) when it succeeds or throws something else.
private func deliveryError(
    _ adapter: some ChannelAdapter, _ message: OutboundMessage,
    sourceLocation: Testing.SourceLocation = #_sourceLocation
) async -> DeliveryError? {
    await #expect(throws: DeliveryError.self, sourceLocation: sourceLocation) { try await adapter.deliver(message) }
}

/// Expects the description of `error` to be one line (AWS quotes the canonical request, session token included,
/// after the first) without any of `values`: secrets and phone numbers.
private func expectSafe(
    _ error: DeliveryError, hiding values: [String?], sourceLocation: Testing.SourceLocation = #_sourceLocation
) {
    #expect(!error.description.contains("\n"), "\(error)", sourceLocation: sourceLocation)
    for case let value? in values {
        #expect(!error.description.contains(value), "\(error)", sourceLocation: sourceLocation)
    }
}

/// nudge.yaml with `serve.public_url` (when given) and `channels`.
private func config(_ channels: String, publicURL: String? = nil) throws -> ProjectConfig {
    var diagnostics = Diagnostics()
    let serve = publicURL.map { "serve: { public_url: \"\($0)\" }\n" } ?? ""
    let config = ProjectConfig.parse(
        "business: { name: Test, timezone: UTC }\n\(serve)channels:\n" + channels, file: "nudge.yaml",
        providers: Providers.catalog, diagnostics: &diagnostics)
    #expect(diagnostics.all.isEmpty, "\(diagnostics.all)")
    return config
}

/// The SMS providers' adapters (Twilio, Amazon SNS) and the AWS signing SNS needs.
@Suite("SMS providers")
struct SMSProviderTests {}

// MARK: - SigV4

extension SMSProviderTests {
    @Suite("AWS Signature Version 4 against AWS's published test suite")
    struct SigV4Tests {
        /// The credentials, instant, region and service of AWS's aws-sig-v4-test-suite
        /// (https://docs.aws.amazon.com/general/latest/gr/signature-v4-test-suite.html).
        static let suite = SigV4(
            credentials: SigV4.Credentials(
                accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
            region: "us-east-1", service: "service")
        static let timestamp = "20150830T123600Z"
        static let host = ("Host", "example.amazonaws.com")
        static let date = ("X-Amz-Date", timestamp)

        struct Vector: Sendable, CustomStringConvertible {
            var name: String
            var request: SigV4.Request
            var canonicalRequest: String
            var stringToSign: String
            var signature: String
            var signedHeaders: String

            var description: String { name }
        }

        /// Cases of the aws-sig-v4-test-suite, with its canonical requests, strings to sign and signatures (the same
        /// values are also what botocore 1.43.11's `SigV4Auth` computes for these requests).
        static let vectors = [
            Vector(
                name: "get-vanilla", request: SigV4.Request(method: "GET", headers: [host, date]),
                canonicalRequest:
                    "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
                    + "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                stringToSign: "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
                    + "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
                signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
                signedHeaders: "host;x-amz-date"),
            Vector(
                name: "post-x-www-form-urlencoded",
                request: SigV4.Request(
                    method: "POST", headers: [("Content-Type", "application/x-www-form-urlencoded"), host, date],
                    payload: Data("Param1=value1".utf8)),
                canonicalRequest:
                    "POST\n/\n\ncontent-type:application/x-www-form-urlencoded\nhost:example.amazonaws.com\n"
                    + "x-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\n"
                    + "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e",
                stringToSign: "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
                    + "42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281",
                signature: "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a",
                signedHeaders: "content-type;host;x-amz-date"),
            Vector(
                name: "get-vanilla-query-order-key-case",
                request: SigV4.Request(
                    method: "GET", query: [("Param2", "value2"), ("Param1", "value1")], headers: [host, date]),
                canonicalRequest: "GET\n/\nParam1=value1&Param2=value2\nhost:example.amazonaws.com\n"
                    + "x-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
                    + "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                stringToSign: "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
                    + "816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0",
                signature: "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
                signedHeaders: "host;x-amz-date"),
            Vector(
                name: "get-header-value-trim",
                request: SigV4.Request(
                    method: "GET", headers: [host, ("My-Header1", " value1"), ("My-Header2", " \"a   b   c\""), date]),
                canonicalRequest: "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value1\nmy-header2:\"a b c\"\n"
                    + "x-amz-date:20150830T123600Z\n\nhost;my-header1;my-header2;x-amz-date\n"
                    + "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                stringToSign: "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
                    + "a726db9b0df21c14f559d0a978e563112acb1b9e05476f0a6a1c7d68f28605c7",
                signature: "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736",
                signedHeaders: "host;my-header1;my-header2;x-amz-date"),
            Vector(
                name: "get-header-key-duplicate",
                request: SigV4.Request(
                    method: "GET",
                    headers: [host, ("My-Header1", "value2"), ("My-Header1", "value2"), ("My-Header1", "value1"), date]),
                canonicalRequest: "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value2,value2,value1\n"
                    + "x-amz-date:20150830T123600Z\n\nhost;my-header1;x-amz-date\n"
                    + "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                stringToSign: "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
                    + "dc7f04a3abfde8d472b0ab1a418b741b7c67174dad1551b4117b15527fbe966c",
                signature: "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea",
                signedHeaders: "host;my-header1;x-amz-date"),
        ]

        @Test("reproduces the canonical request, string to sign and signature of each case", arguments: vectors)
        func vector(_ vector: Vector) {
            let signer = Self.suite
            let canonical = signer.canonicalRequest(vector.request)
            #expect(canonical == vector.canonicalRequest)
            let stringToSign = signer.stringToSign(canonicalRequest: canonical, timestamp: Self.timestamp)
            #expect(stringToSign == vector.stringToSign)
            #expect(signer.signature(stringToSign: stringToSign, timestamp: Self.timestamp) == vector.signature)
            #expect(
                signer.authorization(for: vector.request, timestamp: Self.timestamp)
                    == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
                    + "SignedHeaders=\(vector.signedHeaders), Signature=\(vector.signature)")
        }

        @Test("sign(_:at:) stamps x-amz-date from the instant and signs it, as get-vanilla")
        func signAtInstant() {
            let instant = Date(timeIntervalSince1970: 1_440_938_160)  // 2015-08-30T12:36:00Z
            #expect(SigV4.timestamp(instant) == Self.timestamp)
            let added = Self.suite.sign(SigV4.Request(method: "GET", headers: [Self.host]), at: instant)
            #expect(added.map(\.name) == ["x-amz-date", "authorization"])
            #expect(added.first?.value == Self.timestamp)
            #expect(
                added.last?.value.hasSuffix(
                    "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31") == true)
        }

        @Test("temporary credentials sign x-amz-security-token, as botocore does for an SNS Publish")
        func sessionToken() {
            // Expected values computed with botocore 1.43.11 (`SigV4Auth(Credentials(AKIDEXAMPLE, <suite secret>,
            // token), "sns", "eu-west-1")`, timestamp 20150830T123600Z) for this exact request.
            let signer = SigV4(
                credentials: SigV4.Credentials(
                    accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                    sessionToken: "FQoGZXIvYXdzEXAMPLETOKEN"),
                region: "eu-west-1", service: "sns")
            let request = SigV4.Request(
                method: "POST",
                headers: [
                    ("content-type", "application/x-www-form-urlencoded; charset=utf-8"),
                    ("host", "sns.eu-west-1.amazonaws.com"),
                ],
                payload: Data("Action=Publish&Version=2010-03-31&PhoneNumber=%2B15555550100&Message=Hello%20Ana".utf8))
            let added = signer.sign(request, at: Date(timeIntervalSince1970: 1_440_938_160))
            #expect(added.map(\.name) == ["x-amz-date", "x-amz-security-token", "authorization"])
            #expect(added[1].value == "FQoGZXIvYXdzEXAMPLETOKEN")
            var signed = request
            signed.headers += added.dropLast()
            #expect(
                signer.canonicalRequest(signed)
                    == "POST\n/\n\ncontent-type:application/x-www-form-urlencoded; charset=utf-8\n"
                    + "host:sns.eu-west-1.amazonaws.com\nx-amz-date:20150830T123600Z\n"
                    + "x-amz-security-token:FQoGZXIvYXdzEXAMPLETOKEN\n\n"
                    + "content-type;host;x-amz-date;x-amz-security-token\n"
                    + "1c71fe63270e0fa3c3b26306ffe0d71f839aec4e5598e2b7305e42262a283968")
            #expect(
                added[2].value
                    == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/eu-west-1/sns/aws4_request, "
                    + "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, "
                    + "Signature=57a558d68e0d84ac0920ce13de78990e39e96737d3eb5e6c8a01614fec54d22f")
        }

        @Test("credentials never print their secret key or session token")
        func credentialsDescription() {
            let credentials = SigV4.Credentials(
                accessKeyID: "AKID", secretAccessKey: "SECRETKEY", sessionToken: "TOKEN")
            #expect("\(credentials)" == "AWS credentials AKID")
        }
    }
}

// MARK: - Twilio

extension SMSProviderTests {
    @Suite("Twilio adapter against a loopback fake of Twilio's Messages API")
    struct TwilioAdapterTests {
        static func adapter(
            _ baseURL: String, client: HTTPClient, sender: TwilioAdapter.Sender = .from("+15557122661"),
            apiKey: Bool = false, authToken: String? = nil, publicURL: String? = "https://hooks.example.com/",
            timeout: TimeInterval = 15
        ) -> TwilioAdapter {
            TwilioAdapter(
                accountSID: FakeTwilio.accountSID,
                authToken: authToken ?? (apiKey ? FakeTwilio.apiKeySecret : FakeTwilio.authToken),
                apiKeySID: apiKey ? FakeTwilio.apiKeySID : nil, sender: sender, baseURL: baseURL, publicURL: publicURL,
                client: client, timeout: timeout, clock: { DeliveryFixture.start })
        }

        @Test("a 201 is a receipt with the Message sid; the form carries To, From, Body and the status callback")
        func created() async throws {
            try await FakeTwilio.with { twilio, url, client in
                let receipt = try await Self.adapter(url, client: client).deliver(
                    sms("msg_1", body: "Hi Ana & co: 10% off €5 ☕"))
                let request = try #require(twilio.server.received.first)
                #expect(twilio.server.received.count == 1)
                #expect(request.status == 201)
                let sid = try #require(twilio.issuedSIDs.first)
                #expect(receipt == DeliveryReceipt(providerMessageID: sid))
                #expect(sid.hasPrefix("SM") && sid.count == 34 && sid.dropFirst(2).allSatisfy(\.isHexDigit))
                #expect(request.path == "/2010-04-01/Accounts/\(FakeTwilio.accountSID)/Messages.json")
                #expect(request.basicCredentials.user == FakeTwilio.accountSID)
                #expect(request.basicCredentials.password == FakeTwilio.authToken)
                #expect(request.header("content-type") == "application/x-www-form-urlencoded")
                #expect(request.form.fields.map(\.name) == ["To", "From", "Body", "StatusCallback"])
                #expect(request.form["To"] == "+15558675310")
                #expect(request.form["From"] == "+15557122661")
                #expect(request.form["Body"] == "Hi Ana & co: 10% off €5 ☕")
                #expect(
                    request.form["StatusCallback"] == "https://hooks.example.com/webhooks/twilio/status?nudge_id=msg_1")
            }
        }

        @Test("a Messaging Service sender and an API key: MessagingServiceSid instead of From, Basic auth as the key")
        func messagingServiceAndAPIKey() async throws {
            try await FakeTwilio.with { twilio, url, client in
                let adapter = Self.adapter(
                    url, client: client, sender: .messagingService("MG0123456789abcdef0123456789abcdef"), apiKey: true,
                    publicURL: nil)
                _ = try await adapter.deliver(sms("msg_2"))
                let request = try #require(twilio.server.received.first)
                #expect(request.status == 201)
                #expect(request.basicCredentials.user == FakeTwilio.apiKeySID)
                #expect(request.basicCredentials.password == FakeTwilio.apiKeySecret)
                #expect(request.path.contains(FakeTwilio.accountSID))
                #expect(request.form["MessagingServiceSid"] == "MG0123456789abcdef0123456789abcdef")
                #expect(request.form.values("From").isEmpty)
                #expect(request.form.values("StatusCallback").isEmpty, "no public URL, no status callback")
            }
        }

        @Test("without a public URL the request carries no outbox id, so a 500 or a timeout is not retried")
        func unknownOutcomeWithoutCallback() async throws {
            try await FakeTwilio.with { twilio, url, client in
                twilio.server.enqueue(.serverError)
                let failed = try #require(await deliveryError(Self.adapter(url, client: client, publicURL: nil), sms("msg_u")))
                guard case .permanent(let text) = failed else {
                    Issue.record("expected a permanent failure, got \(failed)")
                    return
                }
                #expect(text.contains("not retried"))
                twilio.server.enqueue(.hang)
                let hurried = Self.adapter(url, client: client, publicURL: nil, timeout: 0.3)
                let hung = try #require(await deliveryError(hurried, sms("msg_h")))
                guard case .permanent = hung else {
                    Issue.record("expected a permanent failure, got \(hung)")
                    return
                }
                twilio.server.enqueue(.serverError)
                let retried = try #require(await deliveryError(Self.adapter(url, client: client), sms("msg_v", attempt: 1)))
                guard case .transient = retried else {
                    Issue.record("with the outbox id in the callback a 500 is retried, got \(retried)")
                    return
                }
            }
        }

        @Test("every attempt of a message carries its outbox id in the StatusCallback URL")
        func statusCallbackOnEveryAttempt() async throws {
            try await FakeTwilio.with { twilio, url, client in
                let adapter = Self.adapter(url, client: client)
                twilio.server.enqueue(.serverError)
                _ = await deliveryError(adapter, sms("msg_r", attempt: 1))
                _ = try await adapter.deliver(sms("msg_r", attempt: 2))
                #expect(twilio.server.received.map(\.status) == [500, 201])
                #expect(
                    twilio.server.received.map { $0.form["StatusCallback"] }
                        == Array(repeating: "https://hooks.example.com/webhooks/twilio/status?nudge_id=msg_r", count: 2)
                )
            }
        }

        @Test("the status callback URL escapes the outbox id and drops a trailing slash")
        func statusCallbackURL() {
            #expect(
                TwilioAdapter.statusCallbackURL(publicURL: "https://hooks.example.com//", outboxID: "01J/x y&z=1")
                    == "https://hooks.example.com/webhooks/twilio/status?nudge_id=01J%2Fx%20y%26z%3D1")
            #expect(TwilioAdapter.statusCallbackPath == "/webhooks/twilio/status")
            #expect(TwilioAdapter.outboxIDParameter == "nudge_id")
        }

        struct ErrorCase: Sendable, CustomStringConvertible {
            var name: String
            var reply: FakeTwilio.Reply?
            var message: OutboundMessage = sms("msg_e")
            var authToken: String? = nil
            var expected: Expected

            var description: String { name }
        }

        static let errorCases: [ErrorCase] = [
            ErrorCase(
                name: "400 21211 invalid To (checked by the fake)", message: sms("msg_e", to: "+0123456789012"),
                expected: .permanent(containing: "Twilio error 21211: The 'To' number is not a valid phone number.")),
            ErrorCase(
                name: "400 21610 unsubscribed", reply: .unsubscribed,
                expected: .permanent(containing: "Twilio error 21610: Attempt to send to unsubscribed recipient")),
            ErrorCase(
                name: "400 21614 not a mobile number", reply: .notMobile,
                expected: .permanent(containing: "Twilio error 21614: 'To' number is not a valid mobile number")),
            ErrorCase(
                name: "400 21617 body over 1600 characters (checked by the fake)",
                message: sms("msg_e", body: String(repeating: "a", count: 1601)),
                expected: .permanent(containing: "Twilio error 21617")),
            ErrorCase(
                name: "401 20003 wrong auth token (checked by the fake)", authToken: "wrong-token",
                expected: .permanent(containing: "Twilio error 20003: Authenticate (Twilio refused the credentials")),
            ErrorCase(
                name: "403 20003 forbidden", reply: .forbidden,
                expected: .permanent(containing: "Twilio error 20003: Forbidden (Twilio refused the credentials")),
            ErrorCase(
                name: "429 20429 with Retry-After", reply: .tooManyRequests(retryAfter: "7"),
                expected: .transient(containing: "Twilio error 20429: Too Many Requests", retryAfter: 7)),
            ErrorCase(
                name: "429 20429 without Retry-After", reply: .tooManyRequests(retryAfter: nil),
                expected: .transient(containing: "Twilio error 20429", retryAfter: nil)),
            ErrorCase(
                name: "500 HTML page", reply: .serverError,
                expected: .transient(containing: "Twilio answered 500: <html>", retryAfter: nil)),
            ErrorCase(
                name: "503 JSON error", reply: .error(status: 503, code: 20500, message: "Service Unavailable"),
                expected: .transient(containing: "Twilio error 20500: Service Unavailable", retryAfter: nil)),
            ErrorCase(
                name: "hang past the timeout", reply: .hang,
                expected: .transient(containing: "Twilio timed out after 300 ms", retryAfter: nil)),
        ]

        @Test(
            "each Twilio answer maps to a transient or permanent error without secrets or phone numbers",
            arguments: errorCases)
        func errors(_ errorCase: ErrorCase) async throws {
            try await FakeTwilio.with { twilio, url, client in
                if let reply = errorCase.reply { twilio.server.enqueue(reply) }
                // A short timeout only where the fake hangs: under load a real answer can take longer than 0.3 s.
                let timeout = errorCase.name.hasPrefix("hang") ? 0.3 : 10
                let adapter = Self.adapter(url, client: client, authToken: errorCase.authToken, timeout: timeout)
                let error = try #require(await deliveryError(adapter, errorCase.message))
                errorCase.expected.check(error)
                expectSafe(error, hiding: [FakeTwilio.authToken, errorCase.authToken, "+", "5558675310"])
            }
        }

        @Test("an unreachable Twilio is transient")
        func unreachable() async throws {
            try await withHTTPClient { client in
                // The client retries a refused connection until the deadline: either way the failure is transient.
                let adapter = Self.adapter("http://127.0.0.1:1", client: client, timeout: 0.3)
                let error = try #require(await deliveryError(adapter, sms("msg_u")))
                Expected.transient(containing: "Twilio ", retryAfter: nil).check(error)
                #expect(
                    error.description.contains("unreachable") || error.description.contains("timed out"), "\(error)")
            }
        }

        @Test("an answer quoting the auth token, or phone numbers, is redacted")
        func redactsEchoes() async throws {
            try await FakeTwilio.with { twilio, url, client in
                twilio.server.enqueue(
                    .error(
                        status: 400, code: 21606,
                        message: "Token \(FakeTwilio.authToken) may not send from +1 (555) 712-2661 to 15558675310."))
                let error = try #require(await deliveryError(Self.adapter(url, client: client), sms("msg_x")))
                #expect(error.description == "Twilio error 21606: Token [secret] may not send from to.")
            }
        }

        @Test("a message without a phone number is refused before any request")
        func noPhoneNumber() async throws {
            try await FakeTwilio.with { twilio, url, client in
                var message = sms("msg_n")
                message.record.recipient = nil
                let error = try #require(await deliveryError(Self.adapter(url, client: client), message))
                Expected.permanent(containing: "no phone number").check(error)
                #expect(twilio.server.received.isEmpty)
            }
        }

        @Test("Adapters.make builds a twilio channel from nudge.yaml, with serve.public_url for status callbacks")
        func fromConfiguration() async throws {
            try await FakeTwilio.with { twilio, url, client in
                let config = try config(
                    """
                      sms: { provider: twilio, account_sid: \(FakeTwilio.accountSID), auth_token_env: TWILIO_TOKEN, from: "+15557122661", base_url: "\(url)/", timeout: 15s }
                    """, publicURL: "https://hooks.example.com")
                let adapters = try Providers.makeAdapters(
                    config, environment: ["TWILIO_TOKEN": FakeTwilio.authToken], httpClient: { client }, resolve: { $0 })
                let adapter = try #require(adapters[.sms] as? TwilioAdapter)
                #expect(adapter.endpoint == "\(url)/2010-04-01/Accounts/\(FakeTwilio.accountSID)/Messages.json")
                let receipt = try await adapter.deliver(sms("msg_c"))
                #expect(receipt.providerMessageID == twilio.issuedSIDs.first)
                #expect(
                    twilio.server.received.first?.form["StatusCallback"]
                        == "https://hooks.example.com/webhooks/twilio/status?nudge_id=msg_c")
            }
        }

        @Test("Adapters.make with an API key and a Messaging Service authenticates as the key")
        func apiKeyFromConfiguration() async throws {
            try await FakeTwilio.with { twilio, url, client in
                let config = try config(
                    """
                      sms: { provider: twilio, account_sid: \(FakeTwilio.accountSID), api_key_sid: \(FakeTwilio.apiKeySID), auth_token_env: TWILIO_KEY_SECRET, messaging_service_sid: MG0123456789abcdef0123456789abcdef, base_url: "\(url)" }
                    """)
                let adapters = try Providers.makeAdapters(
                    config, environment: ["TWILIO_KEY_SECRET": FakeTwilio.apiKeySecret], httpClient: { client },
                    resolve: { $0 })
                _ = try await #require(adapters[.sms]).deliver(sms("msg_k"))
                #expect(twilio.server.received.first?.basicCredentials.user == FakeTwilio.apiKeySID)
                #expect(twilio.server.received.first?.status == 201)
            }
        }

        @Test("a missing auth token variable is a configuration error naming the variable")
        func missingToken() async throws {
            let config = try config(
                "  sms: { provider: twilio, account_sid: \(FakeTwilio.accountSID), auth_token_env: NOT_SET, from: \"+15557122661\" }\n"
            )
            try await withHTTPClient { client in
                let error = #expect(throws: Adapters.ConfigurationError.self) {
                    try Providers.makeAdapters(config, environment: [:], httpClient: { client }, resolve: { $0 })
                }
                #expect(
                    error?.description == "channel 'sms': the environment variable NOT_SET (auth_token_env) is not set")
            }
        }
    }
}

// MARK: - SNS

extension SMSProviderTests {
    @Suite("SNS adapter against a SigV4-verifying fake and against moto")
    struct SNSAdapterTests {
        static func adapter(
            _ baseURL: String, client: HTTPClient, credentials: SigV4.Credentials = FakeSNS.credentials,
            smsType: String? = "Transactional", senderID: String? = "Nudge", timeout: TimeInterval = 15
        ) throws -> SNSAdapter {
            try SNSAdapter(
                region: FakeSNS.region, credentials: credentials, smsType: smsType, senderID: senderID,
                baseURL: baseURL,
                client: client, timeout: timeout)
        }

        static var withToken: SigV4.Credentials {
            var credentials = FakeSNS.credentials
            credentials.sessionToken = FakeSNS.sessionToken
            return credentials
        }

        @Test("a signed Publish with the SMS attributes; the MessageId is the receipt")
        func published() async throws {
            try await FakeSNS.with { sns, url, client in
                let receipt = try await Self.adapter(url, client: client).deliver(
                    sms("msg_1", body: "Olá Ana & co: 10% ☕"))
                let request = try #require(sns.server.received.first)
                #expect(sns.server.received.count == 1)
                #expect(request.status == 200, "\(request.body)")
                let messageID = try #require(sns.issuedMessageIDs.first)
                #expect(receipt == DeliveryReceipt(providerMessageID: messageID))
                #expect(
                    request.form.fields.map(\.name) == [
                        "Action", "Version", "PhoneNumber", "Message",
                        "MessageAttributes.entry.1.Name", "MessageAttributes.entry.1.Value.DataType",
                        "MessageAttributes.entry.1.Value.StringValue",
                        "MessageAttributes.entry.2.Name", "MessageAttributes.entry.2.Value.DataType",
                        "MessageAttributes.entry.2.Value.StringValue",
                    ])
                #expect(request.form["Action"] == "Publish" && request.form["Version"] == "2010-03-31")
                #expect(request.form["PhoneNumber"] == "+15558675310")
                #expect(request.form["Message"] == "Olá Ana & co: 10% ☕")
                #expect(
                    request.form.smsAttributes == [
                        "AWS.SNS.SMS.SMSType": "Transactional", "AWS.SNS.SMS.SenderID": "Nudge",
                    ])
                #expect(request.signedHeaders == ["content-type", "host", "x-amz-date"])
                #expect(request.header("content-type") == "application/x-www-form-urlencoded; charset=utf-8")
                #expect(request.header("authorization")?.hasPrefix("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/") == true)
                #expect(request.header("authorization")?.contains("/eu-west-1/sns/aws4_request, ") == true)
                #expect(request.header("x-amz-security-token") == nil)
            }
        }

        @Test("without sms_type and sender_id no message attributes are sent")
        func noAttributes() async throws {
            try await FakeSNS.with { sns, url, client in
                _ = try await Self.adapter(url, client: client, smsType: nil, senderID: nil).deliver(sms("msg_2"))
                #expect(sns.server.received.first?.status == 200)
                #expect(
                    sns.server.received.first?.form.fields.map(\.name) == [
                        "Action", "Version", "PhoneNumber", "Message",
                    ])
            }
        }

        @Test("temporary credentials send and sign x-amz-security-token")
        func sessionToken() async throws {
            try await FakeSNS.with(credentials: Self.withToken) { sns, url, client in
                _ = try await Self.adapter(url, client: client, credentials: Self.withToken).deliver(sms("msg_3"))
                let request = try #require(sns.server.received.first)
                #expect(request.status == 200, "\(request.body)")
                #expect(request.signedHeaders == ["content-type", "host", "x-amz-date", "x-amz-security-token"])
                #expect(request.header("x-amz-security-token") == FakeSNS.sessionToken)
            }
        }

        struct ErrorCase: Sendable, CustomStringConvertible {
            var name: String
            var reply: FakeSNS.Reply?
            var message: OutboundMessage = sms("msg_e")
            var credentials: SigV4.Credentials = SNSAdapterTests.withToken
            var expected: Expected

            var description: String { name }
        }

        static let errorCases: [ErrorCase] = {
            var wrongSecret = withToken
            wrongSecret.secretAccessKey = "not-the-secret-key/K7MDENG"
            var wrongKey = withToken
            wrongKey.accessKeyID = "AKIDUNKNOWN"
            return [
                ErrorCase(
                    name: "403 SignatureDoesNotMatch: a wrong secret key (the fake recomputes the signature)",
                    credentials: wrongSecret,
                    expected: .permanent(
                        containing:
                            "SNS error SignatureDoesNotMatch: The request signature we calculated does not match")),
                ErrorCase(
                    name: "403 InvalidClientTokenId: an unknown access key", credentials: wrongKey,
                    expected: .permanent(containing: "SNS error InvalidClientTokenId: The security token included")),
                ErrorCase(
                    name: "403 AuthorizationError", reply: .authorizationError,
                    expected: .permanent(containing: "SNS error AuthorizationError: User: arn:aws:iam::")),
                ErrorCase(
                    name: "400 InvalidParameter: a number not in E.164 (checked by the fake)",
                    message: sms("msg_e", to: "+0155512345"),
                    expected: .permanent(
                        containing: "SNS error InvalidParameter: Invalid parameter: PhoneNumber Reason: is not valid")),
                ErrorCase(
                    name: "400 Throttling", reply: .throttling,
                    expected: .transient(containing: "SNS error Throttling: Rate exceeded", retryAfter: nil)),
                ErrorCase(
                    name: "429 Throttling with Retry-After", reply: .tooManyRequests(retryAfter: "3"),
                    expected: .transient(containing: "SNS error Throttling", retryAfter: 3)),
                // SNS cannot carry the outbox id: an answer lost after sending is not retried.
                ErrorCase(
                    name: "500 InternalError", reply: .serverError,
                    expected: .permanent(containing: "SNS error InternalError")),
                ErrorCase(
                    name: "hang past the timeout", reply: .hang,
                    expected: .permanent(containing: "SNS timed out after 300 ms")),
            ]
        }()

        @Test(
            "each SNS answer maps to a transient or permanent error without secrets or phone numbers",
            arguments: errorCases)
        func errors(_ errorCase: ErrorCase) async throws {
            try await FakeSNS.with(credentials: Self.withToken) { sns, url, client in
                if let reply = errorCase.reply { sns.server.enqueue(reply) }
                let timeout = errorCase.name.hasPrefix("hang") ? 0.3 : 10
                let adapter = try Self.adapter(url, client: client, credentials: errorCase.credentials, timeout: timeout)
                let error = try #require(await deliveryError(adapter, errorCase.message))
                errorCase.expected.check(error)
                let credentials = errorCase.credentials
                expectSafe(
                    error,
                    hiding: [credentials.secretAccessKey, credentials.sessionToken, "+0155512345", "5558675310"])
            }
        }

        @Test("moto accepts the Publish and records the SMS; an invalid number is InvalidParameter")
        func moto() async throws {
            try await withHTTPClient { client in
                try await MotoServer.with(client: client) { moto in
                    let adapter = try Self.adapter(moto.baseURL, client: client, credentials: Self.withToken)
                    let receipt = try await adapter.deliver(sms("msg_m", body: "Hi Ana, 10% off ☕"))
                    let published = try await moto.publishedSMS(client: client)
                    #expect(published.count == 1)
                    #expect(published.first?.phoneNumber == "+15558675310")
                    #expect(published.first?.message == "Hi Ana, 10% off ☕")
                    #expect(receipt.providerMessageID != nil && receipt.providerMessageID == published.first?.messageID)

                    let error = try #require(await deliveryError(adapter, sms("msg_bad", to: "+1555abc")))
                    Expected.permanent(containing: "SNS error InvalidParameter").check(error)
                    #expect(!error.description.contains("+1555abc"))
                }
            }
        }

        @Test("Adapters.make builds an sns channel from nudge.yaml whose requests verify")
        func fromConfiguration() async throws {
            try await FakeSNS.with(credentials: Self.withToken) { sns, url, client in
                let config = try config(
                    """
                      sms: { provider: sns, region: eu-west-1, access_key_id_env: AWS_KEY, secret_access_key_env: AWS_SECRET, session_token_env: AWS_TOKEN, sms_type: Promotional, sender_id: Cafe, base_url: "\(url)/", timeout: 15s }
                    """)
                let environment = [
                    "AWS_KEY": FakeSNS.credentials.accessKeyID, "AWS_SECRET": FakeSNS.credentials.secretAccessKey,
                    "AWS_TOKEN": FakeSNS.sessionToken,
                ]
                let adapters = try Providers.makeAdapters(config, environment: environment, httpClient: { client }, resolve: { $0 })
                let adapter = try #require(adapters[.sms] as? SNSAdapter)
                #expect(adapter.endpoint == url + "/")
                _ = try await adapter.deliver(sms("msg_c"))
                let request = try #require(sns.server.received.first)
                #expect(request.status == 200, "\(request.body)")
                #expect(
                    request.form.smsAttributes == [
                        "AWS.SNS.SMS.SMSType": "Promotional", "AWS.SNS.SMS.SenderID": "Cafe",
                    ])
            }
        }

        @Test("without base_url the endpoint is the region's")
        func defaultEndpoint() async throws {
            try await withHTTPClient { client in
                let config = try config(
                    "  sms: { provider: sns, region: ap-southeast-2, access_key_id_env: AWS_KEY, secret_access_key_env: AWS_SECRET }\n"
                )
                let adapters = try Providers.makeAdapters(
                    config, environment: ["AWS_KEY": "AKID", "AWS_SECRET": "secret"], httpClient: { client },
                    resolve: { $0 })
                #expect((adapters[.sms] as? SNSAdapter)?.endpoint == "https://sns.ap-southeast-2.amazonaws.com/")
            }
        }

        @Test(
            "missing variables and bad settings are configuration errors naming the variable or setting",
            arguments: [
                (
                    "access_key_id_env: AWS_KEY, secret_access_key_env: NOT_SET",
                    "channel 'sms': the environment variable NOT_SET (secret_access_key_env) is not set"
                ),
                (
                    "access_key_id_env: AWS_KEY, secret_access_key_env: AWS_SECRET, session_token_env: NO_TOKEN",
                    "channel 'sms': the environment variable NO_TOKEN (session_token_env) is not set"
                ),
                (
                    "access_key_id_env: AWS_KEY, secret_access_key_env: AWS_SECRET, sender_id: Too-Long-Sender",
                    "channel 'sms': 'sender_id' must be 1 to 11 letters and digits with at least one letter, not 'Too-Long-Sender'"
                ),
            ])
        func configurationErrors(settings: String, message: String) async throws {
            let config = try config("  sms: { provider: sns, region: eu-west-1, \(settings) }\n")
            try await withHTTPClient { client in
                let error = #expect(throws: Adapters.ConfigurationError.self) {
                    try Providers.makeAdapters(
                        config, environment: ["AWS_KEY": "AKID", "AWS_SECRET": "secret"], httpClient: { client },
                        resolve: { $0 })
                }
                #expect(error?.description == message)
            }
        }

        @Test("a region that is not a region's name is refused")
        func badRegion() async throws {
            try await withHTTPClient { client in
                let error = #expect(throws: Adapters.ConfigurationError.self) {
                    try SNSAdapter(region: "eu-west-1.evil.example/", credentials: FakeSNS.credentials, client: client)
                }
                #expect(error?.description.contains("'region' must be an AWS region") == true)
            }
        }
    }
}
