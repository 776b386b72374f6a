import Foundation
import GRDB
import NudgeLanguage
import Synchronization
import Testing

@testable import NudgeStore
import NudgeCore

/// Imports into empty tables run in bulk-load mode (secondary indexes and triggers dropped and created again
/// inside the import's transaction); these tests check that nobody can tell, but for the speed.
@Suite("Bulk-load imports")
struct BulkImportTests {
    let workspace: Workspace

    init() throws {
        workspace = try Workspace()
    }

    /// Every schema object, in name order, with its table and SQL.
    func schema() throws -> [String] {
        try workspace.rows("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name")
    }

    /// The query plan of `sql`, one detail line per step.
    func plan(_ sql: String) throws -> [String] {
        try workspace.database.reader.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql).map { $0["detail"] as String }
        }
    }

    static let customers = """
        id,name,timezone,birth_date,signed_up_at,favorite
        c1,Ann,Europe/London,1990-07-04,2025-01-10,latte
        c2,Bo,,--02-29,2025-01-11T08:00:00Z,
        c3,Cy,Asia/Tokyo,,2025-01-12 09:30,chai
        c4,Di,Europe/London,1985-12-31,2025-01-13T09:30:00+05:30,mocha

        """

    @Test("a first import of each kind leaves indexes, triggers and query plans exactly as they were")
    func schemaKept() async throws {
        let originalSchema = try schema()
        let queries = [
            "SELECT id FROM customer WHERE timezone = 'Europe/London' AND birth_month_day BETWEEN '07-01' AND '07-08'",
            "SELECT id FROM customer WHERE timezone = 'Europe/London' AND last_activity_at < 1",
            "SELECT id FROM customer WHERE signed_up_at > 1",
            "SELECT customer_id FROM progress WHERE updated_at > 1",
        ]
        let plans = try queries.map(plan)
        try await workspace.importCSV(.customers, Self.customers)
        try await workspace.importCSV(.offers, "id,stamps_required\ncoffee,10\n")
        try await workspace.importCSV(.visits, "customer_id,visited_at,amount\nc1,2025-02-01,4.50\nc3,2025-02-02,1\n")
        try await workspace.importCSV(.progress, "customer_id,offer_id,stamps\nc1,coffee,3\nc2,coffee,1\n")
        #expect(try schema() == originalSchema)
        #expect(try queries.map(plan) == plans)
        #expect(try workspace.integer("SELECT count(*) FROM customer") == 4)
        #expect(try workspace.integer("SELECT count(*) FROM progress") == 2)
    }

    @Test("a rejected first import leaves the schema, the tables and customer_zone unchanged")
    func rejectedFirstImport() async throws {
        let originalSchema = try schema()
        let before = try workspace.snapshot()
        let rejected = try #require(
            try await workspace.rejection(.customers, Self.customers + "c5,Ed,Moon/Base,,2025-01-14,\n"))
        #expect(
            rejected.problems.map(\.description) == [
                "bad.csv:6: unknown time zone 'Moon/Base' (use an IANA name such as Europe/London)"
            ])
        #expect(try schema() == originalSchema)
        #expect(try workspace.snapshot() == before)
        #expect(try workspace.strings("SELECT timezone FROM customer_zone").isEmpty)
        // The triggers are back: a later import keeps customer_zone as before.
        try await workspace.importCSV(.customers, Self.customers)
        #expect(
            try workspace.strings("SELECT timezone FROM customer_zone ORDER BY 1") == [
                "", "Asia/Tokyo", "Europe/London",
            ])
        try await workspace.importCSV(.customers, "id,timezone,signed_up_at\nc9,America/Chicago,2025-01-10\n")
        #expect(
            try workspace.strings("SELECT timezone FROM customer_zone ORDER BY 1") == [
                "", "America/Chicago", "Asia/Tokyo", "Europe/London",
            ])
    }

    @Test("a first import adds to customer_zone every zone its rows wrote, as the triggers would")
    func customerZones() async throws {
        try await workspace.importCSV(
            .customers,
            "id,timezone,signed_up_at\nc1,Europe/London,2025-01-10\nc2,,2025-01-10\nc1,America/Chicago,2025-01-10\n")
        #expect(
            try workspace.strings("SELECT timezone FROM customer_zone ORDER BY 1") == [
                "", "America/Chicago", "Europe/London",
            ])
        #expect(try workspace.customer("c1")?.timeZone == "America/Chicago")
    }

    @Test("a first import without a timezone column adds the empty zone")
    func customerZonesWithoutColumn() async throws {
        try await workspace.importCSV(.customers, "id,signed_up_at\nc1,2025-01-10\n")
        #expect(try workspace.strings("SELECT timezone FROM customer_zone") == [""])
    }

    @Test("a header-only first import adds no zone")
    func customerZonesHeaderOnly() async throws {
        try await workspace.importCSV(.customers, "id,signed_up_at\n")
        #expect(try workspace.strings("SELECT timezone FROM customer_zone").isEmpty)
    }

    /// Every row of the import tables (and customer_zone) but the seed customer's.
    func state(_ workspace: Workspace) throws -> [String] {
        try workspace.rows("SELECT * FROM customer WHERE id <> 'seed' ORDER BY id")
            + workspace.rows("SELECT * FROM visit WHERE customer_id <> 'seed' ORDER BY customer_id, visited_at")
            + workspace.rows("SELECT * FROM progress WHERE customer_id <> 'seed' ORDER BY customer_id, offer_id")
            + workspace.rows("SELECT * FROM customer_zone WHERE timezone <> 'Pacific/Fiji' ORDER BY timezone")
    }

    @Test("bulk and row-by-row imports of the same files store the same rows")
    func bulkMatchesIncremental() async throws {
        let incremental = try Workspace()
        // A seed customer, visit and progress make every later import run row by row.
        try await incremental.importCSV(.customers, "id,timezone,signed_up_at\nseed,Pacific/Fiji,2024-01-01\n")
        try await incremental.importCSV(.offers, "id,stamps_required\ncoffee,10\n")
        try await incremental.importCSV(.visits, "customer_id,visited_at,amount\nseed,2024-02-01,1\n")
        try await incremental.importCSV(.progress, "customer_id,offer_id,stamps\nseed,coffee,1\n")
        try await workspace.importCSV(.offers, "id,stamps_required\ncoffee,10\n")
        let visits = """
            customer_id,visited_at,amount
            c1,2025-02-01,4.50
            c1,2025-02-03T10:00,2
            c3,2025-02-02,
            c1,2025-02-01,5
            c2,2025-01-01,9.99

            """
        let progress =
            "customer_id,offer_id,stamps,rewards_earned,updated_at\nc1,coffee,3,1,2025-03-01\nc4,coffee,0,0,\n"
        for target in [workspace, incremental] {
            try await target.importCSV(.customers, Self.customers + "c2,Bo Again,America/Chicago,,2025-01-09,espresso\n")
            try await target.importCSV(.visits, visits)
            try await target.importCSV(.progress, progress)
        }
        #expect(try state(workspace) == state(incremental))
        let ann = try #require(try workspace.customer("c1"))
        #expect(ann.visitsTotal == 2)
        #expect(ann.lifetimeValueCents == 700)
        // c2's sign-up moved after its only visit: last activity stays at the sign-up.
        let bo = try #require(try workspace.customer("c2"))
        #expect(bo.lastActivityAt == bo.signedUpAt)
        #expect(bo.visitsTotal == 1)
    }

    @Test("a visits import touching most customers rebuilds the last-activity index and keeps every derived field")
    func manyTouchedCustomers() async throws {
        let count = 12_000
        var customers = "id,timezone,signed_up_at\n"
        var visits = "customer_id,visited_at,amount\n"
        var more = "customer_id,visited_at,amount\n"
        for n in 0..<count {
            customers += "c\(n),\(n % 3 == 0 ? "Asia/Tokyo" : ""),2025-01-01T00:00:00Z\n"
            visits += "c\(n),2025-02-01T00:00:00Z,1\n"
            if n % 2 == 0 { more += "c\(n),2025-03-0\(1 + n % 9)T00:00:00Z,2.5\n" }
        }
        try await workspace.importCSV(.customers, customers)
        let originalSchema = try schema()
        try await workspace.importCSV(.visits, visits)
        // Row by row this time (the visit table is not empty), still most customers touched.
        try await workspace.importCSV(.visits, more)
        #expect(try schema() == originalSchema)
        #expect(try workspace.integer("SELECT count(*) FROM customer WHERE visits_total = 2") == Int64(count / 2))
        #expect(
            try workspace.integer("SELECT sum(lifetime_value_cents) FROM customer")
                == Int64(count * 100 + count / 2 * 250))
        let even = try #require(try workspace.customer("c4"))
        #expect(millis(even.lastVisitAt) == millis(even.lastActivityAt))
        #expect(ISO8601.format(even.lastActivityAt) == "2025-03-05T00:00:00Z")
        let odd = try #require(try workspace.customer("c5"))
        #expect(ISO8601.format(odd.lastActivityAt) == "2025-02-01T00:00:00Z")
        // The index is used as before.
        #expect(
            try plan("SELECT id FROM customer WHERE timezone = 'Asia/Tokyo' AND last_activity_at < 1")
                .contains { $0.contains("customer_on_zone_last_activity") })
    }

    @Test("a large customers file with a timezone column reports progress, bad rows and a syntax error in order")
    func largeFileWithZones() async throws {
        var text = "id,timezone,signed_up_at\n"
        var ends: [Int] = []
        for n in 1...1000 {
            let zone = n == 300 ? "Moon/Base" : n % 2 == 0 ? "Europe/London" : ""
            let signedUp = n == 700 ? "soon" : "2025-01-10T09:00"
            text += "c\(n),\(zone),\(signedUp)\n"
            if n == 500 { text += "\n   \n" }
            ends.append(text.utf8.count)
        }
        text += "c1001,\"open,2025-01-10\n"
        let path = try workspace.write("zones.csv", text)
        let calls = Recorder()
        var options = workspace.options(displayPath: "zones.csv")
        options.progressInterval = 250
        options.progress = { rows, bytes, total in calls.calls.withLock { $0.append([rows, bytes, total]) } }
        let error = #expect(throws: ImportRejected.self) {
            try workspace.database.importCSV(.customers, path: path, options: options)
        }
        let rejected = try #require(error)
        #expect(
            rejected.problems.map(\.description) == [
                "zones.csv:301: unknown time zone 'Moon/Base' (use an IANA name such as Europe/London)",
                "zones.csv:703: 'signed_up_at' must be an ISO 8601 date or date-time, not 'soon'",
                "zones.csv:1004: unterminated quoted field",
            ])
        let total = text.utf8.count
        #expect(
            calls.calls.withLock { $0 } == [
                [250, ends[249], total], [500, ends[499] - 5, total], [750, ends[749], total],
                [1000, ends[999], total],
            ])
        #expect(try workspace.integer("SELECT count(*) FROM customer") == 0)
        #expect(try workspace.strings("SELECT timezone FROM customer_zone").isEmpty)
    }
}
