import Foundation
import GRDB
import NudgeStore
import Testing

@testable import NudgeEngine

/// Each trigger's candidate query must be an index range scan, never a whole-table scan, so that
/// the cost of a run follows the customers who match, not all customers.
@Suite("Query plans")
struct QueryPlanTests {
    static let queries: [(String, String, StatementArguments)] = [
        ("birthday", AppDatabase.birthdaySQL(zone: "Asia/Tokyo", monthDays: 3), ["Asia/Tokyo", "11-24", "11-25", "11-26"]),
        ("birthday without a zone", AppDatabase.birthdaySQL(zone: "", monthDays: 2), ["11-24", "11-25"]),
        ("inactivity", AppDatabase.inactivitySQL(zone: "Europe/London"), ["Europe/London", 0, 1]),
        ("inactivity without a zone", AppDatabase.inactivitySQL(zone: ""), [0, 1]),
        ("milestone", AppDatabase.milestoneSQL, [0, 1]),
        ("milestone for one offer", AppDatabase.milestoneSQL + " AND p.offer_id = ?", [0, 1, "coffee"]),
        ("signup", AppDatabase.signupSQL, [0, 1]),
        ("signup's customers", AppDatabase.customersSQL(rowids: AppDatabase.signupSQL), [0, 1]),
        ("signup's customers, first half", AppDatabase.customersSQL(rowids: AppDatabase.signupSQL, half: .before), [0, 1, 10]),
        ("signup's customers, second half", AppDatabase.customersSQL(rowids: AppDatabase.signupSQL, half: .from), [0, 1, 10]),
        ("birthday's customers", AppDatabase.customersSQL(rowids: AppDatabase.birthdaySQL(zone: "Asia/Tokyo", monthDays: 1)), ["Asia/Tokyo", "11-24"]),
        ("ledger lookup", "SELECT 1 FROM ledger WHERE workflow_id = ? AND customer_id = ? AND occurrence = ?", ["w", "c", "o"]),
        ("recent visits", "SELECT count(*) FROM visit WHERE customer_id = ? AND visited_at > ?", ["c", 0]),
    ]

    @Test("no trigger query scans a whole table", arguments: 0..<queries.count)
    func usesIndexes(_ index: Int) throws {
        let (name, sql, arguments) = Self.queries[index]
        let database = try AppDatabase.inMemory()
        let details = try database.reader.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: arguments).map { $0["detail"] as String }
        }
        #expect(!details.isEmpty)
        // Every table is searched through an index or by rowid; a customer query picks its rowids in a subquery.
        for detail in details {
            #expect(detail.hasPrefix("SEARCH") || detail == "LIST SUBQUERY 1", "\(name): \(detail)")
        }
    }
}
