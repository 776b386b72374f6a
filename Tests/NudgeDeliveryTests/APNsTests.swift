import AsyncHTTPClient
import Crypto
import Foundation
import NudgeDelivery
import NudgeLanguage
import NudgeProviders
import NudgeTestSupport
import Testing
import NudgeCore

/// A push to an iOS device of the outbox as the dispatcher hands it over.
private func push(_ id: String, device: String? = "a1b2c3d4e5f60718", title: String = "Two stamps to go", body: String = "Hi Ana")
    -> OutboundMessage
{
    var record = DeliveryFixture.message(id, channel: "push", body: body)
    record.recipient = device
    record.headingKey = "title"
    record.heading = title
    return OutboundMessage(record: record, sentAt: DeliveryFixture.start)
}

/// nudge.yaml's push channel for the fake at `url`, trusting `caFile`.
private func config(_ url: String, caFile: String) -> ProjectConfig {
    var diagnostics = Diagnostics()
    let config = ProjectConfig.parse(
        """
        business: { name: Test, timezone: UTC }
        channels:
          push: { provider: apns, team_id: \(FakeAPNs.teamID), key_id: \(FakeAPNs.keyID), key_env: APNS_KEY,
                  topic: \(FakeAPNs.topic), environment: production, base_url: "\(url)", ca_file: "\(caFile)" }
        """, file: "nudge.yaml", providers: Providers.catalog, diagnostics: &diagnostics)
    #expect(diagnostics.all.isEmpty, "\(diagnostics.all)")
    return config
}

/// The APNs adapter of `config`, on `clock`.
private func adapter(_ url: String, caFile: String, clock: TestClock, client: HTTPClient) throws -> APNsAdapter {
    let adapters = try Providers.makeAdapters(
        config(url, caFile: caFile), environment: ["APNS_KEY": FakeAPNs.key.pemRepresentation], httpClient: { client },
        resolve: { $0 })
    let made = try #require(adapters[.push] as? APNsAdapter)
    // The same settings with the test's clock.
    return try APNsAdapter(
        teamID: FakeAPNs.teamID, keyID: FakeAPNs.keyID, key: FakeAPNs.key.pemRepresentation, topic: made.topic,
        baseURL: made.baseURL, client: made.client, timeout: loopbackTimeout, clock: { clock.now })
}

@Suite("APNs over HTTP/2 and TLS against a loopback APNs")
struct APNsTests {
    @Test("a push goes over HTTP/2 with a provider token that is reused for 40 minutes, then renewed")
    func sends() async throws {
        let clock = TestClock()
        try await withHTTPClient { client in
            try await FakeAPNs.with(now: { clock.now }) { fake, url, caFile in
                let apns = try adapter(url, caFile: caFile, clock: clock, client: client)
                let results = await apns.deliver(batch: [push("m1"), push("m2", device: "0f0e0d0c0b0a0908", title: "Hi", body: "Ben")])
                #expect(results.allSatisfy { (try? $0.get()) != nil }, "\(results)")
                #expect(try results[0].get().providerMessageID == APNsAdapter.apnsID(outboxID: "m1"))
                let ben = try #require(fake.received.first { $0.device == "0f0e0d0c0b0a0908" })
                #expect(ben.isHTTP2)
                #expect(ben.header("apns-topic") == FakeAPNs.topic && ben.header("apns-push-type") == "alert")
                #expect(ben.header("apns-id") == APNsAdapter.apnsID(outboxID: "m2"))
                let payload = try #require(try JSONSerialization.jsonObject(with: Data(ben.payload.utf8)) as? [String: Any])
                #expect((payload["aps"] as? [String: Any])?["alert"] as? [String: String] == ["title": "Hi", "body": "Ben"])
                #expect(payload["nudge_id"] as? String == "m2")
                clock.advance(by: 39 * 60)
                _ = try await apns.deliver(push("m3"))
                #expect(fake.providerTokens.count == 1)
                clock.advance(by: 2 * 60)
                _ = try await apns.deliver(push("m4"))
                #expect(fake.providerTokens.count == 2)
                #expect(fake.received.allSatisfy { $0.status == 200 })
            }
        }
    }

    @Test("a dead device token is a dead recipient; an expired provider token is renewed once; 429 and 503 are retried")
    func errors() async throws {
        let clock = TestClock()
        try await withHTTPClient { client in
            try await FakeAPNs.with(now: { clock.now }) { fake, url, caFile in
                let apns = try adapter(url, caFile: caFile, clock: clock, client: client)
                func failure(_ message: OutboundMessage) async -> DeliveryError? {
                    await #expect(throws: DeliveryError.self) { try await apns.deliver(message) }
                }
                fake.markDead("deadbeefdeadbeef")
                guard case .deadRecipient(let gone)? = await failure(push("m1", device: "deadbeefdeadbeef")) else {
                    Issue.record("410 Unregistered is not a dead recipient")
                    return
                }
                #expect(gone == "APNs answered 410: Unregistered")
                fake.enqueue(.badDeviceToken, .expiredProviderToken, .ok, .tooManyRequests, .serviceUnavailable)
                guard case .deadRecipient(let bad)? = await failure(push("m2")) else {
                    Issue.record("BadDeviceToken is not a dead recipient")
                    return
                }
                #expect(bad == "APNs answered 400: BadDeviceToken")
                let renewed = try await apns.deliver(push("m3"))
                #expect(renewed.providerMessageID == APNsAdapter.apnsID(outboxID: "m3"))
                guard case .transient(let busy, let retryAfter)? = await failure(push("m4")) else {
                    Issue.record("429 is not transient")
                    return
                }
                #expect(busy == "APNs answered 429: TooManyRequests" && retryAfter == 12)
                guard case .transient? = await failure(push("m5")) else {
                    Issue.record("503 is not transient")
                    return
                }
                guard case .permanent(let none)? = await failure(push("m6", device: nil)) else {
                    Issue.record("a push without a device token did not fail")
                    return
                }
                #expect(none == "the message has no device token to send to")
            }
        }
    }

    @Test("a provider token signed with another key is refused, and a server outside ca_file is not trusted")
    func refused() async throws {
        let clock = TestClock()
        try await withHTTPClient { client in
            try await FakeAPNs.with(now: { clock.now }) { fake, url, caFile in
                let made = try adapter(url, caFile: caFile, clock: clock, client: client)
                let stranger = try APNsAdapter(
                    teamID: FakeAPNs.teamID, keyID: FakeAPNs.keyID, key: P256.Signing.PrivateKey().pemRepresentation,
                    topic: FakeAPNs.topic, baseURL: url, client: made.client, clock: { clock.now })
                let error = await #expect(throws: DeliveryError.self) { try await stranger.deliver(push("m1")) }
                #expect(error?.description == "APNs answered 403: InvalidProviderToken (check team_id, key_id, key_env and topic)")
                // The shared client trusts only the system's authorities: the test CA's certificate fails the handshake.
                let untrusted = try APNsAdapter(
                    teamID: FakeAPNs.teamID, keyID: FakeAPNs.keyID, key: FakeAPNs.key.pemRepresentation,
                    topic: FakeAPNs.topic, baseURL: url, client: client, clock: { clock.now })
                let tls = await #expect(throws: DeliveryError.self) { try await untrusted.deliver(push("m2")) }
                guard case .transient(let text, _)? = tls else {
                    Issue.record("an untrusted server gave \(String(describing: tls))")
                    return
                }
                #expect(text.hasPrefix("APNs unreachable"))
                #expect(fake.received.count == 1)
            }
        }
    }

    @Test("check validates the apns settings at their place")
    func checked() {
        var diagnostics = Diagnostics()
        _ = ProjectConfig.parse(
            """
            business: { name: Test, timezone: UTC }
            channels:
              push: { provider: apns, team_id: abc, key_id: XYZ987ABCD, key_env: APNS_KEY, topic: com.beanthere.app, environment: staging }
            """, file: "nudge.yaml", providers: Providers.catalog, diagnostics: &diagnostics)
        #expect(
            diagnostics.sorted.map(\.description) == [
                "nudge.yaml:3:36: error: 'team_id' must be Apple's 10-character id (capital letters and digits), not 'abc'",
                "nudge.yaml:3:119: error: 'environment' must be production or sandbox, not 'staging'",
            ])
    }
}
