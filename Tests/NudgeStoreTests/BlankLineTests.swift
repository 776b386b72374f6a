import Foundation
import Testing

@testable import NudgeStore

@Suite("Blank lines")
struct BlankLineTests {
    @Test("lines of only spaces are skipped like empty ones, and not counted as rows")
    func spacesOnly() throws {
        let workspace = try Workspace()
        let summary = try workspace.importCSV(
            .customers, "id,signed_up_at\nc1,2025-01-10\n   \n\t\nc2,2025-01-11\n")
        #expect(summary.rows == 2)
        #expect(try workspace.customer("c2") != nil)
    }
}
