import Foundation
import GRDB
import NudgeDelivery
import NudgeEngine
import NudgeLanguage
import NudgeProviders
import NudgeStore
import NudgeTestSupport
import Testing
import NudgeCore

@Suite("Dispatcher over a file-backed SQLite outbox")
struct DispatcherTests {
    static let environment = [WebhookProject.secretVariable: FakeWebhookReceiver.secret]

    @Test("a committed plan is delivered to the webhook receiver once, and a second run sends nothing", arguments: Backend.available)
    func committedPlan(_ backend: Backend) async throws {
        let fixture = try await DeliveryFixture.make(backend)
        try await FakeWebhookReceiver.with { receiver, url in
            try await withHTTPClient { client in
                let setup = try WebhookProject(fixture: fixture, url: url)
                let now = DeliveryFixture.start
                try await setup.addCustomer("c1", name: "Ana Lima", signedUp: now.addingTimeInterval(-3600))
                try await setup.addCustomer("c2", name: "Bo Chen", signedUp: now.addingTimeInterval(-7200))
                try await setup.addCustomer("gone", name: "Old Timer", signedUp: now.addingTimeInterval(-3 * 86_400))
                let adapters = try Providers.makeAdapters(
                    setup.project.config, environment: Self.environment, httpClient: { client },
                    resolve: setup.project.resolve)
                let ids = SequentialIDs()
                let runner = Runner(
                    planner: setup.planner, dispatcher: fixture.dispatcher(adapters, clock: TestClock(now)),
                    logger: DeliveryFixture.logger, newID: { ids() })

                let report = try await runner.once(now: now)
                #expect(report.committed.pendingIDs.sorted() == ["msg_0001", "msg_0002"])
                #expect(report.dispatched.delivered == 2)
                #expect(report.dispatched.failed == 0 && report.dispatched.retrying == 0)
                #expect(try await fixture.ids(.delivered) == ["msg_0001", "msg_0002"])
                #expect(receiver.accepted.compactMap(\.id).sorted() == ["msg_0001", "msg_0002"])
                let bodies = receiver.accepted.map(\.body).sorted()
                #expect(bodies.contains { $0.contains(#""subject":"Welcome Ana""#) && $0.contains("Hello Ana Lima from Test Café") })
                #expect(bodies.contains { $0.contains(#""subject":"Welcome Bo""#) })

                let again = try await runner.once(now: now.addingTimeInterval(60))
                #expect(again.committed.pendingIDs.isEmpty)
                #expect(again.dispatched == DispatchSummary())
                #expect(receiver.received.count == 2)
            }
        }
    }

    @Test("a transient failure is retried at now + backoff or Retry-After, with the same webhook-id", arguments: Backend.available)
    func transientThenDelivered(_ backend: Backend) async throws {
        let fixture = try await DeliveryFixture.make(backend)
        let clock = TestClock()
        try await fixture.insert([DeliveryFixture.message("msg_1")])
        try await FakeWebhookReceiver.with { receiver, url in
            try await withHTTPClient { client in
                receiver.script(id: "msg_1", .tooManyRequests(retryAfter: "120"), .serverError())
                let adapter = WebhookAdapter(url: url, secret: FakeWebhookReceiver.secret, client: client)
                let dispatcher = fixture.dispatcher([.email: adapter], clock: clock, jitter: 0.5)

                // Attempt 1: 429 asks for 120 s, more than the 3.75 s backoff.
                var summary = try await dispatcher.drain()
                #expect(summary.retrying == 1 && summary.delivered == 0)
                var record = try await fixture.record("msg_1")
                #expect(record.status == .pending && record.attempts == 1 && record.isRetrying)
                #expect(record.nextAttemptAt == StoredInstant.millis(DeliveryFixture.start.addingTimeInterval(120)))
                #expect(record.reason == "webhook answered 429")
                #expect(record.leaseOwner == nil && record.leaseExpiresAt == nil)

                // Not due yet: nothing is sent.
                clock.advance(by: 119.999)
                #expect(try await dispatcher.drain() == DispatchSummary())
                #expect(receiver.received.count == 1)

                // Attempt 2: 500; the backoff of attempt 2 is 10 s · (0.5 + 0.5 · 0.5) = 7.5 s.
                clock.advance(by: 0.001)
                summary = try await dispatcher.drain()
                #expect(summary.retrying == 1)
                record = try await fixture.record("msg_1")
                #expect(record.attempts == 2)
                #expect(record.nextAttemptAt == StoredInstant.millis(clock.now.addingTimeInterval(7.5)))

                // Attempt 3: delivered.
                clock.advance(by: 7.5)
                summary = try await dispatcher.drain()
                #expect(summary.delivered == 1)
                record = try await fixture.record("msg_1")
                #expect(record.status == .delivered && record.attempts == 3 && record.reason == nil)
                #expect(record.deliveredAt == StoredInstant.millis(clock.now))
                #expect(record.providerMessageId == "rcv_1")

                #expect(receiver.received.map(\.id) == ["msg_1", "msg_1", "msg_1"])
                #expect(receiver.received.map(\.status) == [429, 500, 200])
                let attempts = try await fixture.attempts("msg_1")
                #expect(attempts.map(\.attempt) == [1, 2, 3])
                #expect(attempts.map(\.outcome) == ["retry", "retry", "delivered"])
                #expect(attempts.map(\.detail) == ["webhook answered 429", "webhook answered 500: internal error", "rcv_1"])
                #expect(attempts.last?.at == StoredInstant.millis(clock.now))
            }
        }
    }

    struct BackoffCase: Sendable, CustomTestStringConvertible {
        var attempt: Int
        var retryAfter: TimeInterval?
        var jitter: Double
        var delay: TimeInterval
        var testDescription: String {
            "attempt \(attempt), jitter \(jitter), Retry-After \(retryAfter.map { "\($0)" } ?? "none") → \(delay) s"
        }
    }

    @Test(
        "the next attempt is exactly now + the policy's delay",
        arguments: Backend.available, [
            BackoffCase(attempt: 1, retryAfter: nil, jitter: 1, delay: 5),
            BackoffCase(attempt: 1, retryAfter: nil, jitter: 0, delay: 2.5),
            BackoffCase(attempt: 3, retryAfter: nil, jitter: 1, delay: 20),
            BackoffCase(attempt: 1, retryAfter: 1, jitter: 1, delay: 5),
            BackoffCase(attempt: 1, retryAfter: 90, jitter: 1, delay: 90),
            BackoffCase(attempt: 7, retryAfter: nil, jitter: 1, delay: 320),
        ])
    func exactBackoff(_ backend: Backend, _ c: BackoffCase) async throws {
        let fixture = try await DeliveryFixture.make(backend)
        var message = DeliveryFixture.message("msg_1")
        message.attempts = c.attempt - 1
        try await fixture.insert([message])
        let adapter = ScriptedAdapter()
        adapter.script("msg_1", .failure(.transient("busy", retryAfter: c.retryAfter)))
        let clock = TestClock(DeliveryFixture.start.addingTimeInterval(10))
        let summary = try await fixture.dispatcher([.email: adapter], clock: clock, jitter: c.jitter).drain()
        #expect(summary.retrying == 1)
        let record = try await fixture.record("msg_1")
        #expect(record.attempts == c.attempt)
        #expect(record.nextAttemptAt == StoredInstant.millis(clock.now.addingTimeInterval(c.delay)))
    }

    @Test("an absurd Retry-After from the provider is recorded as a retry in 30 days, not a crash", arguments: Backend.available)
    func absurdRetryAfter(_ backend: Backend) async throws {
        let fixture = try await DeliveryFixture.make(backend)
        try await fixture.insert([DeliveryFixture.message("msg_1")])
        try await FakeWebhookReceiver.with { receiver, url in
            try await withHTTPClient { client in
                receiver.enqueue(.tooManyRequests(retryAfter: "1e300"))
                let adapter = WebhookAdapter(url: url, secret: FakeWebhookReceiver.secret, client: client)
                let clock = TestClock()
                #expect(try await fixture.dispatcher([.email: adapter], clock: clock).drain().retrying == 1)
                let record = try await fixture.record("msg_1")
                #expect(record.nextAttemptAt == StoredInstant.millis(clock.now.addingTimeInterval(30 * 86_400)))
            }
        }
    }

    @Test("after maxAttempts a transient failure becomes failed with the reason", arguments: Backend.available)
    func outOfAttempts(_ backend: Backend) async throws {
        let fixture = try await DeliveryFixture.make(backend)
        let clock = TestClock()
        try await fixture.insert([DeliveryFixture.message("msg_1")])
        try await FakeWebhookReceiver.with { receiver, url in
            try await withHTTPClient { client in
                receiver.enqueue(.serverError(), .serverError(), .serverError(), .serverError())
                let adapter = WebhookAdapter(url: url, secret: FakeWebhookReceiver.secret, client: client)
                let dispatcher = fixture.dispatcher(
                    [.email: adapter], clock: clock, policy: RetryPolicy(maxAttempts: 3, baseDelay: 5))
                var summaries: [DispatchSummary] = []
                for _ in 0..<4 {
                    summaries.append(try await dispatcher.drain())
                    clock.advance(by: 3600)
                }
                #expect(summaries.map(\.retrying) == [1, 1, 0, 0])
                #expect(summaries.map(\.failed) == [0, 0, 1, 0])
                let record = try await fixture.record("msg_1")
                #expect(record.status == .failed && record.attempts == 3)
                #expect(record.reason == "webhook answered 500: internal error (gave up after 3 attempts)")
                #expect(try await fixture.attempts("msg_1").map(\.outcome) == ["retry", "retry", "failed"])
                #expect(receiver.received.count == 3)
            }
        }
    }

    @Test("a message older than maxAge fails on its next transient failure", arguments: Backend.available)
    func outOfTime(_ backend: Backend) async throws {
        let fixture = try await DeliveryFixture.make(backend)
        let created = DeliveryFixture.start.addingTimeInterval(-7200)
        try await fixture.insert([DeliveryFixture.message("msg_old", createdAt: created), DeliveryFixture.message("msg_new")])
        let adapter = ScriptedAdapter()
        adapter.script("msg_old", .failure(.transient("timed out")))
        adapter.script("msg_new", .failure(.transient("timed out")))
        let summary = try await fixture.dispatcher(
            [.email: adapter], clock: TestClock(), policy: RetryPolicy(maxAge: 3600)
        ).drain()
        #expect(summary.failed == 1 && summary.retrying == 1)
        let old = try await fixture.record("msg_old")
        #expect(old.status == .failed && old.reason == "timed out (gave up after 1 attempts)")
        #expect(try await fixture.record("msg_new").status == .pending)
    }

    @Test("a permanent failure is failed at once with the provider's message", arguments: Backend.available)
    func permanent(_ backend: Backend) async throws {
        let fixture = try await DeliveryFixture.make(backend)
        try await fixture.insert([DeliveryFixture.message("msg_1"), DeliveryFixture.message("msg_2")])
        try await FakeWebhookReceiver.with { receiver, url in
            try await withHTTPClient { client in
                receiver.script(id: "msg_1", .badRequest(#"{"error":"unknown recipient"}"#))
                receiver.script(id: "msg_2", .gone)
                let adapter = WebhookAdapter(url: url, secret: FakeWebhookReceiver.secret, client: client)
                let summary = try await fixture.dispatcher([.email: adapter], clock: TestClock()).drain()
                #expect(summary.failed == 2 && summary.delivered == 0 && summary.retrying == 0)
                let first = try await fixture.record("msg_1")
                #expect(first.status == .failed && first.attempts == 1)
                #expect(first.reason == #"webhook answered 400: {"error":"unknown recipient"}"#)
                #expect(try await fixture.record("msg_2").reason == "webhook answered 410 Gone: the endpoint is disabled")
                #expect(try await fixture.attempts("msg_1").map(\.outcome) == ["failed"])
                #expect(receiver.received.count == 2)
            }
        }
    }

    @Test("a message waiting for a retry does not block the others", arguments: Backend.available, [1, 500])
    func retryDoesNotBlock(_ backend: Backend, batchSize: Int) async throws {
        let fixture = try await DeliveryFixture.make(backend)
        try await fixture.insert((1...4).map { DeliveryFixture.message("msg_\($0)") })
        let adapter = ScriptedAdapter()
        adapter.script("msg_1", .failure(.transient("busy")))
        let clock = TestClock()
        let dispatcher = fixture.dispatcher([.email: adapter], clock: clock, batchSize: batchSize)

        let summary = try await dispatcher.drain()
        #expect(summary.delivered == 3 && summary.retrying == 1)
        #expect(try await fixture.ids(.delivered) == ["msg_2", "msg_3", "msg_4"])

        clock.advance(by: 1)
        try await fixture.insert([DeliveryFixture.message("msg_5", createdAt: clock.now)])
        let later = try await dispatcher.drain()
        #expect(later.delivered == 1 && later.retrying == 0)
        #expect(try await fixture.record("msg_1").attempts == 1)
        #expect(adapter.calls.map(\.id) == ["msg_1", "msg_2", "msg_3", "msg_4", "msg_5"])
    }

    @Test("a message for a channel without an adapter fails with a reason", arguments: Backend.available)
    func unconfiguredChannel(_ backend: Backend) async throws {
        let fixture = try await DeliveryFixture.make(backend)
        try await fixture.insert([DeliveryFixture.message("msg_1", channel: "sms"), DeliveryFixture.message("msg_2")])
        let summary = try await fixture.dispatcher([.email: ScriptedAdapter()], clock: TestClock()).drain()
        #expect(summary.failed == 1 && summary.delivered == 1)
        #expect(try await fixture.record("msg_1").reason == "channel 'sms' is not configured")
    }

    @Test("history and the status summary reflect every attempt", arguments: Backend.available)
    func historyAndSummary(_ backend: Backend) async throws {
        let fixture = try await DeliveryFixture.make(backend)
        let start = DeliveryFixture.start
        var suppressed = DeliveryFixture.message("msg_s", channel: nil, createdAt: start.addingTimeInterval(-4))
        suppressed.status = .suppressed
        suppressed.reason = "no channel: opted out"
        try await fixture.insert([
            suppressed,
            DeliveryFixture.message("msg_a", createdAt: start.addingTimeInterval(-3)),
            DeliveryFixture.message("msg_b", createdAt: start.addingTimeInterval(-2)),
            DeliveryFixture.message("msg_c", createdAt: start.addingTimeInterval(-1)),
            DeliveryFixture.message("msg_d", customer: "c2"),
        ])
        let adapter = ScriptedAdapter()
        adapter.script("msg_a", .failure(.transient("busy")))
        adapter.script("msg_b", .failure(.permanent("bad address")))
        adapter.script("msg_c", .failure(.transient("busy")), .failure(.transient("still busy")))
        let clock = TestClock()
        let dispatcher = fixture.dispatcher([.email: adapter], clock: clock)
        _ = try await dispatcher.drain()
        clock.advance(by: 3600)
        _ = try await dispatcher.drain()

        let summary = try await fixture.store.outboxSummary()
        #expect(
            summary.map { "\($0.channel ?? "-") \($0.state) \($0.count)" } == [
                "- suppressed 1", "email delivered 2", "email failed 1", "email retrying 1",
            ])

        let history = try await fixture.store.history(customerID: "c1")
        #expect(history.map(\.message.id) == ["msg_c", "msg_b", "msg_a", "msg_s"])
        #expect(history.map(\.message.status) == [.pending, .failed, .delivered, .suppressed])
        #expect(history[0].attempts.map(\.outcome) == ["retry", "retry"])
        #expect(history[0].attempts.map(\.detail) == ["busy", "still busy"])
        #expect(history[1].attempts.map(\.outcome) == ["failed"])
        #expect(history[1].attempts.map(\.detail) == ["bad address"])
        #expect(history[2].attempts.map(\.outcome) == ["retry", "delivered"])
        #expect(history[2].attempts.map(\.detail) == ["busy", "p-msg_a"])
        #expect(history[3].attempts.isEmpty)
        #expect(try await fixture.store.history(customerID: "c2").map(\.message.status) == [.delivered])
        #expect(try await fixture.store.history(customerID: "nobody").isEmpty)
        #expect(try await fixture.store.nextPendingAttempt() == clock.now.addingTimeInterval(10))
    }
}
