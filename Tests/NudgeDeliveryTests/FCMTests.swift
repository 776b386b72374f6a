import AsyncHTTPClient
import CryptoExtras
import Foundation
import GRDB
import NudgePostgres
import NudgeStore
import NudgeDelivery
import NudgeLanguage
import NudgeProviders
import NudgeTestSupport
import Testing
import NudgeCore

/// A push of the outbox as the dispatcher hands it over.
private func push(_ id: String, token: String? = "fcm-token-ana", title: String = "Two stamps to go", body: String = "Hi Ana")
    -> OutboundMessage
{
    var record = DeliveryFixture.message(id, channel: "push", body: body)
    record.recipient = token
    record.headingKey = "title"
    record.heading = title
    return OutboundMessage(record: record, sentAt: DeliveryFixture.start)
}

/// An FCM adapter signed in with the fake's test account, on `clock`.
private func adapter(_ url: String, _ client: HTTPClient, clock: TestClock, key: _RSA.Signing.PrivateKey = FakeFCM.key)
    throws -> FCMAdapter
{
    FCMAdapter(
        projectID: FakeFCM.projectID, account: try GoogleServiceAccount(FakeFCM.credentials(baseURL: url, key: key)),
        baseURL: url, client: client, timeout: loopbackTimeout, clock: { clock.now })
}

@Suite("FCM HTTP v1 against a loopback FCM and token endpoint")
struct FCMTests {
    @Test("a push goes out with a token from the account's signed assertion, and the token serves every push after it")
    func sends() async throws {
        let clock = TestClock()
        try await FakeFCM.with(now: { clock.now }) { fake, url, client in
            let fcm = try adapter(url, client, clock: clock)
            let results = await fcm.deliver(batch: [push("m1"), push("m2", token: "fcm-token-ben", title: "Hi", body: "Ben")])
            #expect(results.allSatisfy { (try? $0.get()) != nil }, "\(results)")
            #expect(try results[0].get().providerMessageID?.hasPrefix("projects/\(FakeFCM.projectID)/messages/") == true)
            let third = try await fcm.deliver(push("m3"))
            #expect(third.providerMessageID != nil)
            #expect(fake.tokenRequests == 1)
            let sent = fake.sent
            #expect(sent.count == 3)
            let ben = try #require(sent.first { $0["token"] as? String == "fcm-token-ben" })
            #expect(ben["notification"] as? [String: String] == ["title": "Hi", "body": "Ben"])
            #expect(ben["data"] as? [String: String] == ["nudge_id": "m2"])
            let claims = try #require(fake.assertions.first)
            #expect(claims["iss"] as? String == FakeFCM.clientEmail)
            #expect(claims["scope"] as? String == FCMAdapter.scope)
            #expect(claims["aud"] as? String == "\(url)/token")
            #expect((claims["iat"] as? Int).map { Double($0) } == clock.now.timeIntervalSince1970.rounded(.down))
        }
    }

    @Test("a token is replaced a minute before it expires, and once when FCM refuses it (401)")
    func refresh() async throws {
        let clock = TestClock()
        try await FakeFCM.with(now: { clock.now }) { fake, url, client in
            fake.setExpiresIn(600)
            let fcm = try adapter(url, client, clock: clock)
            _ = try await fcm.deliver(push("m1"))
            clock.advance(by: 530)
            _ = try await fcm.deliver(push("m2"))
            #expect(fake.tokenRequests == 1)
            clock.advance(by: 20)
            _ = try await fcm.deliver(push("m3"))
            #expect(fake.tokenRequests == 2)
            fake.revokeTokens()
            _ = try await fcm.deliver(push("m4"))
            #expect(fake.tokenRequests == 3)
            #expect(fake.sent.count == 4)
            #expect(fake.server.received.map(\.status).filter { $0 == 401 }.count == 1)
        }
    }

    @Test("an assertion signed with another key is refused: every push fails naming invalid_grant")
    func wrongKey() async throws {
        let clock = TestClock()
        try await FakeFCM.with(now: { clock.now }) { fake, url, client in
            let fcm = try adapter(url, client, clock: clock, key: try _RSA.Signing.PrivateKey(keySize: .bits2048))
            let error = await #expect(throws: DeliveryError.self) { try await fcm.deliver(push("m1")) }
            guard case .permanent(let text)? = error else {
                Issue.record("expected a permanent error, got \(String(describing: error))")
                return
            }
            #expect(text.contains("invalid_grant") && text.contains("Invalid JWT Signature") && text.contains(FakeFCM.clientEmail))
            #expect(fake.sent.isEmpty)
        }
    }

    @Test("a token FCM no longer knows, or does not accept, is a dead recipient; 429 and 5xx are retried")
    func errors() async throws {
        let clock = TestClock()
        try await FakeFCM.with(now: { clock.now }) { fake, url, client in
            let fcm = try adapter(url, client, clock: clock)
            fake.markDead("fcm-token-gone")
            func failure(_ message: OutboundMessage) async -> DeliveryError? {
                await #expect(throws: DeliveryError.self) { try await fcm.deliver(message) }
            }
            guard case .deadRecipient(let gone)? = await failure(push("m1", token: "fcm-token-gone")) else {
                Issue.record("UNREGISTERED is not a dead recipient")
                return
            }
            #expect(gone.contains("404") && gone.contains("UNREGISTERED"))
            fake.server.enqueue(
                .invalidToken, .quotaExceeded(retryAfter: "30"), .unavailable, .badGatewayHTML)
            guard case .deadRecipient(let invalid)? = await failure(push("m2")) else {
                Issue.record("an invalid registration token is not a dead recipient")
                return
            }
            #expect(invalid.contains("INVALID_ARGUMENT") && invalid.contains("registration token"))
            guard case .transient(let quota, let retryAfter)? = await failure(push("m3")) else {
                Issue.record("429 is not transient")
                return
            }
            #expect(quota.contains("429") && quota.contains("QUOTA_EXCEEDED") && retryAfter == 30)
            guard case .transient(let unavailable, _)? = await failure(push("m4")) else {
                Issue.record("503 is not transient")
                return
            }
            #expect(unavailable.contains("503"))
            guard case .transient(let badGateway, _)? = await failure(push("m5")) else {
                Issue.record("an HTML 502 is not transient")
                return
            }
            #expect(badGateway == "FCM answered 502")
            guard case .permanent(let none)? = await failure(push("m6", token: nil)) else {
                Issue.record("a push without a token did not fail")
                return
            }
            #expect(none == "the message has no push token to send to")
        }
    }

    @Test("nudge.yaml's fcm channel makes the adapter from the key file in the environment, or the file it names")
    func configured() async throws {
        var diagnostics = Diagnostics()
        let config = ProjectConfig.parse(
            """
            business: { name: Test, timezone: UTC }
            channels:
              push: { provider: fcm, project_id: bean-there-app, credentials_env: FCM_CREDENTIALS, base_url: "http://127.0.0.1:1" }
            """, file: "nudge.yaml", providers: Providers.catalog, diagnostics: &diagnostics)
        #expect(diagnostics.all.isEmpty, "\(diagnostics.all)")
        let credentials = FakeFCM.credentials(baseURL: "http://127.0.0.1:1")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("fcm-\(UUID().uuidString).json")
        try credentials.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        try await withHTTPClient { client in
            for value in [credentials, file.path] {
                let adapters = try Providers.makeAdapters(
                    config, environment: ["FCM_CREDENTIALS": value], httpClient: { client }, resolve: { $0 })
                let fcm = try #require(adapters[.push] as? FCMAdapter)
                #expect(fcm.endpoint == "http://127.0.0.1:1/v1/projects/bean-there-app/messages:send")
            }
            for (value, problem) in [
                ("{\"type\": \"authorized_user\"}", "the credentials are not a service account key"),
                ("/nonexistent/key.json", "neither JSON nor the path of a readable file"),
                (credentials.replacingOccurrences(of: "BEGIN PRIVATE KEY", with: "BEGIN NOTHING"), "not an RSA private key"),
            ] {
                let error = #expect(throws: Adapters.ConfigurationError.self) {
                    try Providers.makeAdapters(
                        config, environment: ["FCM_CREDENTIALS": value], httpClient: { client }, resolve: { $0 })
                }
                #expect(error?.description.hasPrefix("channel 'push': credentials_env: ") == true, "\(String(describing: error))")
                #expect(error?.description.contains(problem) == true, "\(String(describing: error))")
                #expect(error?.description.contains("PRIVATE KEY") == false)
                #expect(error?.description.contains("/nonexistent") == false, "the value is never quoted")
            }
            #expect(
                Providers.missingSecrets(config, environment: [:]).map(\.variable) == ["FCM_CREDENTIALS"])
        }
    }

    @Test(
        "a dead token fails its push, is cleared from the customer and logged as a consent change; a token that changed meanwhile stays",
        arguments: Backend.available)
    func deadTokenCleared(_ backend: Backend) async throws {
        let fixture = try await DeliveryFixture.make(backend)
        let start = DeliveryFixture.start
        try await fixture.database.writer.write { db in
            for (id, token) in [("ana", "fcm-token-gone"), ("ben", "fcm-token-ben-new"), ("cy", "fcm-token-cy")] {
                try db.execute(
                    sql: """
                        INSERT INTO customer (id, name, signed_up_at, push_opt_in, push_token, last_activity_at)
                        VALUES (?, ?, ?, 1, ?, ?)
                        """,
                    arguments: [id, id, StoredInstant.millis(start), token, StoredInstant.millis(start)])
            }
        }
        if let postgres = fixture.store as? PostgresStore { try await postgres.replaceContents(from: fixture.database) }
        // Ben's push went to a token he has since replaced: the old one is dead, the new one is kept.
        let messages = [("m_ana", "ana", "fcm-token-gone"), ("m_ben", "ben", "fcm-token-ben-old"), ("m_cy", "cy", "fcm-token-cy")]
            .map { id, customer, token in
                var record = DeliveryFixture.message(id, customer: customer, channel: "push")
                record.recipient = token
                record.headingKey = "title"
                record.heading = "Two stamps to go"
                return record
            }
        try await fixture.insert(messages)
        let clock = TestClock(start.addingTimeInterval(60))
        try await FakeFCM.with(now: { clock.now }) { fake, url, client in
            fake.markDead("fcm-token-gone")
            fake.markDead("fcm-token-ben-old")
            let summary = try await fixture.dispatcher([.push: try adapter(url, client, clock: clock)], clock: clock).drain()
            #expect(summary.delivered == 1 && summary.failed == 2)
        }
        #expect(try await fixture.ids(.failed) == ["m_ana", "m_ben"])
        #expect(try await fixture.record("m_ana").reason?.contains("UNREGISTERED") == true)
        #expect(try await fixture.store.customer(id: "ana")?.pushToken == nil)
        #expect(try await fixture.store.customer(id: "ben")?.pushToken == "fcm-token-ben-new")
        #expect(try await fixture.store.customer(id: "cy")?.pushToken == "fcm-token-cy")
        let logged = try await fixture.store.consentChanges(customerID: "ana")
        #expect(logged.count == 1)
        #expect(logged.first?.change.channel == "push" && logged.first?.change.optIn == false)
        #expect(logged.first?.change.reason.hasPrefix("address removed: FCM answered 404") == true)
        // What `history` and `customers show` print for it.
        #expect(logged.first?.change.action == "address removed")
        #expect(logged.first?.change.cause.hasPrefix("FCM answered 404: NOT_FOUND UNREGISTERED") == true)
        #expect(try await fixture.store.consentChanges(customerID: "ben").isEmpty)
    }
}
