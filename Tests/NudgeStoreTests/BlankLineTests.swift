import Foundation
import Testing

@testable import NudgeStore
import NudgeCore

@Suite("Blank lines")
struct BlankLineTests {
    @Test("lines of only spaces are skipped like empty ones, and not counted as rows")
    func spacesOnly() async throws {
        let workspace = try Workspace()
        let summary = try await workspace.importCSV(
            .customers, "id,signed_up_at\nc1,2025-01-10\n   \n\t\nc2,2025-01-11\n")
        #expect(summary.rows == 2)
        #expect(try workspace.customer("c2") != nil)
    }
}

@Suite("Re-imports")
struct ReimportTests {
    @Test("re-importing customers whose zone is already known upserts them (the zone list is kept once)")
    func sameZoneTwice() async throws {
        let workspace = try Workspace()
        let csv = "id,name,timezone,signed_up_at\nc1,Ann,Europe/London,2025-01-10\nc2,Bo,Europe/London,2025-01-11\n"
        try await workspace.importCSV(.customers, csv)
        try await workspace.importCSV(.customers, csv.replacingOccurrences(of: "Ann", with: "Anne"))
        try await workspace.importCSV(.customers, "id,timezone,signed_up_at\nc2,Asia/Tokyo,2025-01-11\nc3,,2025-01-12\n")
        #expect(try workspace.customer("c1")?.name == "Anne")
        #expect(try workspace.customer("c2")?.timeZone == "Asia/Tokyo")
        #expect(
            try workspace.strings("SELECT timezone FROM customer_zone ORDER BY timezone") == ["", "Asia/Tokyo", "Europe/London"])
    }
}
