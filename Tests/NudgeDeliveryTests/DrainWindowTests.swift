import Foundation
import NudgeDelivery
import NudgeEngine
import NudgeLanguage
import NudgeStore
import NudgeTestSupport
import Testing
import NudgeCore

/// `delivery.drain_window`: a one-off run waits for retries that fall due soon instead of leaving them to the next
/// run, which may be a whole timer interval away.
@Suite("Drain window")
struct DrainWindowTests {
    static func run(
        _ backend: Backend, window: TimeInterval, retryAfter: TimeInterval = 1
    ) async throws -> (Runner.Report, DeliveryFixture, ScriptedAdapter) {
        let fixture = try await DeliveryFixture.make(backend)
        let setup = try WebhookProject(fixture: fixture, url: "http://127.0.0.1:9/unused")
        let clock = TestClock()
        let now = clock.now
        try await setup.addCustomer("c1", name: "Ana Lima", signedUp: now.addingTimeInterval(-60))
        let adapter = ScriptedAdapter()
        // The provider asks to wait once (a 429 with Retry-After), then takes the message.
        adapter.script("msg_0001", .failure(.postponed("429: slow down", retryAfter: retryAfter)), .success(DeliveryReceipt()))
        let dispatcher = fixture.dispatcher([.email: adapter], clock: clock)
        let ids = SequentialIDs()
        var runner = Runner(
            planner: setup.planner, dispatcher: dispatcher, logger: DeliveryFixture.logger, newID: { ids() },
            drainWindow: window)
        // Waiting moves the test clock: no test here depends on how fast the machine is.
        runner.sleep = { seconds in clock.advance(by: seconds) }
        return (try await runner.once(now: now), fixture, adapter)
    }

    @Test("a retry due within the window is sent by the same run", arguments: Backend.available)
    func waitsForSoonRetries(_ backend: Backend) async throws {
        let (report, fixture, adapter) = try await Self.run(backend, window: 60)
        #expect(report.dispatched.delivered == 1)
        #expect(report.dispatched.retrying == 0)
        #expect(try await fixture.ids(.delivered) == ["msg_0001"])
        #expect(adapter.calls.count == 2)
    }

    @Test("with no window the retry is left to the next run", arguments: Backend.available)
    func leavesRetriesWithoutWindow(_ backend: Backend) async throws {
        let (report, fixture, adapter) = try await Self.run(backend, window: 0)
        #expect(report.dispatched.delivered == 0)
        #expect(report.dispatched.retrying == 1)
        #expect(try await fixture.ids(.pending) == ["msg_0001"])
        #expect(adapter.calls.count == 1)
    }

    @Test("a retry due after the window is left to the next run", arguments: Backend.available)
    func leavesLateRetries(_ backend: Backend) async throws {
        let (report, _, adapter) = try await Self.run(backend, window: 5, retryAfter: 60)
        #expect(report.dispatched.retrying == 1)
        #expect(adapter.calls.count == 1)
    }
}
