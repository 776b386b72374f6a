import Foundation
import GRDB
import Testing

@testable import NudgeStore
import NudgeCore

@Suite("The database file")
struct AppDatabaseTests {
    let workspace: Workspace

    init() throws {
        workspace = try Workspace()
    }

    @Test("uses write-ahead logging")
    func walMode() async throws {
        let mode = try await workspace.database.writer.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
        #expect(FileManager.default.fileExists(atPath: workspace.path("nudge.sqlite-wal")))
    }

    @Test("opened for reading: one connection when the schema is current, migrated first when it is behind")
    func openForReading() throws {
        let path = workspace.path("reading.sqlite")
        _ = try AppDatabase.open(path: path)
        let current = try AppDatabase.openForReading(path: path)
        #expect(current.writer is DatabaseQueue)
        try current.writer.write { db in
            try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier = 'v7-byte-order'")
        }
        let behind = try AppDatabase.openForReading(path: path)
        #expect(behind.writer is DatabasePool)
        let applied = try behind.reader.read { db in try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations") }
        #expect(applied.contains("v7-byte-order"))
    }

    @Test("enforces foreign keys")
    func foreignKeys() async throws {
        let enabled = try await workspace.database.writer.read { db in try Int.fetchOne(db, sql: "PRAGMA foreign_keys") }
        #expect(enabled == 1)
    }

    @Test("records the migrations it ran")
    func migrations() async throws {
        let applied = try await workspace.database.reader.read { db in
            try AppDatabase.migrator.appliedMigrations(db)
        }
        #expect(applied == ["v1", "v2-outbox", "v3-zone-indexes", "v4-zone-triggers", "v5-delivery-events", "v6-outbox-text", "v7-byte-order", "v8-customer-activity", "v9-segment-entry", "v10-model-fit", "v11-erasure", "v12-erasure-key", "v13-offer-publishing", "v14-split-and-policy", "v15-platforms", "v16-passes"])
        let tables = try workspace.strings(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'grdb_%' ORDER BY name")
        #expect(
            tables == [
                "consent_change", "customer", "customer_zone", "delivery_attempt", "delivery_event", "erasure", "erasure_key", "ledger", "model_fit", "offer", "outbox",
                "pass_registration", "pass_update", "progress", "segment_entry", "visit", "wallet_sync",
            ])
    }

    @Test("keeps the zones in use, with '' for customers without one")
    func zonesInUse() async throws {
        try await workspace.importCSV(
            .customers, "id,timezone,signed_up_at\nc1,Asia/Tokyo,2025-01-10\nc2,,2025-01-10\nc3,Asia/Tokyo,2025-01-10\n")
        #expect(try workspace.strings("SELECT timezone FROM customer_zone ORDER BY timezone") == ["", "Asia/Tokyo"])
        try await workspace.importCSV(.customers, "id,timezone,signed_up_at\nc2,Europe/Paris,2025-01-10\n")
        #expect(
            try workspace.strings("SELECT timezone FROM customer_zone ORDER BY timezone") == ["", "Asia/Tokyo", "Europe/Paris"])
    }

    @Test("opens the same file again, keeping its data, even while the first connection is open")
    func openTwice() async throws {
        try await workspace.importCSV(.customers, "id,name,signed_up_at\nc1,Ann,2025-01-10T00:00:00Z\n")
        let path = workspace.path("nudge.sqlite")

        let second = try AppDatabase.open(path: path)
        let names = try await second.reader.read { db in try String.fetchAll(db, sql: "SELECT name FROM customer") }
        #expect(names == ["Ann"])

        // A write through the second connection is seen by the first.
        let options = workspace.options(displayPath: "more.csv")
        let more = try workspace.write("more.csv", "id,name,signed_up_at\nc2,Bo,2025-01-11T00:00:00Z\n")
        _ = try second.importCSV(.customers, path: more, options: options)
        #expect(try workspace.integer("SELECT count(*) FROM customer") == 2)

        let third = try AppDatabase.open(path: path)
        let applied = try await third.reader.read { db in try AppDatabase.migrator.appliedMigrations(db) }
        #expect(applied == ["v1", "v2-outbox", "v3-zone-indexes", "v4-zone-triggers", "v5-delivery-events", "v6-outbox-text", "v7-byte-order", "v8-customer-activity", "v9-segment-entry", "v10-model-fit", "v11-erasure", "v12-erasure-key", "v13-offer-publishing", "v14-split-and-policy", "v15-platforms", "v16-passes"])
        #expect(try await third.reader.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM customer") } == 2)
    }

    @Test("creates missing parent folders for the file")
    func createsFolders() async throws {
        let path = workspace.path("deep/er/nudge.sqlite")
        let database = try AppDatabase.open(path: path)
        #expect(FileManager.default.fileExists(atPath: path))
        let mode = try await database.writer.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
    }

    @Test("keeps an in-memory database migrated and importable")
    func inMemory() async throws {
        let database = try AppDatabase.inMemory()
        let path = try workspace.write("c.csv", "id,signed_up_at\nc1,2025-01-10T00:00:00Z\n")
        _ = try database.importCSV(.customers, path: path, options: workspace.options(displayPath: "c.csv"))
        #expect(try await database.reader.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM customer") } == 1)
    }

    @Test("stores instants as whole milliseconds")
    func storedInstant() {
        #expect(StoredInstant.millis(Date(timeIntervalSince1970: 1_736_467_200.25)) == 1_736_467_200_250)
        #expect(StoredInstant.millis(Date(timeIntervalSince1970: -1.5)) == -1500)
        #expect(StoredInstant.date(1_736_467_200_250) == Date(timeIntervalSince1970: 1_736_467_200.25))
    }
}

@Suite("Birth dates")
struct BirthDateTests {
    @Test(
        "parses YYYY-MM-DD and --MM-DD",
        arguments: [
            ("1990-07-04", 1990, 7, 4), ("2000-02-29", 2000, 2, 29), ("--02-29", nil, 2, 29), ("--12-31", nil, 12, 31),
            ("--04-30", nil, 4, 30), ("--01-09", nil, 1, 9),
        ] as [(String, Int?, Int, Int)])
    func parses(text: String, year: Int?, month: Int, day: Int) async throws {
        let birth = try #require(BirthDate(parsing: text))
        #expect(birth.year == year)
        #expect(birth.month == month)
        #expect(birth.day == day)
        #expect(birth.monthDay == String(text.suffix(5)))
    }

    @Test(
        "rejects impossible or malformed dates",
        arguments: [
            "1990-02-30", "1900-02-29", "--13-01", "--00-10", "--02-30", "--04-31", "--1-01", "--01-1", "-01-01",
            "--01-01-", "07-04", "1990-7-4", "", "--", "--ab-cd",
        ])
    func rejects(text: String) {
        #expect(BirthDate(parsing: text) == nil)
    }
}

@Suite("Demo data")
struct DemoDataTests {
    let workspace: Workspace

    init() throws {
        workspace = try Workspace()
    }

    static let now = Date(timeIntervalSince1970: 1_773_576_000)

    /// Every stored row of every table of `database`, in key order.
    func content(of database: AppDatabase) throws -> [String] {
        try database.reader.read { db in
            var lines: [String] = []
            for (table, key) in [
                ("customer", "id"), ("visit", "customer_id, visited_at"), ("offer", "id"),
                ("progress", "customer_id, offer_id"),
            ] {
                lines += try Row.fetchAll(db, sql: "SELECT * FROM \(table) ORDER BY \(key)").map { "\(table) \($0)" }
            }
            return lines
        }
    }

    @Test("creates the requested number of customers, c00001 onwards")
    func count() async throws {
        try DemoData.populate(workspace.database, count: 300, now: Self.now, seed: 7)
        let ids = try workspace.strings("SELECT id FROM customer ORDER BY id")
        #expect(ids.count == 300)
        #expect(ids.first == "c00001")
        #expect(ids.last == "c00300")
        #expect(try workspace.strings("SELECT id FROM offer ORDER BY id") == ["coffee-card", "pastry-card", "winter-chai"])
        #expect(try workspace.integer("SELECT count(*) FROM visit") ?? 0 > 0)
        #expect(try workspace.integer("SELECT count(*) FROM progress") ?? 0 > 0)
    }

    @Test("is deterministic for a fixed now and seed")
    func deterministic() async throws {
        let other = try AppDatabase.open(path: workspace.path("other.sqlite"))
        try DemoData.populate(workspace.database, count: 200, now: Self.now, seed: 2026)
        try DemoData.populate(other, count: 200, now: Self.now, seed: 2026)
        let first = try content(of: workspace.database)
        #expect(first.count > 200)
        #expect(try content(of: other) == first)

        // Populating again replaces the content with the same content.
        try DemoData.populate(workspace.database, count: 200, now: Self.now, seed: 2026)
        #expect(try content(of: workspace.database) == first)
    }

    @Test("differs for another seed")
    func seedMatters() async throws {
        let other = try AppDatabase.open(path: workspace.path("other.sqlite"))
        try DemoData.populate(workspace.database, count: 50, now: Self.now, seed: 1)
        try DemoData.populate(other, count: 50, now: Self.now, seed: 2)
        #expect(try content(of: other) != content(of: workspace.database))
    }

    @Test("replaces what the database held")
    func replaces() async throws {
        try await workspace.importCSV(.customers, "id,signed_up_at\nzz,2025-01-10T00:00:00Z\n")
        try DemoData.populate(workspace.database, count: 40, now: Self.now)
        try DemoData.populate(workspace.database, count: 15, now: Self.now)
        #expect(try workspace.integer("SELECT count(*) FROM customer") == 15)
        #expect(try workspace.integer("SELECT count(*) FROM customer WHERE id = 'zz'") == 0)
        #expect(try workspace.integer("SELECT count(*) FROM visit WHERE customer_id > 'c00015'") == 0)
    }

    @Test("keeps the derived fields consistent with the visits, and everything in the past of now")
    func consistent() async throws {
        try DemoData.populate(workspace.database, count: 300, now: Self.now)
        let nowMillis: Int64 = 1_773_576_000_000
        #expect(
            try workspace.integer(
                """
                SELECT count(*) FROM customer WHERE
                  visits_total != (SELECT count(*) FROM visit WHERE customer_id = customer.id)
                  OR lifetime_value_cents
                    != (SELECT coalesce(sum(amount_cents), 0) FROM visit WHERE customer_id = customer.id)
                  OR last_visit_at IS NOT (SELECT max(visited_at) FROM visit WHERE customer_id = customer.id)
                  OR last_activity_at != max(signed_up_at, coalesce(last_visit_at, signed_up_at))
                """) == 0)
        #expect(
            try workspace.integer("SELECT count(*) FROM customer WHERE signed_up_at >= ?", arguments: [nowMillis]) == 0)
        #expect(try workspace.integer("SELECT count(*) FROM visit WHERE visited_at >= ?", arguments: [nowMillis]) == 0)
        // Every stored customer reads back, and its birth date parses.
        let customers = try await workspace.database.reader.read { db in
            try Row.fetchAll(db, sql: "SELECT \(CustomerState.columns) FROM customer").map { CustomerState(row: $0) }
        }
        #expect(customers.count == 300)
        for customer in customers {
            if let text = customer.birthDate {
                let birth = try #require(BirthDate(parsing: text), "\(customer.id): \(text)")
                #expect(birth.monthDay == customer.birthMonthDay)
                #expect(birth.year == customer.birthYear)
            }
            if let phone = customer.phone { #expect(RowWriter.isE164(phone)) }
            if let email = customer.email { #expect(RowWriter.isEmail(email), "\(email)") }
        }
    }
}
