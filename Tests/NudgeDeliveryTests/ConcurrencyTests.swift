import Foundation
import HTTPTypes
import Hummingbird
import NudgeDelivery
import NudgeProviders
import NudgeTestSupport
import Synchronization
import Testing

@Suite("Concurrent requests to one provider")
struct ConcurrencyTests {
    @Test("'concurrency: 24' puts 24 requests in flight at once to one host, beyond the HTTP client's default 8")
    func inFlight() async throws {
        let gate = Gate(expected: 24)
        let router = Router()
        router.post("/hook") { _, _ -> HTTPResponse.Status in
            await gate.arrive()
            return .ok
        }
        try await withLoopbackServer(router, label: "the concurrency test's receiver") { base in
            try await withHTTPClient { client in
                let adapter = WebhookAdapter(
                    url: base + "/hook", secret: FakeWebhookReceiver.secret, client: client, concurrency: 24)
                let results = await adapter.deliver(batch: (1...24).map { outbound("msg_c\($0)") })
                #expect(results.allSatisfy { if case .success = $0 { true } else { false } })
            }
        }
        #expect(gate.most == 24, "at most \(gate.most) requests were in flight at once")
    }
}

/// Holds each request until `expected` are in flight together (or, when they never are, for at most 5 s), and
/// keeps the most that were.
final class Gate: Sendable {
    private struct State {
        var inFlight = 0
        var most = 0
    }

    private let state = Mutex(State())
    let expected: Int

    init(expected: Int) { self.expected = expected }

    var most: Int { state.withLock { $0.most } }

    func arrive() async {
        state.withLock { state in
            state.inFlight += 1
            state.most = max(state.most, state.inFlight)
        }
        for _ in 0..<500 where most < expected {
            try? await Task.sleep(for: .milliseconds(10))
        }
        state.withLock { $0.inFlight -= 1 }
    }
}
