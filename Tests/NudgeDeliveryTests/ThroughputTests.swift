import Foundation
import NudgeDelivery
import NudgeProviders
import NudgeLanguage
import NudgeStore
import NudgeTestSupport
import Testing
import NudgeCore

/// Measures delivery throughput and prints it; the speed itself is not asserted.
@Suite("Throughput", .serialized)
struct ThroughputTests {
    static let count = 2000

    static func messages() -> [OutboxMessage] {
        (1...count).map { DeliveryFixture.message(String(format: "msg_%05d", $0), customer: "c\($0 % 97)") }
    }

    static func report(_ name: String, _ elapsed: Duration) {
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print("throughput: \(count) messages to \(name) in \(String(format: "%.2f", seconds)) s = "
            + "\(Int((Double(count) / seconds).rounded())) messages/s")
    }

    @Test("2,000 messages through the dispatcher to the loopback webhook receiver")
    func webhook() async throws {
        let fixture = try DeliveryFixture()
        try await fixture.insert(Self.messages())
        try await FakeWebhookReceiver.with { receiver, url in
            try await withHTTPClient { client in
                let adapter = WebhookAdapter(url: url, secret: FakeWebhookReceiver.secret, client: client, concurrency: 8)
                let dispatcher = fixture.dispatcher([.email: adapter], clock: TestClock())
                let start = ContinuousClock.now
                let summary = try await dispatcher.drain()
                Self.report("the webhook receiver", ContinuousClock.now - start)
                #expect(summary.delivered == Self.count)
                #expect(Set(receiver.accepted.compactMap(\.id)).count == Self.count)
                #expect(receiver.received.count == Self.count)
            }
        }
        #expect(try await fixture.ids(.delivered).count == Self.count)
    }

    @Test("2,000 messages through the dispatcher to the file provider")
    func file() async throws {
        let fixture = try DeliveryFixture()
        try await fixture.insert(Self.messages())
        let path = fixture.directory.appendingPathComponent("outbox/email.jsonl").path
        let dispatcher = fixture.dispatcher([.email: FileAdapter(path: path)], clock: TestClock())
        let start = ContinuousClock.now
        let summary = try await dispatcher.drain()
        Self.report("the file provider", ContinuousClock.now - start)
        #expect(summary.delivered == Self.count)
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == Self.count)
        #expect(Set(lines.map { $0.prefix(20) }).count == Self.count)
    }
}
