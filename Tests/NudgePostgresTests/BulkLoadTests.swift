import Foundation
import Logging
@testable import NudgePostgres
import NudgeStore
import NudgeCore
import NudgeTestSupport
import PostgresNIO
import Synchronization
import Testing

/// Large files load in bulk on PostgreSQL: the secondary indexes and foreign keys of the tables they fill are
/// dropped and made again, and an empty table is copied straight into. The rows must be those of a row-by-row
/// load, and the schema must be the one the migrations made.
@Suite("Bulk loads on PostgreSQL", .serialized, .enabled(if: PostgresServer.isAvailable))
struct BulkLoadTests {
    /// Every table an import writes, each row as PostgreSQL prints it, in key order.
    static func contents(_ store: PostgresStore) async throws -> [String: [String]] {
        var tables: [String: [String]] = [:]
        for table in ["customer", "customer_activity", "customer_zone", "visit", "offer", "progress"] {
            let rows = try await store.client.query(PostgresQuery(unsafeSQL: "SELECT t::text FROM \(table) t ORDER BY 1"))
            var texts: [String] = []
            for try await text in rows.decode(String.self) { texts.append(text) }
            tables[table] = texts
        }
        return tables
    }

    /// The indexes and constraints of the schema, as the catalog defines them.
    static func schema(_ store: PostgresStore) async throws -> [String] {
        let rows = try await store.client.query(
            """
            SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema()
            UNION ALL
            SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid)
            FROM pg_constraint WHERE connamespace = current_schema()::regnamespace
            ORDER BY 1
            """)
        var definitions: [String] = []
        for try await definition in rows.decode(String.self) { definitions.append(definition) }
        return definitions
    }

    @Test("files loaded in bulk, first into empty tables and then over their rows, leave the rows and schema of a row-by-row load")
    func sameAsRowByRow() async throws {
        let messages = Messages()
        var logger = Logger(label: "nudge.postgres.tests") { _ in messages }
        logger.logLevel = .debug
        let (bulk, bulkURL) = try await PostgresServer.freshStore(
            bulkLoad: .init(minimumRows: 0, shareOfTable: 0), logger: logger)
        let (rowByRow, rowURL) = try await PostgresServer.freshStore(bulkLoad: .init(minimumRows: .max))
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("nudge-pg-bulk-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let options = ImportOptions(
            defaultZone: TimeZone(identifier: "America/New_York")!, now: Date(timeIntervalSince1970: 1_764_000_000),
            displayPath: "x.csv")
        let files = try SyntheticCSV(count: 300).write(to: directory)
        let schema = try await Self.schema(rowByRow)
        #expect(schema.contains { $0.contains("FOREIGN KEY (customer_id) REFERENCES customer(id)") })

        // First loads: empty tables, copied straight in.
        for kind in [ImportKind.customers, .offers, .visits, .progress] {
            let path = try #require(files[kind.rawValue])
            _ = try await bulk.importCSV(kind, path: path, options: options)
            _ = try await rowByRow.importCSV(kind, path: path, options: options)
        }
        #expect(try await Self.contents(bulk) == Self.contents(rowByRow))
        #expect(try await Self.schema(bulk) == schema)
        #expect(messages.bulkTables.contains("customer"))
        #expect(messages.bulkTables.contains("visit,customer_activity"))
        #expect(messages.bulkTables.contains("progress"))

        // Then files over those rows: changed customers (an opt-out made through Nudge outlives the file's
        // opt-in), new and repeated visits with other amounts, progress moved on.
        let at = Date(timeIntervalSince1970: 1_764_000_000)
        let unsubscribe = DeliveryEvent(
            provider: "test", eventID: "e1", customerID: "c1", channel: "email", kind: .unsubscribed, at: at)
        let optOut = ConsentChange(customerID: "c1", channel: "email", optIn: false, reason: "unsubscribed")
        for store in [bulk, rowByRow] { _ = try await store.record(unsubscribe, consent: [optOut], receivedAt: at) }
        let customers = directory.appendingPathComponent("customers-2.csv").path
        try "id,name,email,signed_up_at,email_opt_in\nc1,Renamed,c1@example.com,2025-01-01,yes\nc2,Two,,2025-02-01,no\nnew1,New,new@example.com,2025-03-01,yes\n"
            .write(toFile: customers, atomically: true, encoding: .utf8)
        let visits = directory.appendingPathComponent("visits-2.csv").path
        try "customer_id,visited_at,amount\nc1,2026-01-02,3.50\nnew1,2026-01-03,7\nc2,2026-01-04,1\n"
            .write(toFile: visits, atomically: true, encoding: .utf8)
        let progress = directory.appendingPathComponent("progress-2.csv").path
        try "customer_id,offer_id,stamps\nc1,coffee,9\nnew1,pastry,2\n".write(toFile: progress, atomically: true, encoding: .utf8)
        for (kind, path) in [(ImportKind.customers, customers), (.visits, visits), (.progress, progress)] {
            _ = try await bulk.importCSV(kind, path: path, options: options)
            _ = try await rowByRow.importCSV(kind, path: path, options: options)
        }
        let after = try await Self.contents(bulk)
        #expect(after == (try await Self.contents(rowByRow)))
        #expect(after["customer"]?.contains { $0.hasPrefix("(c1,Renamed,c1@example.com,") && $0.contains(",f,") } == true)
        #expect(try await Self.schema(bulk) == schema)

        await bulk.close()
        await rowByRow.close()
        try await PostgresServer.drop(bulkURL)
        try await PostgresServer.drop(rowURL)
    }

    @Test("the customers a visits or progress file names are read a page at a time, with their zones")
    func knownCustomers() async throws {
        let (store, url) = try await PostgresServer.freshStore()
        try await ImportFiles().load(
            .customers,
            "id,timezone,signed_up_at\nc1,Asia/Tokyo,2025-01-01\nc2,,2025-01-01\nc3,Europe/Lisbon,2025-01-01\n"
                + (4...20).map { "c\($0),Asia/Tokyo,2025-01-01\n" }.joined(),
            into: store)
        let ids = (1...20).map { "c\($0)" }
        // 20 customers in pages of 3 and of 20 (a last page that is full, then an empty one), and by their ids.
        for known in [
            try await store.knownCustomers(.all, capacity: 0, page: 3),
            try await store.knownCustomers(.all, capacity: 0, page: 20),
            try await store.knownCustomers(.ids(ids + ["c404"]), capacity: 0),
        ] {
            #expect(known.count == 20)
            #expect(known.lookUp("c1") == (true, "Asia/Tokyo"))
            #expect(known.lookUp("c2") == (true, nil))
            #expect(known.lookUp("c3") == (true, "Europe/Lisbon"))
            #expect(known.lookUp("c20") == (true, "Asia/Tokyo"))
            #expect(known.lookUp("c404") == (false, nil))
        }
        #expect(try await store.knownCustomers(.none, capacity: 0).count == 0)
        await store.close()
        try await PostgresServer.drop(url)
    }

    @Test("small files, or files small beside their table, load row by row")
    func threshold() {
        let policy = PostgresStore.BulkLoad()
        #expect(!policy.applies(rows: 9_999, tableRows: 0))
        #expect(policy.applies(rows: 10_000, tableRows: 0))
        #expect(policy.applies(rows: 250_000, tableRows: 1_000_000))
        #expect(!policy.applies(rows: 249_999, tableRows: 1_000_000))
    }
}

/// The "import loaded in bulk" messages a store logs: which tables each load dropped the indexes of.
final class Messages: LogHandler, Sendable {
    private let tables = Mutex<[String]>([])
    private let logged = Mutex<[String]>([])
    var bulkTables: [String] { tables.withLock { $0 } }
    /// Every message logged, in order.
    var texts: [String] { logged.withLock { $0 } }
    /// The tables first loads streamed into, in order.
    var streamedTables: [String] {
        texts.compactMap { $0.hasPrefix("import streamed: ") ? String($0.dropFirst("import streamed: ".count)) : nil }
    }

    var metadata: Logger.Metadata {
        get { [:] }
        set {}
    }
    var logLevel: Logger.Level {
        get { .debug }
        set {}
    }
    subscript(metadataKey _: String) -> Logger.Metadata.Value? {
        get { nil }
        set {}
    }

    func log(event: LogEvent) {
        let table = event.message.description == "import streamed" ? event.metadata?["table"].map { ": \($0)" } : nil
        logged.withLock {
            $0.append(event.message.description)
            if let table { $0.append("import streamed\(table)") }
        }
        guard event.message.description == "import loaded in bulk", let value = event.metadata?["tables"] else { return }
        tables.withLock { $0.append(value.description) }
    }
}
