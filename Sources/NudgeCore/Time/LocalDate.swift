public import Foundation

/// A calendar date without a time zone (proleptic Gregorian).
public struct LocalDate: Sendable, Hashable, Comparable, CustomStringConvertible, Codable {
    public var year: Int
    public var month: Int
    public var day: Int

    /// Creates a date; the caller guarantees it is valid (see `isValid`).
    public init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// The date `days` days since 1970-01-01.
    public init(daysSinceEpoch days: Int) {
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        self.init(year: yoe + era * 400 + (m <= 2 ? 1 : 0), month: m, day: d)
    }

    /// Days since 1970-01-01.
    public var daysSinceEpoch: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = month > 2 ? month - 3 : month + 9
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// Whether `year` is a Gregorian leap year.
    public static func isLeapYear(_ year: Int) -> Bool {
        (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
    }

    /// Days in a month of a year.
    public static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Whether the fields name a real date.
    public var isValid: Bool {
        (1...12).contains(month) && day >= 1 && day <= LocalDate.daysIn(month: month, year: year)
    }

    /// This date moved by whole days.
    public func adding(days: Int) -> LocalDate {
        LocalDate(daysSinceEpoch: daysSinceEpoch + days)
    }

    /// Whole days from `self` to `other` (positive when `other` is later).
    public func days(to other: LocalDate) -> Int {
        other.daysSinceEpoch - daysSinceEpoch
    }

    /// `YYYY-MM-DD`.
    public var description: String {
        let y = year >= 1000 ? String(year) : year >= 0 ? String(repeating: "0", count: 4 - String(year).count) + String(year) : String(year)
        return y + "-" + LocalDate.pad(month) + "-" + LocalDate.pad(day)
    }

    /// `MM-DD`.
    public var monthDay: String { "\(LocalDate.pad(month))-\(LocalDate.pad(day))" }

    static func pad(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }

    public static func < (lhs: LocalDate, rhs: LocalDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    /// Parses `YYYY-MM-DD`; nil when malformed or not a real date.
    public init?(parsing text: some StringProtocol) {
        if let parsed = text.utf8.withContiguousStorageIfAvailable({ LocalDate(utf8: $0) }) {
            guard let parsed else { return nil }
            self = parsed
            return
        }
        guard let parsed = Array(text.utf8).withUnsafeBufferPointer({ LocalDate(utf8: $0) }) else { return nil }
        self = parsed
    }

    /// Parses UTF-8 bytes `YYYY-MM-DD`; nil when malformed or not a real date.
    public init?(utf8 bytes: UnsafeBufferPointer<UInt8>) {
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            let y = Self.number(bytes, 0, 4), let m = Self.number(bytes, 5, 7), let d = Self.number(bytes, 8, 10)
        else { return nil }
        self.init(year: y, month: m, day: d)
        guard isValid else { return nil }
    }

    static func number(_ bytes: ArraySlice<UInt8>) -> Int? {
        var value = 0
        for byte in bytes {
            guard byte >= 48, byte <= 57 else { return nil }
            value = value * 10 + Int(byte - 48)
        }
        return bytes.isEmpty ? nil : value
    }

    /// The decimal number in `bytes[from..<to]` (ASCII digits only); nil when empty or not all digits.
    static func number(_ bytes: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int) -> Int? {
        guard from < to else { return nil }
        var value = 0
        for i in from..<to {
            let byte = bytes[i]
            guard byte >= 48, byte <= 57 else { return nil }
            value = value * 10 + Int(byte - 48)
        }
        return value
    }

    /// The two-digit number of bytes `a` and `b`; nil unless both are ASCII digits.
    static func number(_ a: Int, _ b: Int) -> Int? {
        guard a >= 48, a <= 57, b >= 48, b <= 57 else { return nil }
        return (a - 48) * 10 + (b - 48)
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let date = LocalDate(parsing: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a date"))
        }
        self = date
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// A local time of day, `HH:MM`.
public struct TimeOfDay: Sendable, Hashable, CustomStringConvertible {
    public var hour: Int
    public var minute: Int

    /// Creates a time of day.
    public init(hour: Int, minute: Int) {
        self.hour = hour
        self.minute = minute
    }

    /// Parses `HH:MM` (24-hour).
    public init?(parsing text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2,
            let h = Int(parts[0]), let m = Int(parts[1]), (0...23).contains(h), (0...59).contains(m)
        else { return nil }
        self.init(hour: h, minute: m)
    }

    /// Seconds after midnight.
    public var secondsIntoDay: Int { hour * 3600 + minute * 60 }

    public var description: String { "\(LocalDate.pad(hour)):\(LocalDate.pad(minute))" }
}

extension TimeZone {
    /// The local calendar date of `instant` in this zone.
    public func localDate(of instant: Date) -> LocalDate {
        let seconds = Int(instant.timeIntervalSince1970.rounded(.down)) + secondsFromGMT(for: instant)
        return LocalDate(daysSinceEpoch: Self.floorDiv(seconds, 86_400))
    }

    /// The instant at which the local wall clock shows `date` at `seconds` after midnight.
    ///
    /// A wall time skipped by a daylight-saving change resolves to the same distance after the change
    /// (02:30 on a spring-forward night is 03:30); a repeated wall time resolves to its first occurrence.
    public func instant(at date: LocalDate, secondsIntoDay seconds: Int) -> Date {
        // The offsets a day before and a day after; a candidate is valid when the zone's offset at it is the
        // offset it was computed with. (No arrays: this runs once per imported local time.)
        let naive = Double(date.daysSinceEpoch * 86_400 + seconds)
        let before = Double(secondsFromGMT(for: Date(timeIntervalSince1970: naive - 86_400)))
        let after = Double(secondsFromGMT(for: Date(timeIntervalSince1970: naive + 86_400)))
        let early = naive - before
        let earlyValid = Double(secondsFromGMT(for: Date(timeIntervalSince1970: early))) == before
        if after == before {
            return Date(timeIntervalSince1970: early)
        }
        let late = naive - after
        let lateValid = Double(secondsFromGMT(for: Date(timeIntervalSince1970: late))) == after
        switch (earlyValid, lateValid) {
        case (true, true): return Date(timeIntervalSince1970: min(early, late))
        case (false, true): return Date(timeIntervalSince1970: late)
        default: return Date(timeIntervalSince1970: early)
        }
    }

    /// The instant of local midnight starting `date`.
    public func startOfDay(_ date: LocalDate) -> Date {
        instant(at: date, secondsIntoDay: 0)
    }

    static func floorDiv(_ a: Int, _ b: Int) -> Int {
        a >= 0 ? a / b : -((-a + b - 1) / b)
    }
}
