import Foundation
import NudgeLanguage

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
