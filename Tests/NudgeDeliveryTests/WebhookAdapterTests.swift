import AsyncHTTPClient
import Foundation
import NudgeDelivery
import NudgeProviders
import NudgeLanguage
import NudgeStore
import NudgeTestSupport
import Testing
import NudgeCore

/// Runs `body` with an HTTP client configured as `nudge run` configures it, shut down afterwards.
func withHTTPClient<T>(_ body: (HTTPClient) async throws -> T) async throws -> T {
    let client = Adapters.makeHTTPClient()
    let result: Result<T, any Error>
    do {
        result = .success(try await body(client))
    } catch {
        result = .failure(error)
    }
    try await client.shutdown()
    return try result.get()
}

/// A message of the outbox as the dispatcher hands it over, on its `attempt`.
func outbound(_ id: String, attempt: Int = 1, body: String = "Hello Ana", sentAt: Date = Date()) -> OutboundMessage {
    var record = DeliveryFixture.message(id, body: body)
    record.attempts = attempt
    return OutboundMessage(record: record, sentAt: sentAt)
}

/// What a delivery attempt should come to.
enum Expected: Sendable, CustomStringConvertible {
    case transient(containing: String, retryAfter: TimeInterval?)
    case permanent(containing: String)

    var description: String {
        switch self {
        case .transient(let text, let retryAfter): "transient '\(text)', Retry-After \(retryAfter.map { "\($0)" } ?? "none")"
        case .permanent(let text): "permanent '\(text)'"
        }
    }

    func check(_ error: DeliveryError, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        switch (self, error) {
        case (.transient(let text, let retryAfter), .transient(let message, let actual)):
            #expect(message.contains(text), "\(message)", sourceLocation: sourceLocation)
            #expect(actual == retryAfter, sourceLocation: sourceLocation)
        case (.permanent(let text), .permanent(let message)):
            #expect(message.contains(text), "\(message)", sourceLocation: sourceLocation)
        default:
            Issue.record("expected \(self), got \(error)", sourceLocation: sourceLocation)
        }
    }
}

@Suite("Webhook adapter against a loopback Standard Webhooks receiver")
struct WebhookAdapterTests {
    @Test("a 2xx is a receipt, and the body is the message JSON with id first")
    func accepted() async throws {
        let now = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))
        try await FakeWebhookReceiver.with { receiver, url in
            try await withHTTPClient { client in
                let adapter = WebhookAdapter(url: url, secret: FakeWebhookReceiver.secret, client: client, clock: { now })
                let message = outbound("msg_a", body: "Hi \"Ana\"\n☕ <b>bold</b> \\ done", sentAt: now.addingTimeInterval(-60))
                let receipt = try await adapter.deliver(message)
                #expect(receipt == DeliveryReceipt(providerMessageID: "rcv_1"))

                let request = try #require(receiver.received.first)
                #expect(receiver.received.count == 1)
                #expect(request.status == 200)
                #expect(request.id == "msg_a")
                #expect(request.timestamp == String(Int(now.timeIntervalSince1970)))
                #expect(request.body == OutboundMessage(record: message.record, sentAt: now).json)
                #expect(request.body.hasPrefix(#"{"id":"msg_a","#))
                let object = try #require(
                    try JSONSerialization.jsonObject(with: Data(request.body.utf8)) as? [String: Any])
                #expect(object["id"] as? String == "msg_a")
                #expect(object["to"] as? String == "c1@example.com")
                #expect(object["subject"] as? String == "Hi Ana")
                #expect(object["body"] as? String == "Hi \"Ana\"\n☕ <b>bold</b> \\ done")
                #expect(object["channel"] as? String == "email")
                #expect(object["due"] as? String == "2026-11-25T10:00:00Z")
                #expect(object["sent_at"] as? String == ISO8601.format(now))
            }
        }
    }

    @Test("webhook-id is the outbox id on every attempt; webhook-timestamp is each attempt's")
    func sameIDOnRetry() async throws {
        let clock = TestClock(Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down)))
        try await FakeWebhookReceiver.with { receiver, url in
            try await withHTTPClient { client in
                let adapter = WebhookAdapter(
                    url: url, secret: FakeWebhookReceiver.secret, client: client, clock: { clock.now })
                receiver.script(id: "msg_r", .serverError())
                await #expect(throws: DeliveryError.self) { try await adapter.deliver(outbound("msg_r", attempt: 1)) }
                clock.advance(by: 10)
                _ = try await adapter.deliver(outbound("msg_r", attempt: 2))

                let requests = receiver.received
                #expect(requests.map(\.id) == ["msg_r", "msg_r"])
                #expect(requests.map(\.status) == [500, 200])
                let timestamps = requests.compactMap { $0.timestamp.flatMap(Int.init) }
                #expect(timestamps.count == 2 && timestamps[1] - timestamps[0] == 10)
                #expect(requests[0].signature != requests[1].signature)
            }
        }
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var reply: FakeWebhookReceiver.Reply
        var expected: Expected
        var testDescription: String { "\(reply) → \(expected)" }
    }

    @Test(
        "provider answers map to transient or permanent failures",
        arguments: [
            Case(reply: .tooManyRequests(retryAfter: "7"), expected: .transient(containing: "429", retryAfter: 7)),
            Case(reply: .serverError(), expected: .transient(containing: "500: internal error", retryAfter: nil)),
            Case(reply: .serverError(retryAfter: "30"), expected: .transient(containing: "500", retryAfter: 30)),
            Case(reply: .gone, expected: .permanent(containing: "410 Gone")),
            Case(
                reply: .badRequest("to: must be an email address"),
                expected: .permanent(containing: "webhook answered 400: to: must be an email address")),
            Case(reply: .redirect, expected: .permanent(containing: "302")),
        ])
    func failures(_ c: Case) async throws {
        try await FakeWebhookReceiver.with { receiver, url in
            try await withHTTPClient { client in
                receiver.enqueue(c.reply)
                let adapter = WebhookAdapter(url: url, secret: FakeWebhookReceiver.secret, client: client)
                let error = await #expect(throws: DeliveryError.self) { try await adapter.deliver(outbound("msg_f")) }
                if let error { c.expected.check(error) }
                #expect(receiver.received.count == 1)
            }
        }
    }

    @Test(
        "Retry-After may be an HTTP date, and an absurd one is capped instead of overflowing",
        arguments: [
            ("Wed, 25 Nov 2026 10:02:00 GMT", 120.0),
            ("Wed, 25 Nov 2026 09:00:00 GMT", 0),
            ("1e300", 30 * 86_400),
            ("inf", 30 * 86_400),
        ] as [(String, TimeInterval)])
    func retryAfterForms(header: String, seconds: TimeInterval) async throws {
        let now = DeliveryFixture.start
        try await FakeWebhookReceiver.with(clock: { now }) { receiver, url in
            try await withHTTPClient { client in
                receiver.enqueue(.tooManyRequests(retryAfter: header))
                let adapter = WebhookAdapter(url: url, secret: FakeWebhookReceiver.secret, client: client, clock: { now })
                let error = await #expect(throws: DeliveryError.self) { try await adapter.deliver(outbound("msg_d")) }
                if let error { Expected.transient(containing: "429", retryAfter: seconds).check(error) }
            }
        }
    }

    @Test("a receiver that hangs is a transient timeout within the configured timeout")
    func hang() async throws {
        try await FakeWebhookReceiver.with { receiver, url in
            try await withHTTPClient { client in
                receiver.enqueue(.hang)
                let adapter = WebhookAdapter(url: url, secret: FakeWebhookReceiver.secret, client: client, timeout: 0.3)
                let start = ContinuousClock.now
                let error = await #expect(throws: DeliveryError.self) { try await adapter.deliver(outbound("msg_h")) }
                let elapsed = ContinuousClock.now - start
                if let error { Expected.transient(containing: "timed out after 300 ms", retryAfter: nil).check(error) }
                #expect(elapsed >= .milliseconds(250))
            }
        }
    }

    @Test("a receiver with another secret answers 401, a permanent failure")
    func wrongSecret() async throws {
        let other = "whsec_" + Data(repeating: 42, count: 32).base64EncodedString()
        try await FakeWebhookReceiver.with(secret: other) { receiver, url in
            try await withHTTPClient { client in
                let adapter = WebhookAdapter(url: url, secret: FakeWebhookReceiver.secret, client: client)
                let error = await #expect(throws: DeliveryError.self) { try await adapter.deliver(outbound("msg_s")) }
                if let error { Expected.permanent(containing: "401: no matching signature").check(error) }
                #expect(receiver.received.map(\.status) == [401])
            }
        }
    }

    @Test("a timestamp outside the receiver's ±5 minutes is refused with 401")
    func skewedClock() async throws {
        let now = Date()
        try await FakeWebhookReceiver.with(clock: { now.addingTimeInterval(301) }) { receiver, url in
            try await withHTTPClient { client in
                let adapter = WebhookAdapter(url: url, secret: FakeWebhookReceiver.secret, client: client, clock: { now })
                let error = await #expect(throws: DeliveryError.self) { try await adapter.deliver(outbound("msg_k")) }
                if let error { Expected.permanent(containing: "401").check(error) }
            }
        }
    }

    @Test("a message prepared long before it is sent is signed with the time it is sent")
    func staleBatch() async throws {
        try await FakeWebhookReceiver.with { receiver, url in
            try await withHTTPClient { client in
                let adapter = WebhookAdapter(url: url, secret: FakeWebhookReceiver.secret, client: client)
                // A rate-limited batch of 500 at 1/s reaches its last message eight minutes after it was prepared.
                _ = try await adapter.deliver(outbound("msg_late", sentAt: Date().addingTimeInterval(-480)))
                #expect(receiver.received.map(\.status) == [200])
            }
        }
    }

    @Test("an unreachable endpoint is a transient failure")
    func unreachable() async throws {
        let url = try await FakeWebhookReceiver.with { _, url in url }
        try await withHTTPClient { client in
            let adapter = WebhookAdapter(url: url, secret: FakeWebhookReceiver.secret, client: client, timeout: 0.5)
            let error = await #expect(throws: DeliveryError.self) { try await adapter.deliver(outbound("msg_u")) }
            // The client retries a refused connection until the deadline: either message is a transient failure.
            if case .transient(let message, nil)? = error {
                #expect(message.hasPrefix("webhook unreachable") || message.hasPrefix("webhook timed out"), "\(message)")
            } else {
                Issue.record("expected a transient failure, got \(error.map { "\($0)" } ?? "none")")
            }
        }
    }

    @Test("a batch is delivered concurrently, each message once, results in input order")
    func batch() async throws {
        try await FakeWebhookReceiver.with { receiver, url in
            try await withHTTPClient { client in
                let ids = (1...40).map { String(format: "msg_b%02d", $0) }
                receiver.script(id: "msg_b07", .gone)
                receiver.script(id: "msg_b13", .serverError())
                let adapter = WebhookAdapter(url: url, secret: FakeWebhookReceiver.secret, client: client, concurrency: 4)
                let results = await adapter.deliver(batch: ids.map { outbound($0) })
                #expect(results.count == 40)
                for (id, result) in zip(ids, results) {
                    switch (id, result) {
                    case ("msg_b07", .failure(.permanent)), ("msg_b13", .failure(.transient)): break
                    case (_, .success) where id != "msg_b07" && id != "msg_b13": break
                    default: Issue.record("\(id): \(result)")
                    }
                }
                #expect(receiver.received.compactMap(\.id).sorted() == ids)
            }
        }
    }

    @Test("a rate-limited adapter does not exceed its rate once its burst is spent")
    func rateLimited() async throws {
        try await FakeWebhookReceiver.with { receiver, url in
            try await withHTTPClient { client in
                // The bucket starts full (a burst of `rate`); the 10 messages after the first 20 need 0.5 s at 20/s.
                let adapter = WebhookAdapter(
                    url: url, secret: FakeWebhookReceiver.secret, client: client, concurrency: 8,
                    rateLimiter: RateLimiter(perSecond: 20))
                let start = ContinuousClock.now
                let results = await adapter.deliver(batch: (1...30).map { outbound("msg_rl\($0)") })
                let elapsed = ContinuousClock.now - start
                #expect(results.allSatisfy { if case .success = $0 { true } else { false } })
                #expect(receiver.accepted.count == 30)
                #expect(elapsed >= .milliseconds(450), "30 messages at 20/s took \(elapsed)")
            }
        }
    }
}
