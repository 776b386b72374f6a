import Foundation
import GRDB
import Testing

@testable import NudgeStore
import NudgeCore

/// PostgreSQL's imports check a file in a scratch SQLite file that holds no customers: the customers the target
/// database knows come as `ImportOptions.knownCustomers`, and the visit-derived fields are left to the target.
@Suite("Checking visits and progress apart from their database")
struct CheckApartTests {
    let workspace: Workspace
    let scratch: AppDatabase

    init() throws {
        workspace = try Workspace()
        scratch = try AppDatabase.scratch(path: workspace.path("scratch.sqlite"))
    }

    /// c1 lives in Tokyo, c2 has no zone (the default, America/New_York), c3's stored zone is not a known one.
    func options(_ file: String) -> ImportOptions {
        var known = KnownCustomers()
        known.add(id: "c1", zone: "Asia/Tokyo")
        known.add(id: "c2", zone: nil)
        known.add(id: "c3", zone: "Mars/Olympus")
        var options = ImportOptions(defaultZone: Workspace.defaultZone, now: Workspace.now, displayPath: file)
        options.knownCustomers = known
        options.refreshesDerivedFields = false
        return options
    }

    @Test("visits of known customers are read in their stored zones, with no customer row in the checking database")
    func knownZones() throws {
        let path = try workspace.write("v.csv", "customer_id,visited_at\nc1,2025-02-01\nc2,2025-02-01\nc3,2025-02-01\n")
        let summary = try scratch.importCSV(.visits, path: path, options: options("v.csv"))
        #expect(summary.rows == 3)
        let visits = try scratch.reader.read { db in
            try String.fetchAll(db, sql: "SELECT customer_id || '|' || visited_at FROM visit ORDER BY customer_id")
        }
        // Tokyo midnight is 15:00Z the day before; New York midnight is 05:00Z, for no zone and an unknown one.
        #expect(visits == ["c1|1738335600000", "c2|1738386000000", "c3|1738386000000"])
    }

    /// The problems a rejected check of `text` as `kind` reports (none when the file is accepted).
    func problems(_ kind: ImportKind, _ file: String, _ text: String) throws -> [String] {
        do {
            _ = try scratch.importCSV(kind, path: try workspace.write(file, text), options: options(file))
            return []
        } catch let rejected as ImportRejected {
            return rejected.problems.map(\.description)
        }
    }

    @Test("a visit or progress row of a customer the target does not know is a bad row with its line")
    func unknownCustomer() throws {
        #expect(
            try problems(.visits, "v.csv", "customer_id,visited_at\nc1,2025-02-01\nc404,2025-02-01\n")
                == ["v.csv:3: unknown customer 'c404' (import customers first)"])
        try scratch.writer.write { db in try db.execute(sql: "INSERT INTO offer (id, stamps_required) VALUES ('coffee', 10)") }
        // Ids are trimmed as everywhere else, and compared exactly.
        #expect(
            try problems(.progress, "p.csv", "customer_id,offer_id,stamps\nc2,coffee,3\nc1 ,coffee,1\nC1,coffee,1\n")
                == ["p.csv:4: unknown customer 'C1' (import customers first)"])
    }

    @Test("without refreshesDerivedFields a visits import leaves the visit-derived fields as they were")
    func derivedFieldsLeft() async throws {
        try await workspace.importCSV(.customers, "id,signed_up_at\nc1,2025-01-10T00:00:00Z\n")
        let path = try workspace.write("v.csv", "customer_id,visited_at,amount\nc1,2025-02-01T00:00:00Z,4\n")
        var options = ImportOptions(defaultZone: Workspace.defaultZone, now: Workspace.now, displayPath: "v.csv")
        options.refreshesDerivedFields = false
        _ = try workspace.database.importCSV(.visits, path: path, options: options)
        let left = try #require(try workspace.customer("c1"))
        #expect(left.visitsTotal == 0)
        #expect(left.lifetimeValueCents == 0)
        options.refreshesDerivedFields = true
        _ = try workspace.database.importCSV(.visits, path: path, options: options)
        let refreshed = try #require(try workspace.customer("c1"))
        #expect(refreshed.visitsTotal == 1)
        #expect(refreshed.lifetimeValueCents == 400)
    }
}
