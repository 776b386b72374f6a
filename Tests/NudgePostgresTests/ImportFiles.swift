import Foundation
import NudgePostgres
import NudgeStore

/// A temporary folder for the CSV files a test imports, removed with it.
final class ImportFiles {
    static let options = ImportOptions(
        defaultZone: TimeZone(identifier: "America/New_York")!, now: Date(timeIntervalSince1970: 1_764_000_000),
        displayPath: "x.csv")

    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("nudge-pg-files-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    /// Writes `text` to a new file and imports it as `kind` into `store`.
    func load(_ kind: ImportKind, _ text: String, into store: PostgresStore) async throws {
        let path = directory.appendingPathComponent("\(kind.rawValue)-\(UUID().uuidString).csv").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        _ = try await store.importCSV(kind, path: path, options: Self.options)
    }
}
