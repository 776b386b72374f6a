import Foundation
import NudgeDelivery
import NudgeStore
import NudgeTestSupport
import Synchronization
import Testing
import NudgeCore

@Suite("Recording outcomes, and the delivery pipeline when recording fails")
struct PipelineTests {
    @Test(
        "one batch's delivered, retried, failed and postponed outcomes are recorded together, provider ids as they came",
        arguments: Backend.available)
    func mixedOutcomes(_ backend: Backend) async throws {
        let fixture = try await DeliveryFixture.make(backend)
        let ids = ["m_plain", "m_quote", "m_unicode", "m_nil", "m_retry", "m_failed", "m_postponed"]
        try await fixture.insert(ids.map { DeliveryFixture.message($0) })
        let now = DeliveryFixture.start.addingTimeInterval(60)
        let claimed = try await fixture.store.claimOutbox(owner: "host/1/a", now: now, leaseSeconds: 300, limit: 10)
        #expect(claimed.map(\.id).sorted() == ids.sorted())
        let providerIDs = [
            "m_plain": "rcv_1", "m_quote": #"a"b\c"#, "m_unicode": "ключ\u{2028}🙂",
        ]
        let later = now.addingTimeInterval(600)
        let outcomes: [(message: OutboxMessage, outcome: DeliveryOutcome)] = claimed.map { message in
            switch message.id {
            case "m_retry": return (message, .retry(at: later, reason: "503 from the provider"))
            case "m_failed": return (message, .failed(reason: "410 gone"))
            case "m_postponed": return (message, .postponed(at: later, reason: "rate limited"))
            default: return (message, .delivered(providerMessageID: providerIDs[message.id]))
            }
        }
        try await fixture.store.recordOutcomes(outcomes, at: now)

        for (id, providerID) in providerIDs {
            let record = try await fixture.record(id)
            #expect(record.status == .delivered && record.providerMessageId == providerID && record.leaseOwner == nil)
            #expect(record.deliveredAt == StoredInstant.millis(now))
            let attempts = try await fixture.attempts(id)
            #expect(attempts.map(\.outcome) == ["delivered"] && attempts.map(\.detail) == [providerID])
            #expect(attempts.map(\.attempt) == [1] && attempts.map(\.at) == [StoredInstant.millis(now)])
        }
        let plain = try await fixture.record("m_nil")
        #expect(plain.status == .delivered && plain.providerMessageId == nil)
        #expect(try await fixture.attempts("m_nil").map(\.detail) == [nil])
        let retry = try await fixture.record("m_retry")
        #expect(retry.status == .pending && retry.nextAttemptAt == StoredInstant.millis(later) && retry.leaseOwner == nil)
        #expect(try await fixture.attempts("m_retry").map(\.outcome) == ["retry"])
        #expect(try await fixture.record("m_failed").status == .failed)
        let postponed = try await fixture.record("m_postponed")
        #expect(postponed.status == .pending && postponed.attempts == 0 && postponed.leaseOwner == nil)
        #expect(try await fixture.attempts("m_postponed").isEmpty)
    }

    @Test(
        "when a batch cannot be recorded, the run stops and gives back the batch it claimed ahead, unsent and uncounted",
        arguments: Backend.available)
    func recordingFails(_ backend: Backend) async throws {
        let fixture = try await DeliveryFixture.make(backend)
        try await fixture.insert(["m1", "m2", "m3"].map { DeliveryFixture.message($0) })
        let adapter = CountingAdapter()
        let dispatcher = Dispatcher(
            outbox: FailingFirstRecord(fixture.store), adapters: [.email: adapter], owner: .current(nonce: "pipeline"),
            batchSize: 1, logger: DeliveryFixture.logger, clock: { DeliveryFixture.start.addingTimeInterval(60) },
            jitter: { 1 })
        await #expect(throws: RecordingFailed.self) { try await dispatcher.drain() }
        // m1 was sent, but its outcome could not be written: it stays leased, and goes to a later run as a retry.
        #expect(adapter.sent.withLock { $0 } == ["m1"])
        let m1 = try await fixture.record("m1")
        #expect(m1.status == .pending && m1.leaseOwner != nil && m1.attempts == 1)
        for id in ["m2", "m3"] {
            let record = try await fixture.record(id)
            #expect(record.status == .pending && record.leaseOwner == nil && record.attempts == 0, "\(id)")
        }
    }
}

struct RecordingFailed: Error {}

/// A store whose first `recordOutcomes` fails.
final class FailingFirstRecord: OutboxQueue {
    let store: any Store
    let failed = Mutex(false)

    init(_ store: any Store) { self.store = store }

    func releaseDeadLeases(isAlive: (String) -> Bool) async throws -> Int {
        try await store.releaseDeadLeases(isAlive: isAlive)
    }

    func claimOutbox(owner: String, now: Date, leaseSeconds: Double, limit: Int) async throws -> [OutboxMessage] {
        try await store.claimOutbox(owner: owner, now: now, leaseSeconds: leaseSeconds, limit: limit)
    }

    func renewLeases(ids: [String], owner: String, until: Date) async throws -> Int {
        try await store.renewLeases(ids: ids, owner: owner, until: until)
    }

    func recordOutcomes(_ outcomes: [(message: OutboxMessage, outcome: DeliveryOutcome)], at now: Date) async throws {
        if failed.withLock({ failed in defer { failed = true }; return !failed }) { throw RecordingFailed() }
        try await store.recordOutcomes(outcomes, at: now)
    }

    func nextPendingAttempt() async throws -> Date? { try await store.nextPendingAttempt() }
}

/// An adapter that accepts every message and notes its id.
final class CountingAdapter: ChannelAdapter {
    let sent = Mutex<[String]>([])

    func deliver(_ message: OutboundMessage) async throws -> DeliveryReceipt {
        sent.withLock { $0.append(message.id) }
        return DeliveryReceipt()
    }
}
