import Foundation
import NudgeLanguage
import NudgePostgres
import NudgeStore
import NudgeTestSupport
import PostgresNIO
import Testing
import NudgeCore

#if canImport(Glibc)
    import Glibc
#endif

/// Several `nudge run` processes on one PostgreSQL database share the work, and a runner killed mid-delivery
/// loses nothing.
@Suite("Runners sharing one PostgreSQL database", .serialized, .enabled(if: PostgresServer.isAvailable))
struct SharedRunnersTests {
    static let count = 20_000
    static let batchSize = 250
    static let now = "2026-11-25T15:00:00Z"

    /// A project whose one workflow welcomes every customer who signed up in the last day, by webhook.
    static func project(in directory: URL, database: DatabaseURL, webhook: String) throws {
        let files = [
            "nudge.yaml": """
                business: { name: Runner Café, timezone: UTC }
                database: \(database)
                channels:
                  email: { provider: webhook, url: "\(webhook)", secret_env: NUDGE_TEST_WEBHOOK_SECRET, concurrency: 16 }
                delivery:
                  drain_window: 30s
                """,
            "Workflows/welcome.yaml": """
                id: welcome
                trigger: { signup: { days_after: 0 } }
                catch_up: 2d
                actions: [ { send: { channel: email, template: welcome } } ]
                """,
            "Templates/welcome.email.mustache": "---\nsubject: Welcome {{customer.first_name}}\n---\n<p>Hello {{customer.name}}</p>\n",
        ]
        for (path, text) in files {
            let url = directory.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        var csv = "id,name,email,signed_up_at,email_opt_in\n"
        let start = try #require(ISO8601.parse("2026-11-24T16:00:00Z", zone: .gmt))
        for i in 0..<count {
            csv += "c\(i),Guest \(i),c\(i)@example.com,\(ISO8601.format(start.addingTimeInterval(Double(i) * 3.6))),yes\n"
        }
        try csv.write(to: directory.appendingPathComponent("customers.csv"), atomically: true, encoding: .utf8)
    }

    /// `nudge ARGUMENTS --project DIRECTORY`, started without waiting; stderr goes to `log`.
    static func start(_ arguments: [String], in directory: URL, log: URL) throws -> ChildProcess {
        try ChildProcess(
            CommandTests.executable.path, arguments + ["--project", directory.path],
            environment: ProcessInfo.processInfo.environment.merging(
                ["NUDGE_TEST_WEBHOOK_SECRET": FakeWebhookReceiver.secret]) { $1 },
            error: .file(log.path))
    }

    @Test("4 runners at once on 20,000 due occurrences, one killed mid-way: every message arrives, none twice but the killed batch")
    func fourRunners() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("nudge-runners-\(UUID().uuidString)")
        let url = try await PostgresServer.freshDatabase()
        try await FakeWebhookReceiver.with { receiver, webhook in
            try Self.project(in: directory, database: url, webhook: webhook)
            let imported = try Self.start(
                ["import", "customers", directory.appendingPathComponent("customers.csv").path], in: directory,
                log: directory.appendingPathComponent("import.log"))
            #expect(try await imported.wait() == .init(status: 0, signalled: false))

            let logs = (0..<4).map { directory.appendingPathComponent("runner-\($0).log") }
            let runners = try logs.map {
                try Self.start(["run", "--now", Self.now, "--batch-size", "\(Self.batchSize)"], in: directory, log: $0)
            }
            // Kill the first runner once a quarter of the messages has arrived.
            let deadline = ContinuousClock.now + .seconds(300)
            while receiver.received.count < Self.count / 4, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            runners[0].send(SIGKILL)
            var ended: [ChildProcess.Termination] = []
            for runner in runners { ended.append(try await runner.wait()) }
            #expect(ended[0].signalled)
            for end in ended.dropFirst() { #expect(end == .init(status: 0, signalled: false)) }

            // The database: one ledger row and one delivered message per occurrence.
            let store = try await PostgresStore.connect(url, password: nil, logger: PostgresServer.logger)
            let summary = try await store.outboxSummary()
            #expect(summary.map { "\($0.channel ?? "-") \($0.state) \($0.count)" } == ["email delivered \(Self.count)"])
            var ids = Set<String>()
            for try await id in try await store.client.query("SELECT id FROM outbox").decode(String.self) { ids.insert(id) }
            for try await ledger in try await store.client.query("SELECT count(*) FROM ledger").decode(Int64.self) {
                #expect(ledger == Int64(Self.count))
            }
            await store.close()

            // The receiver: every outbox id arrived; a second arrival only for what the killed runner had in flight.
            let arrivals = receiver.accepted.compactMap(\.id)
            #expect(Set(arrivals) == ids)
            #expect(ids.count == Self.count)
            let repeated = arrivals.count - Set(arrivals).count
            #expect(repeated <= Self.batchSize, "\(repeated) messages arrived twice")
            #expect(receiver.received.count == receiver.accepted.count, "every request was signed correctly")

            // The work spread: more than one surviving runner delivered.
            let delivered = try logs.dropFirst().map { log -> Int in
                let text = try String(contentsOf: log, encoding: .utf8)
                let line = text.split(separator: "\n").first { $0.hasPrefix("run at") } ?? ""
                return Int(line.split(separator: "delivered ").dropFirst().first?.split(separator: ",").first ?? "") ?? 0
            }
            #expect(delivered.filter { $0 > 0 }.count >= 2, "deliveries per surviving runner: \(delivered)")
            print("shared runners: surviving runners delivered \(delivered), \(repeated) re-sent after the kill")
        }
        try await PostgresServer.drop(url)
        try? FileManager.default.removeItem(at: directory)
    }
}
