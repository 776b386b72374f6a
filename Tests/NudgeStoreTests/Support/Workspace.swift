import Foundation
import GRDB
import NudgeLanguage

@testable import NudgeStore

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

    init() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("nudge-store-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        database = try AppDatabase.open(path: directory.appendingPathComponent("nudge.sqlite").path)
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
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
    @discardableResult
    func importCSV(
        _ kind: ImportKind, _ csv: String, file: String? = nil, zone: TimeZone = Workspace.defaultZone,
        now: Date = Workspace.now
    ) throws -> ImportSummary {
        let name = file ?? "\(kind.rawValue)-\(UUID().uuidString).csv"
        let path = try write(name, csv)
        return try database.importCSV(kind, path: path, options: options(displayPath: name, zone: zone, now: now))
    }

    /// Imports `csv`, expecting it to be rejected, and returns the rejection (nil when it was accepted).
    func rejection(
        _ kind: ImportKind, _ csv: String, file: String = "bad.csv", zone: TimeZone = Workspace.defaultZone
    ) throws -> ImportRejected? {
        do {
            try importCSV(kind, csv, file: file, zone: zone)
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
