import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NudgeDelivery
import NudgeEngine
import NudgeLanguage
import NudgeProviders
import Testing
import NudgeCore

/// The email every test sends: a rendered HTML body with a link and an entity, attempted at a fixed instant.
private let html =
    #"<p>Hello Ana,</p><p>Your <b>bonus stamp</b> is waiting &amp; so is <a href="https://cafe.example.com/menu">our new menu</a>.</p>"#
private let text = "Hello Ana,\n\nYour bonus stamp is waiting & so is our new menu (https://cafe.example.com/menu)."
private let now = DeliveryFixture.start
private let links = UnsubscribeLinks(baseURL: "https://nudge.example.com", secret: "unsubscribe-secret")

private func message(_ id: String, attempt: Int = 1) -> OutboundMessage {
    outbound(id, attempt: attempt, body: html, sentAt: now)
}

/// `json` as text with sorted keys, to compare JSON values.
private func canonical(_ json: Any) throws -> String {
    String(decoding: try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys]), as: UTF8.self)
}

/// The JSON object of a request or an answer body.
private func object(_ body: String) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
}

/// POSTs `body` to a fake as a client other than the adapters would, to see what the fake refuses.
private func post(
    _ url: String, _ body: String, headers: [String: String], client: HTTPClient
) async throws -> ProviderHTTP.Answer {
    var request = HTTPClientRequest(url: url)
    request.method = .POST
    for (name, value) in headers { request.headers.add(name: name, value: value) }
    request.body = .bytes(ByteBuffer(string: body))
    return try await ProviderHTTP(name: "test", client: client, timeout: 15).send(request)
}

/// How a test wants its adapter.
struct EmailAdapterOptions {
    var apiKey: String?
    var domain = FakeMailgun.domain
    var fromName: String? = "Test Café"
    var unsubscribe: UnsubscribeLinks?
    // Long enough for a loaded machine: these tests expect an answer (the timeout test sets its own).
    var timeout: TimeInterval = 15
    var concurrency = 8
}

private func makeSendGrid(_ url: String, _ client: HTTPClient, _ options: EmailAdapterOptions = EmailAdapterOptions())
    -> SendGridAdapter
{
    SendGridAdapter(
        apiKey: options.apiKey ?? FakeSendGrid.apiKey, from: "offers@example.com", fromName: options.fromName,
        replyTo: "hello@example.com", baseURL: url, unsubscribe: options.unsubscribe, client: client,
        timeout: options.timeout, concurrency: options.concurrency)
}

private func makeMailgun(_ url: String, _ client: HTTPClient, _ options: EmailAdapterOptions = EmailAdapterOptions())
    -> MailgunAdapter
{
    MailgunAdapter(
        apiKey: options.apiKey ?? FakeMailgun.apiKey, domain: options.domain, from: "offers@example.com",
        fromName: options.fromName, replyTo: "hello@example.com", baseURL: url, unsubscribe: options.unsubscribe,
        client: client, timeout: options.timeout, concurrency: options.concurrency)
}

/// A provider answer and what the attempt should come to, for tables of provider answers.
struct EmailAnswerCase<Reply: Sendable>: Sendable, CustomTestStringConvertible {
    var reply: Reply
    var expected: Expected
    var testDescription: String { "\(reply) → \(expected)" }

    /// Delivers a message through `adapter`, which the fake answers with `reply`, and checks the failure and that
    /// `secret` does not show in it.
    func check(_ adapter: some ChannelAdapter, hiding secret: String) async {
        let error = await #expect(throws: DeliveryError.self) { try await adapter.deliver(message("msg_f")) }
        if let error {
            expected.check(error)
            #expect(!error.description.contains(secret))
        }
    }
}

/// An email provider under test, for what every provider must do alike.
enum EmailProvider: String, Sendable, CaseIterable, CustomTestStringConvertible {
    case sendGrid = "SendGrid"
    case mailgun = "Mailgun"

    var testDescription: String { rawValue }

    /// An answer both fakes can give.
    enum Reply {
        case hang, serverError
        case invalid(String)
    }

    /// One request as the fake received it.
    struct Sent: Equatable {
        var status: Int
        /// `custom_args.nudge_id` or `v:nudge_id`.
        var nudgeID: String?
        /// The email's extra headers (`headers` or the `h:` fields).
        var headers: [String: String]
    }

    /// The fake running, an HTTP client, and what a test does with them.
    struct Harness {
        var adapter: (EmailAdapterOptions) -> any ChannelAdapter
        var enqueue: (Reply) -> Void
        var sent: () throws -> [Sent]
    }

    /// Runs `body` with this provider's fake.
    func run(_ body: (Harness) async throws -> Void) async throws {
        switch self {
        case .sendGrid:
            try await FakeSendGrid.with { fake, url, client in
                try await body(
                    Harness(
                        adapter: { makeSendGrid(url, client, $0) },
                        enqueue: { reply in
                            switch reply {
                            case .hang: fake.server.enqueue(.hang)
                            case .serverError: fake.server.enqueue(.serverError)
                            case .invalid(let text): fake.server.enqueue(.invalid(field: nil, message: text))
                            }
                        },
                        sent: {
                            try fake.server.received.map { request in
                                let mail = try object(request.body)
                                return Sent(
                                    status: request.status,
                                    nudgeID: (mail["custom_args"] as? [String: String])?["nudge_id"],
                                    headers: mail["headers"] as? [String: String] ?? [:])
                            }
                        }))
            }
        case .mailgun:
            try await FakeMailgun.with { fake, url, client in
                try await body(
                    Harness(
                        adapter: { makeMailgun(url, client, $0) },
                        enqueue: { reply in
                            switch reply {
                            case .hang: fake.server.enqueue(.hang)
                            case .serverError: fake.server.enqueue(.serverError)
                            case .invalid(let text): fake.server.enqueue(.invalid(text))
                            }
                        },
                        sent: {
                            fake.server.received.map { request in
                                Sent(
                                    status: request.status, nudgeID: request.form["v:nudge_id"],
                                    headers: request.form.prefixed("h:"))
                            }
                        }))
            }
        }
    }
}

@Suite("Email providers against loopback fakes of their APIs")
struct EmailProviderTests {
    @Test(
        "the outbox id travels as X-Nudge-Id and as the provider's variable, the same on a retry",
        arguments: EmailProvider.allCases)
    func outboxID(provider: EmailProvider) async throws {
        try await provider.run { fake in
            fake.enqueue(.serverError)
            let adapter = fake.adapter(EmailAdapterOptions())
            await #expect(throws: DeliveryError.self) { try await adapter.deliver(message("msg_r", attempt: 1)) }
            _ = try await adapter.deliver(message("msg_r", attempt: 2))
            let sent = try fake.sent()
            #expect(sent.map(\.status) == [500, (provider == .sendGrid ? 202 : 200)])
            #expect(sent.map(\.nudgeID) == ["msg_r", "msg_r"])
            #expect(sent.map { $0.headers["X-Nudge-Id"] } == ["msg_r", "msg_r"])
        }
    }

    @Test(
        "List-Unsubscribe headers are sent when unsubscribe links are configured, and only then",
        arguments: EmailProvider.allCases)
    func unsubscribeHeaders(provider: EmailProvider) async throws {
        try await provider.run { fake in
            _ = try await fake.adapter(EmailAdapterOptions(unsubscribe: links)).deliver(message("msg_u1"))
            _ = try await fake.adapter(EmailAdapterOptions()).deliver(message("msg_u2"))
            let headers = try fake.sent().map(\.headers)
            #expect(headers.map { $0["List-Unsubscribe"] } == ["<\(links.url(customerID: "c1"))>", nil])
            #expect(headers.map { $0["List-Unsubscribe-Post"] } == ["List-Unsubscribe=One-Click", nil])
        }
    }

    @Test(
        "a provider that does not answer is a transient timeout within the configured timeout",
        arguments: EmailProvider.allCases)
    func hang(provider: EmailProvider) async throws {
        try await provider.run { fake in
            fake.enqueue(.hang)
            let adapter = fake.adapter(EmailAdapterOptions(timeout: 0.3))
            // The error names the timeout that ran out: the configured one, not the default 15 s.
            let error = await #expect(throws: DeliveryError.self) { try await adapter.deliver(message("msg_h")) }
            if let error {
                Expected.transient(containing: "\(provider.rawValue) timed out after 300 ms", retryAfter: nil).check(
                    error)
            }
        }
    }

    @Test("a batch is sent concurrently, each mail once, results in input order", arguments: EmailProvider.allCases)
    func batch(provider: EmailProvider) async throws {
        try await provider.run { fake in
            let ids = (1...12).map { String(format: "msg_b%02d", $0) }
            let results = await fake.adapter(EmailAdapterOptions(concurrency: 4)).deliver(
                batch: ids.map { message($0) })
            // Each fake's message id names the outbox id, so the receipts show the order.
            let receipts = results.map { try? $0.get().providerMessageID }
            #expect(zip(ids, receipts).allSatisfy { id, receipt in receipt?.contains(id) == true }, "\(receipts)")
            let sent = try fake.sent()
            #expect(sent.compactMap(\.nudgeID).sorted() == ids)
        }
    }

    @Test(
        "a wrong key is refused like the provider refuses it, and the error does not show it",
        arguments: EmailProvider.allCases)
    func wrongKey(provider: EmailProvider) async throws {
        try await provider.run { fake in
            let wrong = "wrong-key-9876543210-zyxwvutsrqponmlkjihgfedcba"
            let adapter = fake.adapter(EmailAdapterOptions(apiKey: wrong))
            let error = await #expect(throws: DeliveryError.self) { try await adapter.deliver(message("msg_k")) }
            if let error {
                Expected.permanent(containing: "\(provider.rawValue) refused the API key (401): ").check(error)
                #expect(!error.description.contains(wrong))
            }
            let sent = try fake.sent()
            #expect(sent.map(\.status) == [401])
        }
    }

    @Test(
        "an answer that quotes the API key or the recipient's address is masked in the error",
        arguments: EmailProvider.allCases)
    func masking(provider: EmailProvider) async throws {
        try await provider.run { fake in
            let key = provider == .sendGrid ? FakeSendGrid.apiKey : FakeMailgun.apiKey
            fake.enqueue(.invalid("key \(key) may not mail c1@example.com"))
            let error = await #expect(throws: DeliveryError.self) {
                try await fake.adapter(EmailAdapterOptions()).deliver(message("msg_m"))
            }
            #expect(error?.description == "\(provider.rawValue) answered 400: key *** may not mail ***")
        }
    }
}

extension EmailProviderTests {
    @Suite("SendGrid adapter against a loopback Mail Send API")
    struct SendGrid {
        @Test("a mail is one JSON request with a Bearer key, text before HTML, the outbox id as header and custom arg")
        func request() async throws {
            try await FakeSendGrid.with { fake, url, client in
                let receipt = try await makeSendGrid(url, client).deliver(message("msg_sg"))
                #expect(receipt == DeliveryReceipt(providerMessageID: "sg-msg_sg"))

                let request = try #require(fake.server.received.first)
                #expect(fake.server.received.map(\.status) == [202])
                #expect(request.path == "/v3/mail/send")
                #expect(request.header("authorization") == "Bearer \(FakeSendGrid.apiKey)")
                #expect(request.header("content-type") == "application/json")
                let expected: [String: Any] = [
                    "personalizations": [["to": [["email": "c1@example.com"]]]],
                    "from": ["email": "offers@example.com", "name": "Test Café"],
                    "reply_to": ["email": "hello@example.com"],
                    "subject": "Hi Ana",
                    "content": [["type": "text/plain", "value": text], ["type": "text/html", "value": html]],
                    "headers": ["X-Nudge-Id": "msg_sg"],
                    "custom_args": ["nudge_id": "msg_sg"],
                ]
                #expect(try canonical(object(request.body)) == canonical(expected))
            }
        }

        @Test(
            "SendGrid's answers map to transient or permanent failures, with the wait its headers ask for",
            arguments: [
                EmailAnswerCase(
                    reply: FakeSendGrid.Reply.invalid(
                        field: "personalizations.0.to.0.email", message: "Does not contain a valid address."),
                    expected: .permanent(
                        containing:
                            "SendGrid answered 400: Does not contain a valid address. (personalizations.0.to.0.email)")),
                EmailAnswerCase(
                    reply: .unauthorized,
                    expected: .permanent(
                        containing: "SendGrid refused the API key (401): \(FakeSendGrid.revokedKeyMessage)")),
                EmailAnswerCase(
                    reply: .forbidden,
                    expected: .permanent(
                        containing:
                            "SendGrid refused the request (403): The from address does not match a verified Sender Identity. (from)"
                    )),
                EmailAnswerCase(
                    reply: .tooLarge, expected: .permanent(containing: "SendGrid answered 413: The JSON payload")),
                EmailAnswerCase(
                    reply: .tooManyRequests(reset: Int(now.timeIntervalSince1970) + 42),
                    expected: .transient(
                        containing: "SendGrid answered 429 (rate limited): too many requests", retryAfter: 42)),
                EmailAnswerCase(
                    reply: .tooManyRequests(reset: Int(now.timeIntervalSince1970) - 5),
                    expected: .transient(containing: "SendGrid answered 429", retryAfter: 0)),
                EmailAnswerCase(
                    reply: .serverError,
                    expected: .transient(containing: "SendGrid answered 500: Internal server error", retryAfter: nil)),
                EmailAnswerCase(
                    reply: .unavailable(retryAfter: "30"),
                    expected: .transient(containing: "SendGrid answered 503", retryAfter: 30)),
            ] as [EmailAnswerCase<FakeSendGrid.Reply>])
        func answers(_ c: EmailAnswerCase<FakeSendGrid.Reply>) async throws {
            try await FakeSendGrid.with { fake, url, client in
                fake.server.enqueue(c.reply)
                await c.check(makeSendGrid(url, client), hiding: FakeSendGrid.apiKey)
            }
        }

        @Test("a sandbox-mode 200 is a receipt too")
        func sandbox() async throws {
            try await FakeSendGrid.with { fake, url, client in
                fake.server.enqueue(.sandbox)
                let receipt = try await makeSendGrid(url, client).deliver(message("msg_s"))
                #expect(receipt == DeliveryReceipt(providerMessageID: nil))
            }
        }

        @Test(
            "the fake refuses what SendGrid refuses, with SendGrid's status and error field",
            arguments: [
                ("", validMail, 401, nil),
                ("Bearer \(FakeSendGrid.apiKey)", validMail, 202, nil),
                ("Bearer \(FakeSendGrid.apiKey)", "not json", 400, nil),
                (
                    "Bearer \(FakeSendGrid.apiKey)",
                    validMail.replacingOccurrences(of: #"{"to":[{"email":"c1@example.com"}]}"#, with: ""), 400,
                    "personalizations"
                ),
                (
                    "Bearer \(FakeSendGrid.apiKey)", validMail.replacingOccurrences(of: #""to""#, with: #""cc""#), 400,
                    "personalizations.0.to"
                ),
                (
                    "Bearer \(FakeSendGrid.apiKey)", validMail.replacingOccurrences(of: "c1@example.com", with: "c1"),
                    400, "personalizations.0.to.0.email"
                ),
                (
                    "Bearer \(FakeSendGrid.apiKey)",
                    validMail.replacingOccurrences(of: #""from":{"email""#, with: #""from":{"name""#), 400, "from.email"
                ),
                (
                    "Bearer \(FakeSendGrid.apiKey)", validMail.replacingOccurrences(of: #""subject":"Hi","#, with: ""),
                    400, "subject"
                ),
                (
                    "Bearer \(FakeSendGrid.apiKey)",
                    validMail.replacingOccurrences(of: "text/plain", with: "text/x").replacingOccurrences(
                        of: "text/html", with: "text/plain"), 400, "content"
                ),
            ] as [(String, String, Int, String?)])
        func fakeChecks(authorization: String, body: String, status: Int, field: String?) async throws {
            try await FakeSendGrid.with { _, url, client in
                let answer = try await post(
                    url + "/v3/mail/send", body,
                    headers: ["authorization": authorization, "content-type": "application/json"],
                    client: client)
                #expect(answer.status == status, "\(answer.body)")
                if let field {
                    let errors = try #require(try object(answer.body)["errors"] as? [[String: Any]])
                    #expect(errors.first?["field"] as? String == field)
                }
            }
        }
    }
}

/// A Mail Send body that SendGrid accepts, for the fake's own checks.
private let validMail = #"""
    {"personalizations":[{"to":[{"email":"c1@example.com"}]}],"from":{"email":"offers@example.com"},
     "subject":"Hi","content":[{"type":"text/plain","value":"Hi"},{"type":"text/html","value":"<p>Hi</p>"}]}
    """#

/// A Messages form that Mailgun accepts, for the fake's own checks.
private let validForm = "from=offers%40example.com&to=c1%40example.com&subject=Hi&text=Hi"

extension EmailProviderTests {
    @Suite("Mailgun adapter against a loopback Messages API")
    struct Mailgun {
        @Test("a mail is one form to the domain's messages with Basic api:key, h: headers and the v:nudge_id variable")
        func request() async throws {
            try await FakeMailgun.with { fake, url, client in
                let receipt = try await makeMailgun(url, client).deliver(message("msg_mg"))
                #expect(receipt == DeliveryReceipt(providerMessageID: "<20261125100000.msg_mg@mg.example.com>"))

                let request = try #require(fake.server.received.first)
                #expect(fake.server.received.map(\.status) == [200])
                #expect(request.path == "/v3/mg.example.com/messages")
                #expect(
                    request.header("authorization") == "Basic "
                        + Data("api:\(FakeMailgun.apiKey)".utf8).base64EncodedString())
                #expect(request.header("content-type") == "application/x-www-form-urlencoded")
                #expect(
                    request.form.fields.map { "\($0.name)=\($0.value)" } == [
                        "from=Test Café <offers@example.com>", "to=c1@example.com", "subject=Hi Ana", "text=\(text)",
                        "html=\(html)", "h:Reply-To=hello@example.com", "h:X-Nudge-Id=msg_mg", "v:nudge_id=msg_mg",
                    ])
            }
        }

        @Test(
            "Mailgun's answers map to transient or permanent failures, honouring Retry-After",
            arguments: [
                EmailAnswerCase(
                    reply: FakeMailgun.Reply.invalid("to parameter is not a valid address. please check documentation"),
                    expected: .permanent(
                        containing:
                            "Mailgun answered 400: to parameter is not a valid address. please check documentation")),
                EmailAnswerCase(
                    reply: .unauthorized,
                    expected: .permanent(containing: "Mailgun refused the API key (401): Forbidden")),
                EmailAnswerCase(
                    reply: .forbidden,
                    expected: .permanent(containing: "Mailgun refused the request (403): Domain mg.example.com")),
                EmailAnswerCase(
                    reply: .tooManyRequests(retryAfter: "7"),
                    expected: .transient(
                        containing: "Mailgun answered 429 (rate limited): Too many requests", retryAfter: 7)),
                EmailAnswerCase(
                    reply: .tooManyRequests(retryAfter: nil),
                    expected: .transient(containing: "Mailgun answered 429", retryAfter: nil)),
                EmailAnswerCase(
                    reply: .serverError,
                    expected: .transient(containing: "Mailgun answered 500: Internal Server Error", retryAfter: nil)),
            ] as [EmailAnswerCase<FakeMailgun.Reply>])
        func answers(_ c: EmailAnswerCase<FakeMailgun.Reply>) async throws {
            try await FakeMailgun.with { fake, url, client in
                fake.server.enqueue(c.reply)
                await c.check(makeMailgun(url, client), hiding: FakeMailgun.apiKey)
            }
        }

        @Test("another domain is Mailgun's 404, a permanent failure")
        func unknownDomain() async throws {
            try await FakeMailgun.with { _, url, client in
                let error = await #expect(throws: DeliveryError.self) {
                    try await makeMailgun(url, client, EmailAdapterOptions(domain: "other.example.com")).deliver(
                        message("msg_d"))
                }
                #expect(error?.description == "Mailgun answered 404: Domain not found: other.example.com")
            }
        }

        @Test(
            "from is the bare address without a name, and quotes a name with a comma or a quote",
            arguments: [
                (nil, "offers@example.com"),
                ("Bean There, Lisbon", #""Bean There, Lisbon" <offers@example.com>"#),
                (#"Ana "the" Barista"#, #""Ana \"the\" Barista" <offers@example.com>"#),
            ] as [(String?, String)])
        func from(name: String?, expected: String) async throws {
            try await FakeMailgun.with { fake, url, client in
                _ = try await makeMailgun(url, client, EmailAdapterOptions(fromName: name)).deliver(message("msg_n"))
                #expect(fake.server.received.first?.form["from"] == expected)
            }
        }

        @Test(
            "the fake parses repeated keys and refuses what Mailgun refuses, with Mailgun's status and message",
            arguments: [
                (FakeMailgun.apiKey, validForm + "&to=c2%40example.com&o:tag=a&o:tag=b", 200, nil),
                ("wrong", validForm, 401, "Forbidden"),
                (
                    FakeMailgun.apiKey, validForm.replacingOccurrences(of: "from=offers%40example.com&", with: ""), 400,
                    "from parameter is missing"
                ),
                (
                    FakeMailgun.apiKey, validForm + "&to=c2", 400,
                    "to parameter is not a valid address. please check documentation"
                ),
                (
                    FakeMailgun.apiKey, validForm.replacingOccurrences(of: "&text=Hi", with: ""), 400,
                    "Need at least one of 'text', 'html' or 'template' parameters specified"
                ),
                (
                    FakeMailgun.apiKey, validForm + "&v:big=<17 kB>", 400,
                    "The sum of o:, h: and v: parameters is limited to 16 kB"
                ),
            ] as [(String, String, Int, String?)])
        func fakeChecks(key: String, body: String, status: Int, message: String?) async throws {
            try await FakeMailgun.with { fake, url, client in
                let authorization = "Basic " + Data("api:\(key)".utf8).base64EncodedString()
                let answer = try await post(
                    url + "/v3/mg.example.com/messages",
                    body.replacingOccurrences(of: "<17 kB>", with: String(repeating: "x", count: 17_000)),
                    headers: ["authorization": authorization, "content-type": "application/x-www-form-urlencoded"],
                    client: client)
                #expect(answer.status == status, "\(answer.body)")
                if let message {
                    let words = (try? JSONDecoder().decode([String: String].self, from: Data(answer.body.utf8)))?[
                        "message"]
                    #expect((words ?? answer.body) == message)
                } else {
                    let form = try #require(fake.server.received.first?.form)
                    #expect(form.values("to") == ["c1@example.com", "c2@example.com"])
                    #expect(form.values("o:tag") == ["a", "b"])
                }
            }
        }
    }
}

extension EmailProviderTests {
    @Suite("Email providers from nudge.yaml")
    struct Configuration {
        static let environment = [
            "SENDGRID_API_KEY": FakeSendGrid.apiKey, "MAILGUN_API_KEY": FakeMailgun.apiKey, "UNSUBSCRIBE_SECRET": "s3",
        ]

        static func adapter(_ email: String, client: HTTPClient, environment: [String: String] = environment) throws
            -> any ChannelAdapter
        {
            var diagnostics = Diagnostics()
            let config = ProjectConfig.parse(
                """
                business: { name: Test, timezone: UTC }
                serve: { public_url: "https://nudge.example.com", unsubscribe_secret_env: UNSUBSCRIBE_SECRET }
                channels:
                  email: { \(email) }
                """, file: "nudge.yaml", providers: Providers.catalog, diagnostics: &diagnostics)
            #expect(diagnostics.all.isEmpty, "\(diagnostics.all)")
            let adapters = try Providers.makeAdapters(config, environment: environment, httpClient: { client }, resolve: { $0 })
            return try #require(adapters[.email])
        }

        static let unsubscribeHeader =
            "<\(UnsubscribeLinks(baseURL: "https://nudge.example.com", secret: "s3").url(customerID: "c1"))>"

        @Test("a sendgrid channel sends through base_url with its key, sender, reply-to and unsubscribe link")
        func sendGrid() async throws {
            try await FakeSendGrid.with { fake, url, client in
                let adapter = try Self.adapter(
                    "provider: sendgrid, api_key_env: SENDGRID_API_KEY, from: offers@example.com, from_name: Test Café, "
                        + "reply_to: hello@example.com, base_url: \"\(url)/\", timeout: 15s", client: client)
                #expect((adapter as? SendGridAdapter)?.baseURL == url)
                let receipt = try await adapter.deliver(message("msg_c"))
                #expect(receipt == DeliveryReceipt(providerMessageID: "sg-msg_c"))
                let mail = try object(try #require(fake.server.received.first).body)
                #expect(try canonical(mail["from"] as Any) == #"{"email":"offers@example.com","name":"Test Café"}"#)
                #expect(try canonical(mail["reply_to"] as Any) == #"{"email":"hello@example.com"}"#)
                #expect((mail["headers"] as? [String: String])?["List-Unsubscribe"] == Self.unsubscribeHeader)
            }
        }

        @Test(
            "a mailgun channel sends to its domain through base_url with its key, sender, reply-to and unsubscribe link"
        )
        func mailgun() async throws {
            try await FakeMailgun.with { fake, url, client in
                let adapter = try Self.adapter(
                    "provider: mailgun, api_key_env: MAILGUN_API_KEY, domain: mg.example.com, from: offers@example.com, "
                        + "from_name: \"Bean There, Lisbon\", reply_to: hello@example.com, base_url: \"\(url)\"",
                    client: client)
                #expect((adapter as? MailgunAdapter)?.domain == "mg.example.com")
                let receipt = try await adapter.deliver(message("msg_c"))
                #expect(receipt == DeliveryReceipt(providerMessageID: "<20261125100000.msg_c@mg.example.com>"))
                let form = try #require(fake.server.received.first?.form)
                #expect(form["from"] == #""Bean There, Lisbon" <offers@example.com>"#)
                #expect(form["h:Reply-To"] == "hello@example.com")
                #expect(form["h:List-Unsubscribe"] == Self.unsubscribeHeader)
            }
        }

        @Test("without base_url each adapter uses its provider's API")
        func defaultBaseURLs() async throws {
            try await withHTTPClient { client in
                let sendGrid = try Self.adapter(
                    "provider: sendgrid, api_key_env: SENDGRID_API_KEY, from: offers@example.com", client: client)
                let mailgun = try Self.adapter(
                    "provider: mailgun, api_key_env: MAILGUN_API_KEY, domain: mg.example.com, from: offers@example.com",
                    client: client)
                #expect((sendGrid as? SendGridAdapter)?.baseURL == "https://api.sendgrid.com")
                #expect((mailgun as? MailgunAdapter)?.baseURL == "https://api.mailgun.net")
            }
        }

        @Test(
            "a missing API key variable is a configuration error naming the variable",
            arguments: [
                "provider: sendgrid, api_key_env: SENDGRID_API_KEY, from: offers@example.com",
                "provider: mailgun, api_key_env: SENDGRID_API_KEY, domain: mg.example.com, from: offers@example.com",
            ])
        func missingKey(email: String) async throws {
            try await withHTTPClient { client in
                let error = #expect(throws: Adapters.ConfigurationError.self) {
                    try Self.adapter(email, client: client, environment: ["UNSUBSCRIBE_SECRET": "s3"])
                }
                #expect(
                    error?.description
                        == "channel 'email': the environment variable SENDGRID_API_KEY (api_key_env) is not set")
            }
        }
    }
}
