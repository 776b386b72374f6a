import Foundation
import NudgeDelivery
import NudgeProviders
import NudgeLanguage
import NudgeStore
import Synchronization
import NudgeTestSupport
import Testing
import NudgeCore

@Suite("Outbox leases")
struct LeaseTests {
    /// The owner text of a process of this host that has exited.
    static func deadOwner() throws -> String {
        let process = try ChildProcess("/bin/true", [])
        _ = process.wait(timeout: 60)
        return "\(ProcessInfo.processInfo.hostName)/\(process.pid)/crashed"
    }

    @Test("a claimed message is not claimed by another owner until its lease expires", arguments: Backend.available)
    func leaseExpiry(_ backend: Backend) async throws {
        let fixture = try await DeliveryFixture.make(backend)
        try await fixture.insert([DeliveryFixture.message("msg_1"), DeliveryFixture.message("msg_2")])
        let start = DeliveryFixture.start
        let first = try await fixture.store.claimOutbox(owner: "host-a/1/a", now: start, leaseSeconds: 60, limit: 1)
        #expect(first.map(\.id) == ["msg_1"])
        #expect(first.first?.leaseOwner == "host-a/1/a" && first.first?.attempts == 1)

        let second = try await fixture.store.claimOutbox(owner: "host-b/2/b", now: start, leaseSeconds: 60, limit: 10)
        #expect(second.map(\.id) == ["msg_2"])
        #expect(try await fixture.store.claimOutbox(owner: "host-b/2/b", now: start.addingTimeInterval(59.999), leaseSeconds: 60, limit: 10).isEmpty)

        let expired = try await fixture.store.claimOutbox(
            owner: "host-c/3/c", now: start.addingTimeInterval(60), leaseSeconds: 60, limit: 10)
        #expect(expired.map(\.id) == ["msg_1", "msg_2"])
        #expect(expired.map(\.attempts) == [2, 2])
        #expect(expired.allSatisfy { $0.leaseOwner == "host-c/3/c" })
    }

    @Test("a dispatcher leaves a running owner's messages alone until the lease expires", arguments: Backend.available)
    func liveOwner(_ backend: Backend) async throws {
        let fixture = try await DeliveryFixture.make(backend)
        try await fixture.insert([DeliveryFixture.message("msg_1")])
        let other = LeaseOwner.current(nonce: "other-run").description
        _ = try await fixture.store.claimOutbox(owner: other, now: DeliveryFixture.start, leaseSeconds: 300, limit: 10)
        let adapter = ScriptedAdapter()
        let clock = TestClock()
        let dispatcher = fixture.dispatcher([.email: adapter], clock: clock)

        #expect(try await dispatcher.drain() == DispatchSummary())
        #expect(try await fixture.record("msg_1").leaseOwner == other)
        clock.advance(by: 299)
        #expect(try await dispatcher.drain() == DispatchSummary())

        clock.advance(by: 1)
        #expect(try await dispatcher.drain().delivered == 1)
        #expect(adapter.calls.map(\.id) == ["msg_1"])
        #expect(adapter.calls.first?.isRetry == true)
        #expect(try await fixture.record("msg_1").attempts == 2)
    }

    @Test("a dead owner's lease is released at once and its message delivered", arguments: Backend.available)
    func deadOwner(_ backend: Backend) async throws {
        let fixture = try await DeliveryFixture.make(backend)
        try await fixture.insert([DeliveryFixture.message("msg_1"), DeliveryFixture.message("msg_2")])
        let dead = try Self.deadOwner()
        #expect(!LeaseOwner.isAlive(dead))
        _ = try await fixture.store.claimOutbox(owner: dead, now: DeliveryFixture.start, leaseSeconds: 300, limit: 1)
        let adapter = ScriptedAdapter()
        let summary = try await fixture.dispatcher([.email: adapter], clock: TestClock()).drain()
        #expect(summary.delivered == 2)
        #expect(try await fixture.ids(.delivered) == ["msg_1", "msg_2"])
        #expect(try await fixture.record("msg_1").attempts == 2)
    }

    @Test("releaseDeadLeases clears only the leases of owners that are gone", arguments: Backend.available)
    func releaseOnlyDead(_ backend: Backend) async throws {
        let fixture = try await DeliveryFixture.make(backend)
        try await fixture.insert([DeliveryFixture.message("msg_1"), DeliveryFixture.message("msg_2")])
        let dead = try Self.deadOwner()
        let alive = LeaseOwner.current(nonce: "alive").description
        _ = try await fixture.store.claimOutbox(owner: dead, now: DeliveryFixture.start, leaseSeconds: 300, limit: 1)
        _ = try await fixture.store.claimOutbox(owner: alive, now: DeliveryFixture.start, leaseSeconds: 300, limit: 1)
        #expect(try await fixture.store.releaseDeadLeases(isAlive: LeaseOwner.isAlive) == 1)
        #expect(try await fixture.record("msg_1").leaseOwner == nil)
        #expect(try await fixture.record("msg_2").leaseOwner == alive)
    }

    @Test("a file line written before a crash is not written again when the message is taken over", arguments: Backend.available)
    func fileRecovery(_ backend: Backend) async throws {
        let fixture = try await DeliveryFixture.make(backend)
        try await fixture.insert([DeliveryFixture.message("msg_1"), DeliveryFixture.message("msg_2")])
        let path = fixture.directory.appendingPathComponent("outbox/email.jsonl").path
        let file = FileAdapter(path: path)
        // The crashed run claimed both and wrote msg_1's line, then died before recording it.
        let claimed = try await fixture.store.claimOutbox(
            owner: try Self.deadOwner(), now: DeliveryFixture.start, leaseSeconds: 300, limit: 10)
        _ = try await file.deliver(OutboundMessage(record: claimed[0], sentAt: DeliveryFixture.start))

        let summary = try await fixture.dispatcher([.email: file], clock: TestClock()).drain()
        #expect(summary.delivered == 2 && summary.recovered == 1)
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines[0].hasPrefix(#"{"id":"msg_1","#) && lines[1].hasPrefix(#"{"id":"msg_2","#))
        #expect(try await fixture.record("msg_1").providerMessageId == "already-written")
    }

    /// An adapter that takes longer than the lease: the clock jumps past the lease's end, the run is given time to
    /// renew it (up to 20 s of wall time, however loaded the machine), and another owner tries to take the message
    /// over before the delivery finishes.
    final class SlowAdapter: ChannelAdapter {
        let fixture: DeliveryFixture
        let clock: TestClock
        let lease: Double
        let takenOver = Mutex<[String]>([])

        init(fixture: DeliveryFixture, clock: TestClock, lease: Double) {
            self.fixture = fixture
            self.clock = clock
            self.lease = lease
        }

        func deliver(_ message: OutboundMessage) async throws -> DeliveryReceipt {
            clock.advance(by: 2 * lease)
            try await LeaseTests.wait(seconds: 20) {
                try await fixture.record(message.id).leaseExpiresAt ?? 0 > StoredInstant.millis(clock.now)
            }
            let stolen = try await fixture.store.claimOutbox(
                owner: "host-b/2/b", now: clock.now, leaseSeconds: lease, limit: 10)
            takenOver.withLock { $0 += stolen.map(\.id) }
            return DeliveryReceipt()
        }
    }

    /// Polls `condition` every 20 ms for at most `seconds` of wall time.
    static func wait(seconds: Double, until condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while try await !condition(), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
    }

    @Test("a delivery that outlasts its lease renews it, so an overlapping run cannot take the message over", arguments: Backend.available)
    func renewal(_ backend: Backend) async throws {
        let fixture = try await DeliveryFixture.make(backend)
        try await fixture.insert([DeliveryFixture.message("msg_1")])
        let clock = TestClock()
        let adapter = SlowAdapter(fixture: fixture, clock: clock, lease: 0.6)
        let summary = try await fixture.dispatcher([.email: adapter], clock: clock, leaseSeconds: 0.6).drain()
        #expect(summary.delivered == 1)
        #expect(adapter.takenOver.withLock { $0 }.isEmpty)
        #expect(try await fixture.record("msg_1").status == .delivered)
    }

    @Test(
        "a batch claimed ahead keeps its lease while the one before it is delivered, so no message is sent by two runs",
        arguments: Backend.available)
    func claimedAhead(_ backend: Backend) async throws {
        let fixture = try await DeliveryFixture.make(backend)
        try await fixture.insert([DeliveryFixture.message("msg_1"), DeliveryFixture.message("msg_2")])
        let clock = TestClock()
        let adapter = AheadAdapter(fixture: fixture, clock: clock, lease: 0.6)
        let summary = try await fixture.dispatcher([.email: adapter], clock: clock, batchSize: 1, leaseSeconds: 0.6).drain()
        let delivered = adapter.delivered.withLock { $0 }
        let takenOver = adapter.takenOver.withLock { $0 }
        #expect(Set(delivered).isDisjoint(with: takenOver))
        #expect(summary.delivered == delivered.count && delivered.count + takenOver.count == 2)
        // This dispatcher claims msg_2 while it delivers msg_1, and holds on to it.
        #expect(delivered == ["msg_1", "msg_2"])
    }

    /// An adapter that, while it delivers msg_1, waits until its run holds msg_2 as well, moves the clock past that
    /// lease's end, gives the run time to renew it (up to 20 s), and lets another owner try to take msg_2 over.
    final class AheadAdapter: ChannelAdapter {
        let fixture: DeliveryFixture
        let clock: TestClock
        let lease: Double
        let takenOver = Mutex<[String]>([])
        let delivered = Mutex<[String]>([])

        init(fixture: DeliveryFixture, clock: TestClock, lease: Double) {
            self.fixture = fixture
            self.clock = clock
            self.lease = lease
        }

        func deliver(_ message: OutboundMessage) async throws -> DeliveryReceipt {
            delivered.withLock { $0.append(message.id) }
            guard message.id == "msg_1" else { return DeliveryReceipt() }
            try await LeaseTests.wait(seconds: 20) { try await fixture.record("msg_2").leaseOwner != nil }
            clock.advance(by: 2 * lease)
            try await LeaseTests.wait(seconds: 20) {
                try await fixture.record("msg_2").leaseExpiresAt ?? 0 > StoredInstant.millis(clock.now)
            }
            let stolen = try await fixture.store.claimOutbox(
                owner: "host-b/2/b", now: clock.now, leaseSeconds: lease, limit: 10)
            takenOver.withLock { $0 += stolen.map(\.id) }
            return DeliveryReceipt()
        }
    }

    @Test(
        "only a vanished process of this host counts as dead",
        arguments: [
            (LeaseOwner.current(nonce: "n").description, true),
            ("some-other-host/1/n", true),
            ("not an owner", true),
            ("\(ProcessInfo.processInfo.hostName)/1/n", true),
        ])
    func liveness(owner: String, isAlive: Bool) {
        #expect(LeaseOwner.isAlive(owner) == isAlive)
    }
}
