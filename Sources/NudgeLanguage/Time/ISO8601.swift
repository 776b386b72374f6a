public import Foundation

/// Parsing and printing of the ISO 8601 instants that CSV files, `--now` and JSON output use.
public enum ISO8601 {
    /// Parses `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM[:SS[.fff]]` with an optional `Z` or `±HH[:MM]` offset
    /// (a space may stand for `T`). A bare date is local midnight in `zone`; a time without an offset
    /// is local time in `zone`.
    public static func parse(_ text: some StringProtocol, zone: TimeZone) -> Date? {
        let bytes = Array(text.utf8)
        if bytes.count == 10 {
            guard let date = LocalDate(parsing: text) else { return nil }
            return zone.startOfDay(date)
        }
        guard bytes.count >= 16, let date = LocalDate(parsing: String(decoding: bytes[0..<10], as: UTF8.self)),
            bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: "t") || bytes[10] == UInt8(ascii: " "),
            bytes[13] == UInt8(ascii: ":"),
            let hour = LocalDate.number(bytes[11..<13]), let minute = LocalDate.number(bytes[14..<16]),
            hour <= 23, minute <= 59
        else { return nil }
        var index = 16
        var second = 0
        var fraction = 0.0
        if index < bytes.count, bytes[index] == UInt8(ascii: ":") {
            guard index + 3 <= bytes.count, let s = LocalDate.number(bytes[(index + 1)..<(index + 3)]), s <= 60 else {
                return nil
            }
            second = s
            index += 3
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") || bytes[index] == UInt8(ascii: ",") {
                index += 1
                var scale = 0.1
                let start = index
                while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
                    fraction += Double(bytes[index] - 48) * scale
                    scale /= 10
                    index += 1
                }
                guard index > start else { return nil }
            }
        }
        let secondsIntoDay = hour * 3600 + minute * 60 + second
        if index == bytes.count {
            return zone.instant(at: date, secondsIntoDay: secondsIntoDay).addingTimeInterval(fraction)
        }
        var offset = 0
        if bytes[index] == UInt8(ascii: "Z") || bytes[index] == UInt8(ascii: "z") {
            guard index + 1 == bytes.count else { return nil }
        } else if bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
            let sign = bytes[index] == UInt8(ascii: "-") ? -1 : 1
            let rest = Array(bytes[(index + 1)...]).filter { $0 != UInt8(ascii: ":") }
            guard rest.count == 2 || rest.count == 4, let hh = LocalDate.number(rest[0..<2]), hh <= 23 else {
                return nil
            }
            var mm = 0
            if rest.count == 4 {
                guard let m = LocalDate.number(rest[2..<4]), m <= 59 else { return nil }
                mm = m
            }
            offset = sign * (hh * 3600 + mm * 60)
        } else {
            return nil
        }
        let seconds = Double(date.daysSinceEpoch * 86_400 + secondsIntoDay - offset) + fraction
        return Date(timeIntervalSince1970: seconds)
    }

    /// `2026-11-25T14:00:00Z` (UTC, whole seconds; milliseconds when present).
    public static func format(_ instant: Date) -> String {
        let totalMillis = Int((instant.timeIntervalSince1970 * 1000).rounded())
        let whole = TimeZone.floorDiv(totalMillis, 1000)
        let millis = totalMillis - whole * 1000
        let days = TimeZone.floorDiv(whole, 86_400)
        let secondsIntoDay = whole - days * 86_400
        let date = LocalDate(daysSinceEpoch: days)
        let time =
            "\(LocalDate.pad(secondsIntoDay / 3600)):\(LocalDate.pad(secondsIntoDay % 3600 / 60)):\(LocalDate.pad(secondsIntoDay % 60))"
        if millis > 0 && millis < 1000 {
            return "\(date)T\(time)." + (millis < 10 ? "00" : millis < 100 ? "0" : "") + String(millis) + "Z"
        }
        return "\(date)T\(time)Z"
    }

    /// The instant in local wall time of `zone` with its offset, e.g. `2026-11-25T09:00:00-05:00`.
    public static func format(_ instant: Date, in zone: TimeZone) -> String {
        let offset = zone.secondsFromGMT(for: instant)
        let shifted = Int(instant.timeIntervalSince1970.rounded(.down)) + offset
        let days = TimeZone.floorDiv(shifted, 86_400)
        let secondsIntoDay = shifted - days * 86_400
        let date = LocalDate(daysSinceEpoch: days)
        let sign = offset < 0 ? "-" : "+"
        let magnitude = abs(offset)
        return "\(date)T\(LocalDate.pad(secondsIntoDay / 3600)):\(LocalDate.pad(secondsIntoDay % 3600 / 60)):"
            + "\(LocalDate.pad(secondsIntoDay % 60))\(sign)\(LocalDate.pad(magnitude / 3600)):\(LocalDate.pad(magnitude % 3600 / 60))"
    }
}

/// A duration written as an integer and a unit: `30m`, `12h`, `1d`, `2w`.
public struct DurationSpec: Sendable, Hashable, CustomStringConvertible {
    /// The length in seconds.
    public var seconds: Int
    /// The text as written.
    public var text: String

    /// Parses `N` followed by `m`, `h`, `d` or `w`; nil otherwise.
    public init?(parsing text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let unit = trimmed.last, let count = Int(trimmed.dropLast()), count >= 0,
            trimmed.dropLast().allSatisfy(\.isASCII)
        else { return nil }
        let scale: Int
        switch unit {
        case "m": scale = 60
        case "h": scale = 3600
        case "d": scale = 86_400
        case "w": scale = 604_800
        default: return nil
        }
        self.seconds = count * scale
        self.text = trimmed
    }

    /// A duration of `seconds`, described as `text`.
    public init(seconds: Int, text: String) {
        self.seconds = seconds
        self.text = text
    }

    public var description: String { text }
}
