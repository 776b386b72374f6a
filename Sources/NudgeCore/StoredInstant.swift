public import Foundation

/// Instants are stored as integer milliseconds since 1970 (UTC).
public enum StoredInstant {
    /// Milliseconds for `date`.
    public static func millis(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded())
    }

    /// The date for stored milliseconds.
    public static func date(_ millis: Int64) -> Date {
        Date(timeIntervalSince1970: Double(millis) / 1000)
    }
}
