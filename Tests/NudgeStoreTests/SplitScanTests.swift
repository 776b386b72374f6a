import Foundation
import Testing

@testable import NudgeStore
import NudgeCore

/// A large trigger scan reads its second half on another connection (`AppDatabase.scan(rowidSQL:splitAt:bind:)`):
/// the candidates must come out exactly as one read gives them, in the same order.
@Suite("Trigger scans read in two halves")
struct SplitScanTests {
    static let now = Date(timeIntervalSince1970: 1_773_576_000)

    /// The same 1,500 demo customers in a SQLite file, opened as `run` opens it (a pool) or as `dry-run` does (one
    /// connection).
    static func database(readOnly: Bool) throws -> (AppDatabase, URL) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("nudge-split-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("nudge.sqlite").path
        try DemoData.populate(try AppDatabase.open(path: path), count: 1_500, now: now)
        return (readOnly ? try AppDatabase.openForReading(path: path) : try AppDatabase.open(path: path), directory)
    }

    /// The first quarter's days, for a birthday scan with enough customers to cut.
    static let monthDays = (1...3).flatMap { month in (1...28).map { String(format: "%02d-%02d", month, $0) } }

    /// Every trigger query that reads customers, with its parameters.
    static let scans: [(name: String, sql: String, bind: @Sendable (RawStatement) -> Void)] = [
        (
            "sign-ups", AppDatabase.signupSQL,
            { statement in
                statement.bind(1, StoredInstant.millis(now.addingTimeInterval(-400 * 86_400)))
                statement.bind(2, StoredInstant.millis(now))
            }
        ),
        (
            "inactivity without a zone", AppDatabase.inactivitySQL(zone: ""),
            { statement in
                statement.bind(1, 0)
                statement.bind(2, StoredInstant.millis(now))
            }
        ),
        (
            "birthdays in a zone", AppDatabase.birthdaySQL(zone: "America/New_York", monthDays: monthDays.count),
            { statement in
                statement.bindCopy(1, "America/New_York")
                for (index, monthDay) in monthDays.enumerated() { statement.bindCopy(Int32(index + 2), monthDay) }
            }
        ),
    ]

    @Test("the halves give the same candidates as one read", arguments: [false, true], 0..<scans.count)
    func sameCandidates(readOnly: Bool, index: Int) throws {
        let (database, directory) = try Self.database(readOnly: readOnly)
        defer { try? FileManager.default.removeItem(at: directory) }
        let scan = Self.scans[index]
        let whole = try database.scan(rowidSQL: scan.sql, splitAt: .max, bind: scan.bind)
        let halves = try database.scan(rowidSQL: scan.sql, splitAt: 10, bind: scan.bind)
        #expect(whole.parts == 1)
        #expect(whole.candidates.count >= 10, "\(scan.name): too few customers to cut")
        #expect(halves.parts == 2, "\(scan.name)")
        #expect(halves.candidates.map(\.customer) == whole.candidates.map(\.customer), "\(scan.name)")
        // Table order: rowids grow, so ids of the demo data (inserted in id order) do too.
        let ids = halves.candidates.map(\.customer.id)
        #expect(ids == ids.sorted(), "\(scan.name)")
    }

    @Test("a database in memory is read in one part")
    func inMemory() throws {
        let database = try AppDatabase.inMemory()
        try DemoData.populate(database, count: 200, now: Self.now)
        let scan = Self.scans[0]
        let result = try database.scan(rowidSQL: scan.sql, splitAt: 10, bind: scan.bind)
        #expect(result.parts == 1)
        #expect(result.candidates.count > 10)
    }
}
