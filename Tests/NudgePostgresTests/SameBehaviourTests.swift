import Foundation
import Logging
import NudgeDelivery
import NudgeEngine
import NudgeLanguage
import NudgeProviders
import NudgePostgres
import NudgeStore
import PostgresNIO
import NudgeTestSupport
import Testing
import NudgeCore

/// The same data and the same `--now` give the same plan, the same deliveries and the same reports on SQLite and
/// PostgreSQL.
@Suite("PostgreSQL behaves as SQLite", .serialized, .enabled(if: PostgresServer.isAvailable))
struct SameBehaviourTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Both stores loaded from the same CSV files.
    static func loaded(count: Int = 600) async throws -> (AppDatabase, PostgresStore, DatabaseURL, URL) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("nudge-pg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let files = try SyntheticCSV(count: count).write(to: directory)
        let sqlite = try AppDatabase.open(path: directory.appendingPathComponent("nudge.sqlite").path)
        let (postgres, url) = try await PostgresServer.freshStore()
        let options = ImportOptions(
            defaultZone: TimeZone(identifier: "America/New_York")!, now: Date(timeIntervalSince1970: 1_764_000_000),
            displayPath: "x.csv")
        for kind in [ImportKind.customers, .visits, .offers, .progress] {
            let path = try #require(files[kind.rawValue])
            let a = try sqlite.importCSV(kind, path: path, options: options)
            let b = try await postgres.importCSV(kind, path: path, options: options)
            #expect(a.rows == b.rows)
        }
        return (sqlite, postgres, url, directory)
    }

    static func project() throws -> Project {
        let (project, diagnostics) = Project.load(directory: repository.path, providers: Providers.catalog)
        return try #require(project, "\(diagnostics)")
    }

    @Test("dry-runs of the example project are the same, day after day")
    func samePlans() async throws {
        let (sqlite, postgres, url, _) = try await Self.loaded()
        let project = try Self.project()
        var planned = 0
        for day in 0..<12 {
            for hour in [3, 15] {
                let now = Date(timeIntervalSince1970: 1_795_608_000 + Double(day) * 86_400 + Double(hour - 12) * 3600)
                let a = try await Planner(project: project, store: sqlite).plan(now: now, render: true)
                let b = try await Planner(project: project, store: postgres).plan(now: now, render: true)
                #expect(a.messages.map { $0.jsonLine(includeRendered: true) } == b.messages.map { $0.jsonLine(includeRendered: true) })
                #expect((a.candidates, a.alreadySent, a.filteredOut) == (b.candidates, b.alreadySent, b.filteredOut))
                planned += a.messages.count
            }
        }
        #expect(planned > 100, "the synthetic data has people due")
        await postgres.close()
        try await PostgresServer.drop(url)
    }

    @Test("runs commit, deliver and report the same, and a second run plans nothing")
    func sameRuns() async throws {
        let (sqlite, postgres, url, directory) = try await Self.loaded()
        let project = try Self.project()
        let now = Date(timeIntervalSince1970: 1_795_608_000 + 3 * 86_400)
        var reports: [[String]] = []
        for (name, store) in [("sqlite", sqlite as any Store), ("postgres", postgres as any Store)] {
            let adapter = RecordingAdapter()
            var logger = Logger(label: "test")
            logger.logLevel = .critical
            let counter = Counter()
            let runner = Runner(
                planner: Planner(project: project, store: store),
                dispatcher: Dispatcher(
                    outbox: store, adapters: Dictionary(uniqueKeysWithValues: Channel.allCases.map { ($0, adapter as any ChannelAdapter) }),
                    owner: .current(nonce: name), logger: logger, clock: { now }),
                logger: logger, newID: { "msg_\(counter.next())" })
            let first = try await runner.once(now: now)
            #expect(first.committed.pendingIDs.count > 0)
            #expect(first.dispatched.delivered == first.committed.pendingIDs.count)
            #expect(adapter.ids.count == first.committed.pendingIDs.count)
            #expect(Set(adapter.ids).count == adapter.ids.count, "delivered once each")
            let second = try await runner.once(now: now)
            #expect(second.committed.pendingIDs.isEmpty && second.committed.suppressed == 0)
            #expect(second.committed.plan.alreadySent == first.committed.plan.messages.map { "\($0.workflowID)/\($0.customerID)/\($0.occurrence)" }.reduce(into: Set<String>()) { $0.insert($1) }.count)
            let summary = try await store.outboxSummary().map { "\($0.channel ?? "-") \($0.state) \($0.count)" }
            let customer = try #require(first.committed.plan.messages.first?.customerID)
            let history = try await store.history(customerID: customer).map {
                "\($0.message.id) \($0.message.status.rawValue) \($0.attempts.map(\.outcome))"
            }
            // The segments counted alike, and the run recorded the same entries of the segment vip-welcome watches.
            let counts = try await SegmentCensus(config: project.config, store: store, now: now).counts()
                .map { "\($0.segment.name) \($0.count)" }
            let entries = try await store.segmentEntries(segment: "vip").sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
            reports.append(summary + history + adapter.ids.sorted() + counts + entries)
        }
        #expect(reports[0] == reports[1])
        #expect(reports[0].contains { $0.hasSuffix(" 2026-11-28") }, "someone entered vip")
        await postgres.close()
        try await PostgresServer.drop(url)
        try? FileManager.default.removeItem(at: directory)
    }

    @Test("ids that look like numbers stay as written through a re-import, and absent columns are kept")
    func textKeys() async throws {
        let (postgres, url) = try await PostgresServer.freshStore()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("nudge-pg-keys-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let first = directory.appendingPathComponent("first.csv").path
        let second = directory.appendingPathComponent("second.csv").path
        try "id,name,email,signed_up_at,email_opt_in\n007,Bond,bond@example.com,2026-01-01,yes\n7,Seven,,2026-01-02,no\n"
            .write(toFile: first, atomically: true, encoding: .utf8)
        try "id,signed_up_at\n007,2026-01-03\n".write(toFile: second, atomically: true, encoding: .utf8)
        let options = ImportOptions(defaultZone: TimeZone(identifier: "UTC")!, now: Date(), displayPath: "x.csv")
        _ = try await postgres.importCSV(.customers, path: first, options: options)
        _ = try await postgres.importCSV(.customers, path: second, options: options)
        let bond = try #require(try await postgres.customer(id: "007"))
        #expect(bond.name == "Bond" && bond.email == "bond@example.com" && bond.isEmailOptIn)
        #expect(bond.signedUpAt == ISO8601.parse("2026-01-03T00:00:00Z", zone: .gmt))
        #expect(try await postgres.customer(id: "7")?.name == "Seven")
        for try await count in try await postgres.client.query("SELECT count(*) FROM customer").decode(Int64.self) {
            #expect(count == 2)
        }
        await postgres.close()
        try await PostgresServer.drop(url)
        try? FileManager.default.removeItem(at: directory)
    }

    @Test("text sorts byte by byte as on SQLite, even in a database whose default collation is ICU's en-US")
    func byteOrder() async throws {
        let (postgres, url) = try await PostgresServer.freshStore(
            options: "TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'")
        let sqlite = try AppDatabase.inMemory()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("nudge-pg-order-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("customers.csv").path
        // en-US would sort a-2, a1, a2, B1 (case and punctuation aside); bytes sort B1, a-2, a1, a2.
        try "id,name,phone,signed_up_at\na1,A,+15550001111,2026-01-01\nB1,B,+15550001111,2026-01-01\na-2,C,+15550001111,2026-01-01\na2,D,+15550001111,2026-01-01\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        let options = ImportOptions(defaultZone: TimeZone(identifier: "UTC")!, now: Date(), displayPath: "customers.csv")
        _ = try sqlite.importCSV(.customers, path: path, options: options)
        _ = try await postgres.importCSV(.customers, path: path, options: options)
        let expected = ["B1", "a-2", "a1", "a2"]
        #expect(try sqlite.customerIDs(phone: "+15550001111") == expected)
        #expect(try await postgres.customerIDs(phone: "+15550001111") == expected)
        await postgres.close()
        try await PostgresServer.drop(url)
        try? FileManager.default.removeItem(at: directory)
    }

    @Test("a file with a bad row is rejected whole with the same messages, nothing written")
    func rejectedImport() async throws {
        let (sqlite, postgres, url, directory) = try await Self.loaded(count: 50)
        let path = directory.appendingPathComponent("bad.csv").path
        try "customer_id,visited_at,amount\nc1,2026-01-02,3.50\nnobody,2026-01-02,1\nc2,yesterday,2\n".write(
            toFile: path, atomically: true, encoding: .utf8)
        let options = ImportOptions(defaultZone: TimeZone(identifier: "UTC")!, now: Date(), displayPath: "bad.csv")
        let before = try await postgres.history(customerID: "c1").count
        var messages: [String] = []
        do {
            _ = try sqlite.importCSV(.visits, path: path, options: options)
        } catch let error as ImportRejected { messages.append(error.description) }
        do {
            _ = try await postgres.importCSV(.visits, path: path, options: options)
        } catch let error as ImportRejected { messages.append(error.description) }
        #expect(messages.count == 2)
        #expect(messages.first == messages.last)
        #expect(messages.first?.contains("bad.csv:3:") == true)
        let visits = try await postgres.client.query("SELECT count(*) FROM visit WHERE visited_at = \(Int64(1_767_312_000_000))")
        for try await count in visits.decode(Int64.self) { #expect(count == 0) }
        #expect(try await postgres.history(customerID: "c1").count == before)
        await postgres.close()
        try await PostgresServer.drop(url)
    }
}

/// Accepts every message and records its id.
final class RecordingAdapter: ChannelAdapter, @unchecked Sendable {
    private let lock = NSLock()
    private var delivered: [String] = []

    var ids: [String] { lock.withLock { delivered } }

    func deliver(_ message: OutboundMessage) async throws -> DeliveryReceipt {
        lock.withLock { delivered.append(message.id) }
        return DeliveryReceipt(providerMessageID: "p-" + message.id)
    }
}

/// Sequential ids, so both stores' runs name their messages alike.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0

    func next() -> Int { lock.withLock { value += 1; return value } }
}
