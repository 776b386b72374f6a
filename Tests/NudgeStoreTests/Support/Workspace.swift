import Foundation
import GRDB
import NudgeLanguage
import NudgePostgres
import NudgeTestSupport
import PostgresNIO
import Synchronization
import Testing

@testable import NudgeStore
import NudgeCore

/// A fresh temporary folder holding a real SQLite file, removed when the test is done.
///
/// A class rather than a struct because it owns a resource (the folder) and cleans it up in `deinit`.
final class Workspace: Sendable {
    /// The business zone used as `ImportOptions.defaultZone` unless a test says otherwise.
    // swift-format-ignore: NeverForceUnwrap
    static let defaultZone = TimeZone(identifier: "America/New_York")!
    /// The fixed import time, 2026-03-15T12:00:00Z.
    static let now = Date(timeIntervalSince1970: 1_773_576_000)

    let directory: URL
    let database: AppDatabase
    /// The PostgreSQL database every import is repeated on, made at the first import (see `PostgresTwin`).
    private let twin = Mutex<(store: PostgresStore, url: DatabaseURL)?>(nil)

    init() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("nudge-store-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        database = try AppDatabase.open(path: directory.appendingPathComponent("nudge.sqlite").path)
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
        if let twin = twin.withLock({ $0 }) { PostgresServer.dispose(twin.store, twin.url) }
    }

    /// The path of `name` inside the workspace.
    func path(_ name: String) -> String {
        directory.appendingPathComponent(name).path
    }

    /// Writes `text` as UTF-8 to `name` and returns its path.
    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let path = path(name)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Import options with the fixed `now` and default zone.
    func options(
        displayPath: String, zone: TimeZone = Workspace.defaultZone, now: Date = Workspace.now
    ) -> ImportOptions {
        ImportOptions(defaultZone: zone, now: now, displayPath: displayPath)
    }

    /// Writes `csv` to `file` and imports it as `kind`; messages name the file as `file`.
    ///
    /// With a PostgreSQL server for the tests, the same file is imported on PostgreSQL too, starting from the same
    /// rows: it must be accepted or rejected alike, with the same messages, and leave the same tables.
    @discardableResult
    func importCSV(
        _ kind: ImportKind, _ csv: String, file: String? = nil, zone: TimeZone = Workspace.defaultZone,
        now: Date = Workspace.now, sourceLocation: Testing.SourceLocation = #_sourceLocation
    ) async throws -> ImportSummary {
        let name = file ?? "\(kind.rawValue)-\(UUID().uuidString).csv"
        let path = try write(name, csv)
        let options = options(displayPath: name, zone: zone, now: now)
        guard PostgresTwin.isEnabled else { return try database.importCSV(kind, path: path, options: options) }
        let postgres = try await twinStore()
        try await PostgresTwin.copy(from: database, to: postgres)
        let here = Result { try database.importCSV(kind, path: path, options: options) }
        let there: Result<ImportSummary, any Error>
        do {
            there = .success(try await postgres.importCSV(kind, path: path, options: options))
        } catch {
            there = .failure(error)
        }
        switch (here, there) {
        case (.success(let a), .success(let b)):
            #expect(a.rows == b.rows, "PostgreSQL imported another number of rows", sourceLocation: sourceLocation)
        case (.failure(let a), .failure(let b)):
            #expect("\(a)" == "\(b)", "PostgreSQL rejects the file otherwise", sourceLocation: sourceLocation)
        case (.success, .failure(let b)):
            Issue.record("PostgreSQL rejects what SQLite accepts: \(b)", sourceLocation: sourceLocation)
        case (.failure(let a), .success):
            Issue.record("PostgreSQL accepts what SQLite rejects: \(a)", sourceLocation: sourceLocation)
        }
        #expect(
            try await PostgresTwin.tables(of: postgres) == PostgresTwin.tables(of: database),
            "PostgreSQL holds other rows after the import", sourceLocation: sourceLocation)
        return try here.get()
    }

    /// The PostgreSQL database of this workspace, made when first needed.
    private func twinStore() async throws -> PostgresStore {
        if let twin = twin.withLock({ $0 }) { return twin.store }
        // Every file is loaded in bulk there (indexes and foreign keys made again afterwards, an empty table copied
        // straight into), so that each import test checks that path too; the row-by-row path is the one the
        // engine, delivery and command tests load their PostgreSQL data with.
        let made = try await PostgresServer.freshStore(bulkLoad: .init(minimumRows: 0, shareOfTable: 0))
        twin.withLock { $0 = made }
        return made.0
    }

    /// Imports `csv`, expecting it to be rejected, and returns the rejection (nil when it was accepted).
    func rejection(
        _ kind: ImportKind, _ csv: String, file: String = "bad.csv", zone: TimeZone = Workspace.defaultZone,
        sourceLocation: Testing.SourceLocation = #_sourceLocation
    ) async throws -> ImportRejected? {
        do {
            try await importCSV(kind, csv, file: file, zone: zone, sourceLocation: sourceLocation)
            return nil
        } catch let rejected as ImportRejected {
            return rejected
        }
    }

    /// The stored customer `id`, decoded as the engine decodes it.
    func customer(_ id: String) throws -> CustomerState? {
        try database.reader.read { db in
            try Row.fetchOne(db, sql: "SELECT \(CustomerState.columns) FROM customer WHERE id = ?", arguments: [id])
                .map { CustomerState(row: $0) }
        }
    }

    /// Rows of one query, each rendered as text, for exact comparisons.
    func rows(_ sql: String, arguments: StatementArguments = []) throws -> [String] {
        try database.reader.read { db in
            try Row.fetchAll(db, sql: sql, arguments: arguments).map(\.description)
        }
    }

    /// The first column of every row of one query, as text.
    func strings(_ sql: String, arguments: StatementArguments = []) throws -> [String] {
        try database.reader.read { db in try String.fetchAll(db, sql: sql, arguments: arguments) }
    }

    /// One integer, or nil when the query yields no row or NULL.
    func integer(_ sql: String, arguments: StatementArguments = []) throws -> Int64? {
        try database.reader.read { db in try Int64.fetchOne(db, sql: sql, arguments: arguments) }
    }

    /// Every row of every table, in key order: what "the database is unchanged" compares.
    func snapshot() throws -> [String: [String]] {
        let tables = [
            "customer": "id", "visit": "customer_id, visited_at", "offer": "id", "progress": "customer_id, offer_id",
            "ledger": "workflow_id, customer_id, occurrence",
        ]
        var result: [String: [String]] = [:]
        for (table, key) in tables {
            result[table] = try rows("SELECT * FROM \(table) ORDER BY \(key)")
        }
        return result
    }
}

/// Milliseconds of a stored instant, for exact comparisons.
func millis(_ date: Date?) -> Int64? {
    date.map(StoredInstant.millis)
}

/// The date for literal milliseconds.
func instant(_ millis: Int64) -> Date {
    StoredInstant.date(millis)
}

/// The store tests' imports repeated on PostgreSQL when the tests have a server (`NUDGE_TEST_POSTGRES_URL`;
/// `.ci/run` starts one): every import test then checks both stores.
enum PostgresTwin {
    static let isEnabled = PostgresServer.isUsed("store tests import")

    /// The tables an import writes, and the columns compared (as text; booleans as 0 and 1).
    static let tables: [(name: String, columns: [String], key: String)] = [
        ("customer", CustomerState.columns.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }, "id"),
        ("visit", ["customer_id", "visited_at", "amount_cents"], "customer_id, visited_at"),
        ("offer", ["id", "name", "stamps_required"], "id"),
        ("progress", ["customer_id", "offer_id", "stamps", "rewards_earned", "updated_at"], "customer_id, offer_id"),
    ]
    static let booleans: Set<String> = ["email_opt_in", "sms_opt_in", "push_opt_in"]

    /// Every row of every table of `tables` in SQLite, as text.
    static func tables(of database: AppDatabase) throws -> [String: [[String?]]] {
        var result: [String: [[String?]]] = [:]
        for table in tables {
            let list = table.columns.map { "CAST(\($0) AS TEXT)" }.joined(separator: ", ")
            result[table.name] = try database.reader.read { db in
                try Row.fetchAll(db, sql: "SELECT \(list) FROM \(table.name) ORDER BY \(table.key)").map { row in
                    (0..<row.count).map { row[$0] as String? }
                }
            }
        }
        return result
    }

    /// The same of PostgreSQL.
    static func tables(of store: PostgresStore) async throws -> [String: [[String?]]] {
        var result: [String: [[String?]]] = [:]
        for table in tables {
            let list = table.columns.map { booleans.contains($0) ? "\($0)::int::text" : "\($0)::text" }
                .joined(separator: ", ")
            var rows: [[String?]] = []
            // PostgreSQL keeps the visit-derived fields apart; `customer_state` shows customers as SQLite stores them.
            let source = table.name == "customer" ? "customer_state" : table.name
            let query = PostgresQuery(unsafeSQL: "SELECT \(list) FROM \(source) ORDER BY \(table.key)")
            for try await row in try await store.client.query(query) {
                rows.append(try row.map { try $0.decode(String?.self) })
            }
            result[table.name] = rows
        }
        return result
    }

    /// Makes PostgreSQL hold the rows of `database`: customers, visits, offers, progress, ledger and consent changes.
    static func copy(from database: AppDatabase, to store: PostgresStore) async throws {
        try await store.replaceContents(from: database)
        let changes = try database.reader.read { db in
            try Row.fetchAll(db, sql: "SELECT customer_id, channel, opt_in, reason, at FROM consent_change ORDER BY id")
        }
        try await store.client.query("DELETE FROM consent_change")
        for change in changes {
            let customer: String = change[0]
            let channel: String = change[1]
            let optIn: Bool = change[2]
            let reason: String = change[3]
            let at: Int64 = change[4]
            try await store.client.query(
                """
                INSERT INTO consent_change (customer_id, channel, opt_in, reason, at)
                VALUES (\(customer), \(channel), \(optIn), \(reason), \(at))
                """)
        }
    }
}
