public import Foundation

/// Parsing and printing of the ISO 8601 instants that CSV files, `--now` and JSON output use.
public enum ISO8601 {
    /// What an ISO 8601 text says before a zone is applied: an instant (it carried `Z` or an offset), or a local
    /// wall time (a bare date is local midnight, a time without an offset is local time).
    public enum Parts: Sendable, Equatable {
        /// The text carried its own offset.
        case instant(Date)
        /// A local date and time: `secondsIntoDay` whole seconds plus `fraction` after local midnight of `date`.
        case local(LocalDate, secondsIntoDay: Int, fraction: Double)

        /// The instant, reading a local wall time in `zone`.
        public func instant(in zone: TimeZone) -> Date {
            switch self {
            case .instant(let date): return date
            case .local(let date, let seconds, let fraction):
                let start = zone.instant(at: date, secondsIntoDay: seconds)
                return fraction == 0 ? start : start.addingTimeInterval(fraction)
            }
        }
    }

    /// Parses `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM[:SS[.fff]]` with an optional `Z` or `±HH[:MM]` offset
    /// (a space may stand for `T`). A bare date is local midnight in `zone`; a time without an offset
    /// is local time in `zone`.
    public static func parse(_ text: some StringProtocol, zone: TimeZone) -> Date? {
        parts(text)?.instant(in: zone)
    }

    /// Parses UTF-8 bytes as `parse(_:zone:)` does.
    public static func parse(utf8 bytes: UnsafeBufferPointer<UInt8>, zone: TimeZone) -> Date? {
        parts(utf8: bytes)?.instant(in: zone)
    }

    /// The parts of `text`, before a zone is applied; nil when it is not an ISO 8601 date or date-time.
    public static func parts(_ text: some StringProtocol) -> Parts? {
        if let parsed = text.utf8.withContiguousStorageIfAvailable({ parts(utf8: $0) }) { return parsed }
        return Array(text.utf8).withUnsafeBufferPointer { parts(utf8: $0) }
    }

    /// The parts of UTF-8 `bytes`, before a zone is applied; nil when they are not an ISO 8601 date or date-time.
    public static func parts(utf8 bytes: UnsafeBufferPointer<UInt8>) -> Parts? {
        if bytes.count == 10 {
            guard let date = LocalDate(utf8: bytes) else { return nil }
            return .local(date, secondsIntoDay: 0, fraction: 0)
        }
        guard bytes.count >= 16, let date = LocalDate(utf8: UnsafeBufferPointer(rebasing: bytes[0..<10])),
            bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: "t") || bytes[10] == UInt8(ascii: " "),
            bytes[13] == UInt8(ascii: ":"),
            let hour = LocalDate.number(bytes, 11, 13), let minute = LocalDate.number(bytes, 14, 16),
            hour <= 23, minute <= 59
        else { return nil }
        var index = 16
        var second = 0
        var fraction = 0.0
        if index < bytes.count, bytes[index] == UInt8(ascii: ":") {
            guard index + 3 <= bytes.count, let s = LocalDate.number(bytes, index + 1, index + 3), s <= 60 else {
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
            return .local(date, secondsIntoDay: secondsIntoDay, fraction: fraction)
        }
        var offset = 0
        if bytes[index] == UInt8(ascii: "Z") || bytes[index] == UInt8(ascii: "z") {
            guard index + 1 == bytes.count else { return nil }
        } else if bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
            let sign = bytes[index] == UInt8(ascii: "-") ? -1 : 1
            // The offset's digits, colons dropped: HH or HHMM.
            var digits = (0, 0, 0, 0)
            var count = 0
            for i in (index + 1)..<bytes.count where bytes[i] != UInt8(ascii: ":") {
                guard count < 4 else { return nil }
                switch count {
                case 0: digits.0 = Int(bytes[i])
                case 1: digits.1 = Int(bytes[i])
                case 2: digits.2 = Int(bytes[i])
                default: digits.3 = Int(bytes[i])
                }
                count += 1
            }
            guard count == 2 || count == 4, let hh = LocalDate.number(digits.0, digits.1), hh <= 23 else {
                return nil
            }
            var mm = 0
            if count == 4 {
                guard let m = LocalDate.number(digits.2, digits.3), m <= 59 else { return nil }
                mm = m
            }
            offset = sign * (hh * 3600 + mm * 60)
        } else {
            return nil
        }
        let seconds = Double(date.daysSinceEpoch * 86_400 + secondsIntoDay - offset) + fraction
        return .instant(Date(timeIntervalSince1970: seconds))
    }

    /// `2026-11-25T14:00:00Z` (UTC, whole seconds; milliseconds when present).
    public static func format(_ instant: Date) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        write(instant, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends `format(instant)` to `out` as UTF-8, digit by digit (a plan's JSON has one per message).
    public static func write(_ instant: Date, to out: inout [UInt8]) {
        let totalMillis = Int((instant.timeIntervalSince1970 * 1000).rounded())
        let whole = TimeZone.floorDiv(totalMillis, 1000)
        let millis = totalMillis - whole * 1000
        let days = TimeZone.floorDiv(whole, 86_400)
        let secondsIntoDay = whole - days * 86_400
        let date = LocalDate(daysSinceEpoch: days)
        func digits(_ value: Int, _ count: Int) {
            var divisor = 1
            for _ in 1..<count { divisor *= 10 }
            while divisor > 0 {
                out.append(UInt8(ascii: "0") + UInt8(value / divisor % 10))
                divisor /= 10
            }
        }
        if (0...9999).contains(date.year) { digits(date.year, 4) } else { out.append(contentsOf: String(date.year).utf8) }
        out.append(UInt8(ascii: "-"))
        digits(date.month, 2)
        out.append(UInt8(ascii: "-"))
        digits(date.day, 2)
        out.append(UInt8(ascii: "T"))
        digits(secondsIntoDay / 3600, 2)
        out.append(UInt8(ascii: ":"))
        digits(secondsIntoDay % 3600 / 60, 2)
        out.append(UInt8(ascii: ":"))
        digits(secondsIntoDay % 60, 2)
        if millis > 0 {
            out.append(UInt8(ascii: "."))
            digits(millis, 3)
        }
        out.append(UInt8(ascii: "Z"))
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
