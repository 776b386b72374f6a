import ArgumentParser
import Foundation
import NudgeLanguage
import NudgeStore

/// Bridges to the library's ISO 8601 parser (kept separate so commands read plainly).
enum ISO8601Parsing {
    static func parse(_ text: String, zone: TimeZone) -> Date? {
        ISO8601.parse(text, zone: zone)
    }

    /// Validation in `validate()`, before the project's zone is known.
    static func isValid(_ text: String) -> Bool {
        ISO8601.parse(text, zone: TimeZone(identifier: "UTC")!) != nil
    }
}

/// Throws the usage error for a malformed `--now`.
func validateNow(_ now: String?) throws {
    if let now, !ISO8601Parsing.isValid(now) {
        throw ValidationError("'--now \(now)' is not an ISO 8601 instant such as 2026-11-25T09:00:00Z")
    }
}

/// Opens the database at `path`, which must exist (commands that read it never create one).
func openExistingDatabase(path: String) throws -> AppDatabase {
    guard FileManager.default.fileExists(atPath: path) else {
        Console.error(
            "\(path): error: no database here; import customers first (nudge import customers FILE.csv) or run 'nudge demo'")
        throw ExitCode(1)
    }
    return try openDatabase(path: path)
}
