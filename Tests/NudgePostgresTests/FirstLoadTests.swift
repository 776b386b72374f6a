import Foundation
import GRDB
import Logging
import NudgeCore
import NudgeLanguage
import NudgePostgres
import NudgeStore
import NudgeTestSupport
import PostgresNIO
import Testing

/// A first load of customers, visits or progress into an empty table streams the file's checked rows straight into
/// COPY, with no scratch copy: the rows must be those SQLite stores, a bad row must still reject the file whole, and a
/// file that names a key twice must still end with its last row.
@Suite("First loads on PostgreSQL", .serialized, .enabled(if: PostgresServer.isAvailable))
struct FirstLoadTests {
    /// Every column, extra attribute columns, text that COPY must escape, empty fields and both forms of birth date.
    static let everyColumn = #"""
        id,name,email,phone,birth_date,timezone,signed_up_at,email_opt_in,sms_opt_in,push_opt_in,push_token,wallet_pass_id,tags,favourite,note
        c1,Ana,ana@example.com,+351912345678,1990-02-28,Europe/Lisbon,2026-01-05T10:00:00,yes,no,1,tok-1,pass-1,gold;early,latte,"tab\#there"
        c2,"Back\slash ""B""",,,--12-31,,2026-02-01,false,true,0,,,,,
        c3,Çé 漢字,c3@example.com,+14155550123,,America/Chicago,2026-03-01T00:00:00Z,0,0,0,,,vip,"line
        break",
        """#

    /// The stored customers of both stores, by id.
    static func customers(_ sqlite: AppDatabase, _ postgres: PostgresStore, ids: [String]) async throws
        -> (sqlite: [CustomerState?], postgres: [CustomerState?])
    {
        var a: [CustomerState?] = []
        var b: [CustomerState?] = []
        for id in ids {
            a.append(try sqlite.customer(id: id))
            b.append(try await postgres.customer(id: id))
        }
        return (a, b)
    }

    /// A logger at debug level whose messages are kept.
    static func recording() -> (Messages, Logger) {
        let messages = Messages()
        var logger = Logger(label: "nudge.postgres.tests") { _ in messages }
        logger.logLevel = .debug
        return (messages, logger)
    }

    /// How each store rejects `path` imported as `kind` (nothing for a store that takes it).
    static func rejections(_ kind: ImportKind, path: String, _ sqlite: AppDatabase, _ postgres: PostgresStore) async throws
        -> [String]
    {
        var messages: [String] = []
        do {
            _ = try sqlite.importCSV(kind, path: path, options: ImportFiles.options)
        } catch let error as ImportRejected { messages.append(error.description) }
        do {
            _ = try await postgres.importCSV(kind, path: path, options: ImportFiles.options)
        } catch let error as ImportRejected { messages.append(error.description) }
        return messages
    }

    /// Writes `text` to `name` and imports it as `kind` into both stores; returns PostgreSQL's summary.
    @discardableResult
    static func importBoth(
        _ kind: ImportKind, _ text: String, name: String, files: ImportFiles, _ sqlite: AppDatabase,
        _ postgres: PostgresStore
    ) async throws -> ImportSummary {
        let path = files.directory.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        _ = try sqlite.importCSV(kind, path: path, options: ImportFiles.options)
        return try await postgres.importCSV(kind, path: path, options: ImportFiles.options)
    }

    /// The rows of `table` in PostgreSQL.
    static func count(_ table: String, in postgres: PostgresStore) async throws -> Int64 {
        for try await count in try await postgres.client.query(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(table)"))
            .decode(Int64.self)
        {
            return count
        }
        return 0
    }

    static func load(_ text: String, name: String, files: ImportFiles, logger: Logger = PostgresServer.logger) async throws
        -> (AppDatabase, PostgresStore, DatabaseURL, String)
    {
        let path = files.directory.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let sqlite = try AppDatabase.inMemory()
        let (postgres, url) = try await PostgresServer.freshStore(logger: logger)
        _ = try sqlite.importCSV(.customers, path: path, options: ImportFiles.options)
        return (sqlite, postgres, url, path)
    }

    @Test("every column streamed into the empty table is stored as SQLite stores it, with or without a timezone column")
    func sameRows() async throws {
        let files = try ImportFiles()
        let withoutZone = Self.everyColumn.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            // Drop the sixth column (timezone): the rows are then checked one at a time.
            var fields = line.split(separator: ",", omittingEmptySubsequences: false)
            if fields.count > 5 { fields.remove(at: 5) }
            return fields.joined(separator: ",")
        }.joined(separator: "\n")
        for (name, text) in [("zones.csv", Self.everyColumn), ("no-zones.csv", withoutZone)] {
            let (messages, logger) = Self.recording()
            let (sqlite, postgres, url, path) = try await Self.load(text, name: name, files: files, logger: logger)
            let summary = try await postgres.importCSV(.customers, path: path, options: ImportFiles.options)
            #expect(summary.rows == 3, "\(name)")
            #expect(messages.texts.contains("import streamed"), "\(name)")
            let (a, b) = try await Self.customers(sqlite, postgres, ids: ["c1", "c2", "c3"])
            #expect(a.allSatisfy { $0 != nil }, "\(name)")
            #expect(a == b, "\(name)")
            #expect(b[0]?.attributes == ["favourite": "latte", "note": "tab\there"], "\(name)")
            // The indexes and keys are back, and the zones known.
            #expect(try await BulkLoadTests.schema(postgres).contains { $0.contains("customer_pkey PRIMARY KEY (id)") })
            var zones: [String] = []
            for try await zone in try await postgres.client.query("SELECT timezone FROM customer_zone ORDER BY 1")
                .decode(String.self)
            {
                zones.append(zone)
            }
            #expect(zones == (name == "zones.csv" ? ["", "America/Chicago", "Europe/Lisbon"] : [""]), "\(name)")
            await postgres.close()
            try await PostgresServer.drop(url)
        }
    }

    @Test("a first load that names a customer twice keeps its last row, as SQLite does")
    func repeatedCustomer() async throws {
        let files = try ImportFiles()
        let (messages, logger) = Self.recording()
        let sqlite = try AppDatabase.inMemory()
        let (postgres, url) = try await PostgresServer.freshStore(logger: logger)
        let schema = try await BulkLoadTests.schema(postgres)
        let summary = try await Self.importBoth(
            .customers,
            "id,name,timezone,signed_up_at\nc1,First,UTC,2026-01-01\nc2,Two,UTC,2026-01-02\nc1,Second,Asia/Tokyo,2026-01-03\n",
            name: "twice.csv", files: files, sqlite, postgres)
        #expect(summary.rows == 3)
        #expect(messages.texts.contains("import streamed a key twice: checked again in a scratch file"))
        let (a, b) = try await Self.customers(sqlite, postgres, ids: ["c1", "c2"])
        #expect(a == b)
        #expect(b[0]?.name == "Second" && b[0]?.timeZone == "Asia/Tokyo")
        #expect(try await BulkLoadTests.schema(postgres) == schema)
        await postgres.close()
        try await PostgresServer.drop(url)
    }

    @Test("a bad row rejects a streamed first load whole, with SQLite's messages, and leaves the table empty and keyed")
    func rejected() async throws {
        let files = try ImportFiles()
        // Enough rows for several COPY buffers to have gone before the bad row at the end is read.
        var text = "id,name,timezone,signed_up_at\n"
        for i in 0..<30_000 { text += "c\(i),Customer number \(i) with a long name,Europe/Paris,2026-01-01\n" }
        text += "bad,Bad,Mars/Olympus,2026-01-01\n"
        let path = files.directory.appendingPathComponent("bad.csv").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let (postgres, url) = try await PostgresServer.freshStore()
        let schema = try await BulkLoadTests.schema(postgres)
        let messages = try await Self.rejections(.customers, path: path, AppDatabase.inMemory(), postgres)
        #expect(messages.count == 2)
        #expect(messages.first == messages.last)
        #expect(messages.first?.hasPrefix("x.csv:30002: unknown time zone 'Mars/Olympus'") == true)
        #expect(try await Self.count("customer", in: postgres) == 0)
        #expect(try await BulkLoadTests.schema(postgres) == schema)
        // The table takes the file once it is mended.
        try text.replacingOccurrences(of: "Mars/Olympus", with: "Europe/Paris").write(
            toFile: path, atomically: true, encoding: .utf8)
        #expect(try await postgres.importCSV(.customers, path: path, options: ImportFiles.options).rows == 30_001)
        await postgres.close()
        try await PostgresServer.drop(url)
    }

    /// Every visit and progress row, as each store keeps it, in key order.
    static func visitsAndProgress(_ sqlite: AppDatabase, _ postgres: PostgresStore) async throws -> (sqlite: [String], postgres: [String]) {
        let sql = """
            SELECT 'v ' || customer_id || ' ' || visited_at || ' ' || coalesce(amount_cents, -1) FROM visit
            UNION ALL
            SELECT 'p ' || customer_id || ' ' || offer_id || ' ' || stamps || ' ' || rewards_earned || ' ' || updated_at FROM progress
            ORDER BY 1
            """
        let a = try await sqlite.reader.read { db in try String.fetchAll(db, sql: sql) }
        var b: [String] = []
        for try await row in try await postgres.client.query(PostgresQuery(unsafeSQL: sql)).decode(String.self) { b.append(row) }
        return (a, b)
    }

    @Test("visits and progress streamed into empty tables are stored as SQLite stores them, derived fields included")
    func visitsAndProgress() async throws {
        let files = try ImportFiles()
        let (messages, logger) = Self.recording()
        let sqlite = try AppDatabase.inMemory()
        let (postgres, url) = try await PostgresServer.freshStore(logger: logger)
        try await Self.importBoth(.customers, Self.everyColumn, name: "c.csv", files: files, sqlite, postgres)
        let inputs: [(ImportKind, String)] = [
            (.offers, "id,name,stamps_required\ncoffee,Coffee,10\ntea,Tea,5\n"),
            // A bare date is midnight in the customer's zone (Lisbon, the business zone, Chicago); no amount is NULL.
            (.visits, "customer_id,visited_at,amount\nc1,2026-02-01,4.50\nc2,2026-02-02T10:00:00Z,\nc3,2026-02-03,12\nc1,2026-03-01T08:00:00,1.25\n"),
            (.progress, "customer_id,offer_id,stamps,updated_at\nc1,coffee,9,2026-03-01\nc3,tea,2,2026-03-02T10:00:00Z\nc2,coffee,0,\n"),
        ]
        for (kind, text) in inputs {
            try await Self.importBoth(kind, text, name: "\(kind.rawValue).csv", files: files, sqlite, postgres)
        }
        #expect(messages.streamedTables == ["customer", "visit", "progress"])
        let (a, b) = try await Self.customers(sqlite, postgres, ids: ["c1", "c2", "c3"])
        #expect(a == b)
        #expect(b[0]?.visitsTotal == 2 && b[0]?.lifetimeValueCents == 575)
        let (rowsA, rowsB) = try await Self.visitsAndProgress(sqlite, postgres)
        #expect(rowsA.count == 7)
        #expect(rowsA == rowsB)
        await postgres.close()
        try await PostgresServer.drop(url)
    }

    @Test("a first load of visits that names a visit twice keeps its last amount, and a bad row rejects it whole")
    func repeatedAndRejectedVisits() async throws {
        let files = try ImportFiles()
        let (messages, logger) = Self.recording()
        let sqlite = try AppDatabase.inMemory()
        let (postgres, url) = try await PostgresServer.freshStore(logger: logger)
        try await Self.importBoth(.customers, Self.everyColumn, name: "c.csv", files: files, sqlite, postgres)
        let schema = try await BulkLoadTests.schema(postgres)
        let bad = files.directory.appendingPathComponent("bad.csv").path
        try "customer_id,visited_at,amount\nc1,2026-02-01,4.50\nnobody,2026-02-01,1\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let rejected = try await Self.rejections(.visits, path: bad, sqlite, postgres)
        #expect(rejected.count == 2 && rejected.first == rejected.last)
        #expect(rejected.first?.contains("x.csv:3: unknown customer 'nobody'") == true)
        #expect(try await Self.count("visit", in: postgres) == 0)
        #expect(try await BulkLoadTests.schema(postgres) == schema)
        try await Self.importBoth(
            .visits, "customer_id,visited_at,amount\nc1,2026-02-01,4.50\nc3,2026-02-02,2\nc1,2026-02-01,9.99\n",
            name: "twice.csv", files: files, sqlite, postgres)
        #expect(messages.texts.contains("import streamed a key twice: checked again in a scratch file"))
        let (rowsA, rowsB) = try await Self.visitsAndProgress(sqlite, postgres)
        #expect(rowsA == rowsB)
        #expect(rowsB.contains { $0.hasPrefix("v c1 ") && $0.hasSuffix(" 999") })
        let (a, b) = try await Self.customers(sqlite, postgres, ids: ["c1", "c3"])
        #expect(a == b)
        #expect(try await BulkLoadTests.schema(postgres) == schema)
        await postgres.close()
        try await PostgresServer.drop(url)
    }
}
