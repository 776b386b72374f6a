import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NudgeTestSupport
import NudgeLanguage
import NudgePostgres
import PostgresNIO
import Synchronization
import NudgeCore

#if canImport(Glibc)
    import Glibc
#endif

/// Delivery with 1, 2 and 4 `nudge run` processes sharing one PostgreSQL database, to a loopback webhook
/// receiver: the same broadcast each time (ledger and outbox emptied in between), once to a receiver that answers
/// 200 at once and once to one that answers after 25 ms, as a provider's API over the internet does.
///
/// The rate is the messages received over the time from the receiver's first arrival to its last: delivery only.
/// The runners plan one after the other under the planning lock (at 1M customers each plan takes seconds, most of
/// it finding the ledger already full), so a whole-process time would count planning several times over. With an
/// instant receiver on 2 cores, delivery is bound by the processor (runners, receiver and server share it); with
/// a receiver that takes its time, by each runner's `concurrency`, which is where more runners help.
func runnerScaling(label: String, nudge: String, project: URL, database: String, windowDays: Int, day0: Date) async throws {
    let received = Arrivals()
    let router = Router()
    router.post("/hook") { _, _ -> HTTPResponse.Status in
        received.add()
        return .ok
    }
    router.post("/slow-hook") { _, _ -> HTTPResponse.Status in
        try await Task.sleep(for: .milliseconds(25))
        received.add()
        return .ok
    }
    try await withLoopbackServer(router, label: "the benchmark's webhook receiver") { base in
        for (path, receiver) in [("/hook", "a loopback webhook"), ("/slow-hook", "a loopback webhook answering in 25 ms")] {
            try await measureRunners(
                label: label, nudge: nudge, project: project, database: database, windowDays: windowDays, day0: day0,
                webhook: base + path, receiver: receiver, received: received)
        }
    }
}

/// The 1, 2 and 4 runner measurements against `webhook`, which counts its requests in `received`.
func measureRunners(
    label: String, nudge: String, project: URL, database: String, windowDays: Int, day0: Date, webhook: String,
    receiver: String, received: Arrivals
) async throws {
    let directory = project.appendingPathComponent("runners")
    try? FileManager.default.removeItem(at: directory)
    for folder in ["Workflows", "Templates"] {
        try FileManager.default.createDirectory(at: directory.appendingPathComponent(folder), withIntermediateDirectories: true)
    }
    setenv("NUDGE_BENCH_WEBHOOK_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", 1)
    try """
        business: { name: Bench Café, timezone: UTC }
        channels:
          email: { provider: webhook, url: "\(webhook)", secret_env: NUDGE_BENCH_WEBHOOK_SECRET, concurrency: 32 }
        delivery:
          drain_window: 0s
        """.write(to: directory.appendingPathComponent("nudge.yaml"), atomically: true, encoding: .utf8)
    try """
        id: broadcast
        trigger: { signup: { days_after: 0 } }
        catch_up: \(windowDays)d
        actions:
          - send: { channel: email, template: news }
        """.write(to: directory.appendingPathComponent("Workflows/broadcast.yaml"), atomically: true, encoding: .utf8)
    try "---\nsubject: News from {{business.name}}\n---\n<p>Hi {{customer.first_name}}, new autumn menu!</p>\n"
        .write(to: directory.appendingPathComponent("Templates/news.email.mustache"), atomically: true, encoding: .utf8)

    let url = try DatabaseURL(parsing: database)
    var quiet = Logger(label: "nudge-bench")
    quiet.logLevel = .error
    let store = try await PostgresStore.connect(
        url, password: ProcessInfo.processInfo.environment["PGPASSWORD"], logger: quiet)
    var cells: [String] = []
    var broadcast = 0
    for runners in [1, 2, 4] {
        try await store.client.query("TRUNCATE ledger, outbox, delivery_attempt")
        received.reset()
        let children = (0..<runners).map { index in
            spawn(
                nudge, ["run", "--db", database, "--now", ISO8601.format(day0)], in: directory,
                errName: ".bench-runner-\(index)")
        }
        let results = children.map(finish)
        for result in results { check("runner", result) }
        let delivered = received.count
        broadcast = delivered
        // How the messages were shared: each runner's "delivered N" line.
        let shares = results.map { result in
            result.stderr.split(separator: "delivered ").dropFirst().first?.split(separator: ",").first.map(String.init) ?? "?"
        }
        cells.append(
            "\(runners) runner\(runners == 1 ? "" : "s") \(rate(delivered, received.window)) messages/s"
                + (runners == 1 ? "" : " (\(shares.joined(separator: "+")))"))
    }
    await store.close()
    print("[\(label)] delivery to \(receiver) (\(broadcast) messages): " + cells.joined(separator: ", "))
    try? FileManager.default.removeItem(at: directory)
}

/// Requests the receiver answered, and when the first and the last arrived.
final class Arrivals: Sendable {
    private struct State {
        var count = 0
        var first: ContinuousClock.Instant?
        var last: ContinuousClock.Instant?
    }

    private let state = Mutex(State())

    var count: Int { state.withLock { $0.count } }

    /// Seconds from the first arrival to the last.
    var window: Double {
        state.withLock { state in
            guard let first = state.first, let last = state.last else { return 0 }
            let duration = first.duration(to: last)
            return Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        }
    }

    func add() {
        let now = ContinuousClock.now
        state.withLock { state in
            state.count += 1
            if state.first == nil { state.first = now }
            state.last = now
        }
    }

    func reset() { state.withLock { $0 = State() } }
}
