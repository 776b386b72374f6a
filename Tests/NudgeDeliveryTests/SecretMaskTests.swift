import Foundation
import NudgeDelivery
import NudgeLanguage
import NudgeProviders
import NudgeStore
import NudgeTestSupport
import Testing
import NudgeCore

@Suite("Secrets never reach logs or the database")
struct SecretMaskTests {
    @Test("every configured secret value is masked, longest first; short values are left alone")
    func mask() throws {
        var diagnostics = Diagnostics()
        let config = ProjectConfig.parse(
            """
            business: { name: T, timezone: UTC }
            serve: { public_url: "https://h.example", unsubscribe_secret_env: UNSUB }
            channels:
              email: { provider: sendgrid, api_key_env: SG_KEY, from: a@b.example }
              sms: { provider: twilio, account_sid: AC1, auth_token_env: TW_TOKEN, from: "+15550001111" }
            """, file: "nudge.yaml", providers: Providers.catalog, diagnostics: &diagnostics)
        #expect(diagnostics.all.isEmpty, "\(diagnostics.all)")
        let mask = SecretMask(
            config: config,
            environment: ["SG_KEY": "SG.abcdef", "TW_TOKEN": "tok-123456", "UNSUB": "unsub-secret", "OTHER": "visible"])
        #expect(mask.apply("key SG.abcdef and SG.abcdefXYZ, token tok-123456, unsub-secret, visible")
            == "key **** and ****XYZ, token ****, ****, visible")
        #expect(SecretMask(["abc", "abcdef"]).apply("abc abcdef") == "abc ****")
    }

    @Test("a provider that echoes the key in its error gets a masked reason in the outbox")
    func dispatcherMasks() async throws {
        let fixture = try DeliveryFixture()
        try await fixture.insert([DeliveryFixture.message("msg_1")])
        let adapter = ScriptedAdapter()
        adapter.script("msg_1", .failure(.permanent("401: bad key SG.leaked-key-value")))
        var dispatcher = fixture.dispatcher([.email: adapter], clock: TestClock())
        dispatcher.mask = SecretMask(["SG.leaked-key-value"])
        _ = try await dispatcher.drain()
        let record = try await fixture.record("msg_1")
        #expect(record.status == .failed)
        #expect(record.reason == "401: bad key ****")
        #expect(try await fixture.attempts("msg_1").allSatisfy { $0.detail?.contains("leaked") != true })
    }

    @Test("once the provider asks to wait, the rest of the batch is postponed by the same delay, not sent")
    func throttledBatch() async throws {
        let adapter = ScriptedAdapter()
        adapter.script("msg_2", .failure(.transient("429 slow down", retryAfter: 60)))
        let batch = (1...5).map { OutboundMessage(record: DeliveryFixture.message("msg_\($0)"), sentAt: DeliveryFixture.start) }
        let results = await adapter.deliverConcurrently(batch, limit: 1)
        #expect(adapter.calls.map(\.id) == ["msg_1", "msg_2"])
        #expect((try? results[0].get()) != nil)
        for result in results.dropFirst(2) {
            guard case .failure(.postponed(let reason, let delay)) = result else {
                Issue.record("expected the message to be postponed, got \(result)")
                continue
            }
            #expect(delay == 60)
            #expect(reason.contains("the provider asked to wait"))
        }
    }

    /// Delivers one message at a time through a scripted adapter.
    struct OneAtATime: ChannelAdapter {
        let base: ScriptedAdapter
        func deliver(_ message: OutboundMessage) async throws -> DeliveryReceipt { try await base.deliver(message) }
        func deliver(batch: [OutboundMessage]) async -> [Result<DeliveryReceipt, DeliveryError>] {
            await deliverConcurrently(batch, limit: 1)
        }
    }

    @Test("a postponed message waits as asked without using up an attempt")
    func postponedKeepsAttempts() async throws {
        let fixture = try DeliveryFixture()
        try await fixture.insert(["msg_1", "msg_2", "msg_3"].map { DeliveryFixture.message($0) })
        let scripted = ScriptedAdapter()
        scripted.script("msg_2", .failure(.transient("429 slow down", retryAfter: 60)))
        let clock = TestClock()
        let summary = try await fixture.dispatcher([.email: OneAtATime(base: scripted)], clock: clock).drain()
        #expect(summary.delivered == 1 && summary.retrying == 2)
        let postponed = try await fixture.record("msg_3")
        #expect(postponed.attempts == 0)
        #expect(postponed.nextAttemptAt == StoredInstant.millis(clock.now.addingTimeInterval(60)))
        #expect(try await fixture.attempts("msg_3").isEmpty)
        #expect(try await fixture.record("msg_2").attempts == 1)
        clock.advance(by: 60)
        let later = try await fixture.dispatcher([.email: OneAtATime(base: scripted)], clock: clock).drain()
        #expect(later.delivered == 2)
        #expect(try await fixture.record("msg_3").attempts == 1)
    }

    @Test("a message postponed past max_age fails instead of waiting on")
    func postponedTooOld() async throws {
        let fixture = try DeliveryFixture()
        let old = DeliveryFixture.start.addingTimeInterval(-2 * 86_400)
        try await fixture.insert([DeliveryFixture.message("msg_1"), DeliveryFixture.message("msg_2", createdAt: old)])
        let scripted = ScriptedAdapter()
        scripted.script("msg_2", .failure(.transient("429 slow down", retryAfter: 60)))
        scripted.script("msg_1", .failure(.transient("429 slow down", retryAfter: 60)))
        _ = try await fixture.dispatcher([.email: OneAtATime(base: scripted)], clock: TestClock()).drain()
        // msg_2 (older, due first) draws the 429 and is out of max_age; msg_1 was postponed, and is young enough.
        #expect(try await fixture.record("msg_2").status == .failed)
        #expect(try await fixture.record("msg_1").status == .pending)
        #expect(try await fixture.record("msg_1").attempts == 0)
    }
}
