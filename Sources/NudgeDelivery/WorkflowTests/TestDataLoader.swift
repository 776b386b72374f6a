import Foundation
public import NudgeLanguage
import NudgeStore

/// Rows of a test file that the import refused, each at its row in the file.
public struct TestDataRejected: Error, Sendable, CustomStringConvertible {
    public var diagnostics: [Diagnostic]

    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}

/// Puts a test file's rows into a database through the CSV import, so that they are checked exactly as an import
/// checks them; a refused row is reported at its line in the test file.
struct TestDataLoader {
    var database: AppDatabase
    var file: String
    var zone: TimeZone

    /// Upserts `data` (customers, then offers, visits, progress); `now` stamps rows without a time of their own.
    func load(_ data: TestData, now: Date) throws {
        for kind in TestData.Kind.allCases {
            guard let rows = data.rows[kind], !rows.isEmpty, let importKind = ImportKind(rawValue: kind.rawValue) else { continue }
            // Rows naming the same columns go through one file; a row leaves the columns it does not name as they
            // are, as an import without those columns does.
            var start = 0
            while start < rows.count {
                let columns = rows[start].cells.map(\.column)
                var end = start + 1
                while end < rows.count, rows[end].cells.map(\.column) == columns { end += 1 }
                try load(Array(rows[start..<end]), columns: columns, kind: importKind, now: now)
                start = end
            }
        }
    }

    private func load(_ rows: [TestRow], columns: [String], kind: ImportKind, now: Date) throws {
        var text = columns.map(Self.cell).joined(separator: ",") + "\n"
        var line = 2
        var rowAtLine: [Int: TestRow] = [:]
        for row in rows {
            rowAtLine[line] = row
            let record = row.cells.map { $0.value.map(Self.cell) ?? "" }.joined(separator: ",")
            text += record + "\n"
            line += 1 + record.utf8.count { $0 == UInt8(ascii: "\n") }
        }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("nudge-test-\(UUID().uuidString).csv")
        try Data(text.utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        do {
            _ = try database.importCSV(kind, path: url.path, options: ImportOptions(defaultZone: zone, now: now, displayPath: file))
        } catch let rejected as ImportRejected {
            throw TestDataRejected(
                diagnostics: rejected.problems.map { problem in
                    let location: SourceLocation
                    if let row = rowAtLine[problem.line] {
                        // A problem naming a column or quoting a value points at its cell.
                        location =
                            row.cells.first {
                                problem.message.contains("'\($0.column)'") || $0.value.map { problem.message.contains("'\($0)'") } == true
                            }?.location ?? row.location
                    } else {
                        // The header's problems (a column the kind does not have) point at the first cell naming it.
                        location =
                            rows.lazy.flatMap(\.cells).first { problem.message.contains("'\($0.column)'") }?.columnLocation
                            ?? rows[0].location
                    }
                    return .error("\(kind.rawValue): \(problem.message)", at: location)
                })
        }
    }

    /// A CSV cell: quoted when it holds a comma, a quote, a line break or surrounding spaces.
    static func cell(_ value: String) -> String {
        let needsQuotes =
            value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
            || value.first == " " || value.last == " "
        return needsQuotes ? "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : value
    }
}
