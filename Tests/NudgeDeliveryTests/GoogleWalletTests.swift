import AsyncHTTPClient
import CryptoExtras
import Foundation
import Logging
import NudgeDelivery
import NudgeEngine
import NudgeLanguage
import NudgeProviders
import NudgeStore
import NudgeTestSupport
import Testing
import NudgeCore

/// A wallet message of the outbox as the dispatcher hands it over.
private func walletMessage(_ id: String, pass: String? = "ana-pass", header: String = "Two stamps to go", body: String = "Hi Ana")
    -> OutboundMessage
{
    var record = DeliveryFixture.message(id, channel: "wallet", body: body)
    record.recipient = pass
    record.headingKey = "header"
    record.heading = header
    return OutboundMessage(record: record, sentAt: DeliveryFixture.start)
}

/// A Google Wallet adapter signed in with the fake's test account, on `clock`.
private func adapter(
    _ url: String, _ client: HTTPClient, clock: TestClock, platform: String? = nil, offer: String? = nil
) throws -> GoogleWalletAdapter {
    GoogleWalletAdapter(
        issuerID: FakeGoogleWallet.issuerID, account: try GoogleServiceAccount(FakeGoogleWallet.credentials(baseURL: url)),
        classID: "stamp-card", offer: offer, platform: platform, baseURL: url, client: client, timeout: loopbackTimeout,
        clock: { clock.now })
}

@Suite("Google Wallet against a loopback Wallet API and token endpoint", .serialized)
struct GoogleWalletTests {
    @Test("a wallet message is added to the customer's loyalty object as a notifying message, with the wallet scope's token")
    func addMessage() async throws {
        let clock = TestClock()
        try await FakeGoogleWallet.with(now: { clock.now }) { fake, url, client in
            fake.addObject("ana-pass")
            let wallet = try adapter(url, client, clock: clock)
            let receipt = try await wallet.deliver(walletMessage("msg_1"))
            #expect(receipt.providerMessageID == "msg_1")
            let messages = fake.messages("ana-pass")
            #expect(messages.count == 1)
            #expect(messages.first?["id"] as? String == "msg_1")
            #expect(messages.first?["header"] as? String == "Two stamps to go")
            #expect(messages.first?["body"] as? String == "Hi Ana")
            #expect(messages.first?["messageType"] as? String == "TEXT_AND_NOTIFY")
            let claims = try #require(fake.tokens.assertions.first)
            #expect(claims["scope"] as? String == GoogleWalletAdapter.scope)
            let received = try #require(fake.server.received.last)
            #expect(received.path == "/walletobjects/v1/loyaltyObject/\(FakeGoogleWallet.issuerID).ana-pass/addMessage")
            // A pass id already carrying the issuer is taken as it is.
            _ = try await wallet.deliver(walletMessage("msg_2", pass: "\(FakeGoogleWallet.issuerID).ana-pass"))
            #expect(fake.messages("ana-pass").count == 2)
        }
    }

    @Test("no such pass, a bad pass id, a 5xx and Google's fourth notification in 24 hours get the right outcome")
    func failures() async throws {
        let clock = TestClock()
        try await FakeGoogleWallet.with(now: { clock.now }) { fake, url, client in
            fake.addObject("ana-pass")
            let wallet = try adapter(url, client, clock: clock)
            await #expect {
                _ = try await wallet.deliver(walletMessage("m1", pass: "ben-pass"))
            } throws: { error in
                guard case .permanent(let text) = error as? DeliveryError else { return false }
                return text.contains("404") && text.contains("no such pass")
            }
            let requests = fake.server.received.count
            await #expect {
                _ = try await wallet.deliver(walletMessage("m2", pass: "ana pass/../x"))
            } throws: { error in
                guard case .permanent(let text) = error as? DeliveryError else { return false }
                return text.contains("not a Google Wallet object id")
            }
            #expect(fake.server.received.count == requests, "a bad id is not sent")
            fake.server.enqueue(.unavailable)
            await #expect {
                _ = try await wallet.deliver(walletMessage("m3"))
            } throws: { error in
                if case .transient = error as? DeliveryError { return true }
                return false
            }
            for id in ["m4", "m5", "m6"] { _ = try await wallet.deliver(walletMessage(id)) }
            await #expect {
                _ = try await wallet.deliver(walletMessage("m7"))
            } throws: { error in
                guard case .transient(let text, _) = error as? DeliveryError else { return false }
                return text.contains("429") && text.contains("RESOURCE_EXHAUSTED")
            }
            clock.advance(by: 86_400)
            _ = try await wallet.deliver(walletMessage("m7"))
            #expect(fake.messages("ana-pass").map { $0["id"] as? String } == ["m4", "m5", "m6", "m7"])
        }
    }

    @Test("the settings are checked at their line and name the platform's block")
    func settings() {
        func parse(_ channel: String) -> [String] {
            var diagnostics = Diagnostics()
            _ = ProjectConfig.parse(
                "business: { name: T, timezone: UTC }\nchannels:\n  wallet: \(channel)\n", file: "nudge.yaml",
                providers: Providers.catalog, diagnostics: &diagnostics)
            return diagnostics.sorted.map(\.description)
        }
        #expect(parse("{ provider: google_wallet, issuer_id: \"3388\", credentials_env: GW }") == [])
        #expect(
            parse("{ provider: google_wallet, issuer_id: abc, credentials_env: GW, class_id: \"a b\" }") == [
                "nudge.yaml:3:49: error: 'issuer_id' must be the issuer's number from the Google Pay & Wallet console, not 'abc'",
                "nudge.yaml:3:85: error: 'class_id' must be letters, digits, '.', '_' and '-' (the loyalty class's id), not 'a b'",
            ])
        #expect(
            parse("{ google: { provider: google_wallet, issuer_id: \"1\" } }") == [
                "nudge.yaml:3:21: error: missing key 'credentials_env' in channel 'wallet' (google) (provider google_wallet)"
            ])
    }

    @Test("a Save to Google Wallet link is a JWT of the service account carrying the loyalty object")
    func saveLink() async throws {
        let clock = TestClock()
        try await FakeGoogleWallet.with(now: { clock.now }) { _, url, client in
            let wallet = try adapter(url, client, clock: clock)
            let customer = CustomerState(id: "ana", name: "Ana Lima", signedUpAt: clock.now)
            let link = try await wallet.saveURL(
                passID: "ana", customer: customer,
                points: WalletPoints(customerID: "ana", passID: "ana", label: "Coffee card", stamps: 7), now: clock.now)
            #expect(link.hasPrefix("https://pay.google.com/gp/v/save/"))
            let jwt = String(link.dropFirst("https://pay.google.com/gp/v/save/".count))
            let parts = jwt.split(separator: ".").map(String.init)
            #expect(parts.count == 3)
            let signature = try #require(FakeFCM.base64URL(parts[2]))
            #expect(
                FakeGoogleTokens.key.publicKey.isValidSignature(
                    _RSA.Signing.RSASignature(rawRepresentation: signature), for: Data("\(parts[0]).\(parts[1])".utf8),
                    padding: .insecurePKCS1v1_5))
            let header = try #require(FakeFCM.base64URL(parts[0]).flatMap(FakeFCM.object))
            #expect(header["alg"] as? String == "RS256" && header["kid"] as? String == FakeGoogleTokens.keyID)
            let claims = try #require(FakeFCM.base64URL(parts[1]).flatMap(FakeFCM.object))
            #expect(claims["iss"] as? String == FakeGoogleTokens.clientEmail)
            #expect(claims["aud"] as? String == "google" && claims["typ"] as? String == "savetowallet")
            let objects = (claims["payload"] as? [String: Any])?["loyaltyObjects"] as? [[String: Any]]
            let object = try #require(objects?.first)
            #expect(object["id"] as? String == "\(FakeGoogleWallet.issuerID).ana")
            #expect(object["classId"] as? String == "\(FakeGoogleWallet.issuerID).stamp-card")
            #expect(object["accountId"] as? String == "ana" && object["accountName"] as? String == "Ana Lima")
            #expect(object["state"] as? String == "ACTIVE")
            let points = object["loyaltyPoints"] as? [String: Any]
            #expect(points?["label"] as? String == "Coffee card")
            #expect((points?["balance"] as? [String: Any])?["int"] as? Int == 7)
        }
        #expect(WalletPass.newID(for: "c-001") == "c-001")
        #expect(WalletPass.newID(for: "ana@example.com").hasPrefix("c-"))
        #expect(WalletPass.newID(for: "ana@example.com").count == 22)
    }

    /// A project whose wallet goes to Google: two signup workflows send wallet messages.
    static let files = [
        "nudge.yaml": """
            business: { name: Test Café, timezone: UTC }
            channels:
              wallet: { provider: google_wallet, issuer_id: "\(FakeGoogleWallet.issuerID)", credentials_env: GW, class_id: stamp-card }
            """,
        "Workflows/welcome.yaml": """
            id: welcome
            trigger: { signup: {} }
            catch_up: 12h
            actions: [ { send: { channel: wallet, template: welcome } } ]
            """,
        "Workflows/thanks.yaml": """
            id: thanks
            category: transactional
            trigger: { signup: {} }
            catch_up: 12h
            actions: [ { send: { channel: wallet, template: welcome } } ]
            """,
        "Templates/welcome.wallet.mustache": "---\nheader: Welcome\n---\nHello {{customer.first_name}}\n",
    ]

    static func importCSV(_ fixture: DeliveryFixture, _ kind: ImportKind, _ csv: String) async throws {
        let path = fixture.directory.appendingPathComponent("\(kind.rawValue).csv").path
        try csv.write(toFile: path, atomically: true, encoding: .utf8)
        _ = try await fixture.store.importCSV(
            kind, path: path,
            options: ImportOptions(defaultZone: TimeZone(identifier: "UTC")!, now: DeliveryFixture.start, displayPath: "x.csv"))
    }

    @Test(
        "a pass notified three times in 24 hours gets its next messages when the window allows, whatever their category",
        arguments: Backend.available)
    func window(_ backend: Backend) async throws {
        let fixture = try await DeliveryFixture.make(backend)
        let project = try fixture.project(Self.files)
        try await Self.importCSV(
            fixture, .customers,
            "id,name,signed_up_at,wallet_pass_id\nana,Ana,2026-11-25T08:00:00Z,ana-pass\nben,Ben,2026-11-25T08:00:00Z,ben-pass\n"
                + "caro,Caro,2026-11-25T08:00:00Z,caro-pass\n")
        fixture.track(customer: "ana")
        fixture.track(customer: "caro")
        // Ana's pass was sent to 20, 10 and 1 hours ago (waiting messages count at their next attempt).
        let now = DeliveryFixture.start
        try await fixture.insert(
            [20.0, 10, 1].enumerated().map { index, hours in
                var message = DeliveryFixture.message(
                    "old\(index)", customer: "ana", channel: "wallet", createdAt: now.addingTimeInterval(-hours * 3600),
                    workflow: "earlier")
                message.recipient = "ana-pass"
                return message
            })
        // Caro's pass has three messages waiting for 2, 3 and 4 hours from now (held by quiet hours, say): one sent
        // now would make four in the 24 hours up to the third.
        try await fixture.insert(
            [2.0, 3, 4].enumerated().map { index, hours in
                var message = DeliveryFixture.message(
                    "later\(index)", customer: "caro", channel: "wallet", createdAt: now.addingTimeInterval(hours * 3600),
                    workflow: "earlier")
                message.recipient = "caro-pass"
                return message
            })
        let plan = try await Planner(project: project, store: fixture.store).plan(now: now)
        func line(_ customer: String, _ workflow: String) throws -> String {
            try #require(plan.messages.first { $0.customerID == customer && $0.workflowID == workflow }).jsonLine(includeRendered: false)
        }
        let window = #""status":"send","reason":"\#(GoogleWalletProvider.window.reason)","to":"ana-pass""#
        // Thanks goes first (by workflow id), once the message of 20 hours ago leaves the window; welcome once the one
        // of 10 hours ago does.
        #expect(try line("ana", "thanks").contains(window))
        #expect(try line("ana", "thanks").contains(#""send_after":"2026-11-25T14:00:00Z""#))
        #expect(try line("ana", "welcome").contains(window))
        #expect(try line("ana", "welcome").contains(#""send_after":"2026-11-26T00:00:00Z""#))
        #expect(try line("ben", "thanks").contains(#""status":"send","reason":null"#))
        #expect(try line("ben", "thanks").contains(#""send_after":null"#))
        #expect(try line("ben", "welcome").contains(#""send_after":null"#))
        // Caro's go once the window up to the first waiting one has passed it: 26 and 27 hours from now.
        #expect(try line("caro", "thanks").contains(#""send_after":"2026-11-26T12:00:00Z""#))
        #expect(try line("caro", "welcome").contains(#""send_after":"2026-11-26T13:00:00Z""#))
    }

    @Test("after a run, only the passes whose stamps changed are updated; a pass Google lacks is tried again", arguments: Backend.available)
    func pointsSync(_ backend: Backend) async throws {
        let fixture = try await DeliveryFixture.make(backend)
        try await Self.importCSV(
            fixture, .customers,
            """
            id,name,signed_up_at,wallet_pass_id,wallet_platform
            ana,Ana,2026-11-01,ana-pass,google
            ben,Ben,2026-11-01,ben-pass,google
            caro,Caro,2026-11-01,caro-pass,apple
            dan,Dan,2026-11-01,,

            """)
        try await Self.importCSV(fixture, .offers, "id,name,stamps_required\ncoffee,Coffee card,10\ntea,Tea card,6\n")
        try await Self.importCSV(
            fixture, .progress,
            """
            customer_id,offer_id,stamps,updated_at
            ana,coffee,7,2026-11-20
            ana,tea,2,2026-11-10
            ben,coffee,3,2026-11-20
            caro,coffee,5,2026-11-20
            dan,coffee,9,2026-11-20

            """)
        let clock = TestClock()
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        try await FakeGoogleWallet.with(now: { clock.now }) { fake, url, client in
            fake.addObject("ana-pass", points: 0)
            let wallet = try adapter(url, client, clock: clock, platform: "google")
            var report = try await wallet.afterRun(store: fixture.store, now: clock.now, logger: logger)
            #expect((report.updated, report.failed) == (1, 1))
            let points = fake.object("ana-pass")?["loyaltyPoints"] as? [String: Any]
            #expect(points?["label"] as? String == "Coffee card")
            #expect((points?["balance"] as? [String: Any])?["int"] as? Int == 7)
            #expect(fake.patches == 1)
            // Nothing changed: nothing sent, but the pass Google lacks is tried again.
            report = try await wallet.afterRun(store: fixture.store, now: clock.now, logger: logger)
            #expect((report.updated, report.failed) == (0, 1))
            fake.addObject("ben-pass")
            try await Self.importCSV(fixture, .progress, "customer_id,offer_id,stamps,updated_at\nana,coffee,8,2026-11-24\n")
            report = try await wallet.afterRun(store: fixture.store, now: clock.now, logger: logger)
            #expect((report.updated, report.failed) == (2, 0))
            #expect(((fake.object("ana-pass")?["loyaltyPoints"] as? [String: Any])?["balance"] as? [String: Any])?["int"] as? Int == 8)
            #expect(fake.patches == 3)
            report = try await wallet.afterRun(store: fixture.store, now: clock.now, logger: logger)
            #expect((report.updated, report.failed) == (0, 0))
            // A card updated later becomes the one the pass shows.
            try await Self.importCSV(fixture, .progress, "customer_id,offer_id,stamps,updated_at\nana,tea,3,2026-11-25\n")
            report = try await wallet.afterRun(store: fixture.store, now: clock.now, logger: logger)
            #expect(report.updated == 1)
            #expect((fake.object("ana-pass")?["loyaltyPoints"] as? [String: Any])?["label"] as? String == "Tea card")
            #expect(!fake.server.received.contains { $0.path.contains("caro-pass") }, "Caro's pass is Apple's")
        }
    }

    @Test("with 'offer', a pass shows that card, not the one updated last", arguments: Backend.available)
    func offerCard(_ backend: Backend) async throws {
        let fixture = try await DeliveryFixture.make(backend)
        try await Self.importCSV(fixture, .customers, "id,name,signed_up_at,wallet_pass_id\nana,Ana,2026-11-01,ana-pass\n")
        try await Self.importCSV(fixture, .offers, "id,name,stamps_required\ncoffee,Coffee card,10\ntea,Tea card,6\n")
        try await Self.importCSV(
            fixture, .progress, "customer_id,offer_id,stamps,updated_at\nana,coffee,7,2026-11-20\nana,tea,2,2026-11-24\n")
        let clock = TestClock()
        try await FakeGoogleWallet.with(now: { clock.now }) { fake, url, client in
            fake.addObject("ana-pass")
            let wallet = try adapter(url, client, clock: clock, offer: "coffee")
            let report = try await wallet.afterRun(store: fixture.store, now: clock.now, logger: DeliveryFixture.logger)
            #expect(report.updated == 1)
            let points = fake.object("ana-pass")?["loyaltyPoints"] as? [String: Any]
            #expect(points?["label"] as? String == "Coffee card")
            #expect((points?["balance"] as? [String: Any])?["int"] as? Int == 7)
        }
    }

    @Test("a run delivers the wallet messages, then updates the passes whose stamps changed, and reports both", arguments: Backend.available)
    func run(_ backend: Backend) async throws {
        let fixture = try await DeliveryFixture.make(backend)
        let project = try fixture.project(Self.files)
        try await Self.importCSV(
            fixture, .customers, "id,name,signed_up_at,wallet_pass_id\nana,Ana,2026-11-25T08:00:00Z,ana-pass\n")
        try await Self.importCSV(fixture, .offers, "id,name,stamps_required\ncoffee,Coffee card,10\n")
        try await Self.importCSV(fixture, .progress, "customer_id,offer_id,stamps,updated_at\nana,coffee,4,2026-11-25\n")
        fixture.track(customer: "ana")
        let clock = TestClock(DeliveryFixture.start)
        try await FakeGoogleWallet.with(now: { clock.now }) { fake, url, client in
            fake.addObject("ana-pass", points: 0)
            let adapters: [Channel: any ChannelAdapter] = [.wallet: try adapter(url, client, clock: clock)]
            let ids = SequentialIDs()
            let runner = Runner(
                planner: Planner(project: project, store: fixture.store),
                dispatcher: Dispatcher(
                    outbox: fixture.store, adapters: adapters, owner: .current(nonce: "wallet"),
                    logger: DeliveryFixture.logger, clock: { clock.now }),
                logger: DeliveryFixture.logger, newID: { ids() })
            let report = try await runner.once(now: clock.now)
            #expect(report.dispatched.delivered == 2)
            #expect(fake.messages("ana-pass").count == 2)
            #expect(report.afterRun == [AfterRunReport(what: "Google Wallet pass", updated: 1, failed: 0)])
            #expect(((fake.object("ana-pass")?["loyaltyPoints"] as? [String: Any])?["balance"] as? [String: Any])?["int"] as? Int == 4)
            let again = try await runner.once(now: clock.now)
            #expect(again.dispatched.delivered == 0 && again.afterRun.first?.updated == 0)
        }
    }
}
