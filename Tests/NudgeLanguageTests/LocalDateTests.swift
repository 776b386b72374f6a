import Foundation
import Testing

@testable import NudgeLanguage
import NudgeCore

/// A date from `YYYY-MM-DD` that must parse.
func date(_ text: String) -> LocalDate {
    guard let date = LocalDate(parsing: text) else { preconditionFailure("bad date in a test: \(text)") }
    return date
}

/// The calendar day after `date`, computed from month lengths rather than day counts.
private func successor(of date: LocalDate) -> LocalDate {
    if date.day < LocalDate.daysIn(month: date.month, year: date.year) {
        return LocalDate(year: date.year, month: date.month, day: date.day + 1)
    }
    if date.month < 12 { return LocalDate(year: date.year, month: date.month + 1, day: 1) }
    return LocalDate(year: date.year + 1, month: 1, day: 1)
}

@Suite("Local dates")
struct LocalDateTests {
    @Test(
        "counts days since 1970-01-01",
        arguments: [
            ("1970-01-01", 0), ("1969-12-31", -1), ("1970-01-02", 1), ("2000-02-29", 11_016), ("2000-03-01", 11_017),
            ("1900-03-01", -25_508), ("2100-03-01", 47_541), ("2026-11-25", 20_782), ("1600-01-01", -135_140),
            ("0001-01-01", -719_162), ("9999-12-31", 2_932_896),
        ]
    )
    func knownDays(text: String, days: Int) {
        #expect(date(text).daysSinceEpoch == days)
        #expect(LocalDate(daysSinceEpoch: days) == date(text))
        #expect(LocalDate(daysSinceEpoch: days).description == text)
    }

    @Test("round-trips day counts across ten thousand years")
    func roundTripWide() {
        for days in stride(from: -1_000_000, through: 3_000_000, by: 13) {
            let date = LocalDate(daysSinceEpoch: days)
            guard date.isValid, date.daysSinceEpoch == days else {
                Issue.record("\(days) became \(date) (valid: \(date.isValid), back: \(date.daysSinceEpoch))")
                return
            }
        }
    }

    @Test("steps one calendar day at a time from 1899 to 2101")
    func consecutiveDays() {
        var current = date("1899-01-01")
        let start = current.daysSinceEpoch
        for days in start..<(start + 74_000) {
            let next = LocalDate(daysSinceEpoch: days + 1)
            guard next == successor(of: current), next.daysSinceEpoch == days + 1 else {
                Issue.record("after \(current) came \(next)")
                return
            }
            current = next
        }
        #expect(current > date("2101-06-01"))
    }

    @Test(
        "knows Gregorian leap years",
        arguments: [
            (2000, true), (1900, false), (2024, true), (2100, false), (2026, false), (1600, true), (2400, true),
            (1996, true),
        ]
    )
    func leapYears(year: Int, isLeap: Bool) {
        #expect(LocalDate.isLeapYear(year) == isLeap)
        #expect(LocalDate.daysIn(month: 2, year: year) == (isLeap ? 29 : 28))
        #expect((LocalDate(parsing: "\(year)-02-29") != nil) == isLeap)
        #expect(date("\(year)-02-28").adding(days: 1) == date(isLeap ? "\(year)-02-29" : "\(year)-03-01"))
        #expect(date("\(year)-01-01").days(to: date("\(year + 1)-01-01")) == (isLeap ? 366 : 365))
    }

    @Test(
        "adds days across month and year ends",
        arguments: [
            ("2026-12-31", 1, "2027-01-01"), ("2027-01-01", -1, "2026-12-31"), ("1999-12-31", 1, "2000-01-01"),
            ("2026-03-01", -1, "2026-02-28"), ("2024-03-01", -1, "2024-02-29"), ("1970-01-01", -1, "1969-12-31"),
            ("2024-01-01", 366, "2025-01-01"), ("2023-01-01", 365, "2024-01-01"), ("2026-11-25", 400, "2027-12-30"),
            ("1999-12-31", -36_525, "1899-12-30"), ("2026-01-31", 28, "2026-02-28"), ("2026-04-30", 1, "2026-05-01"),
            ("2026-11-25", 0, "2026-11-25"),
        ]
    )
    func adding(start: String, days: Int, expected: String) {
        #expect(date(start).adding(days: days) == date(expected))
        #expect(date(start).days(to: date(expected)) == days)
        #expect(date(expected).days(to: date(start)) == -days)
    }

    @Test("prints, orders and encodes dates")
    func printing() throws {
        let early = LocalDate(year: 987, month: 3, day: 4)
        #expect(early.description == "0987-03-04")
        #expect(early.monthDay == "03-04")
        #expect(date("2026-11-25") < date("2026-12-01"))
        #expect(date("2026-02-28") < date("2026-03-01"))
        #expect(date("2025-12-31") < date("2026-01-01"))
        #expect(!(date("2026-01-01") < date("2026-01-01")))
        let json = try JSONEncoder().encode([date("2026-11-25")])
        #expect(String(decoding: json, as: UTF8.self) == "[\"2026-11-25\"]")
        #expect(try JSONDecoder().decode([LocalDate].self, from: json) == [date("2026-11-25")])
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode([LocalDate].self, from: Data("[\"2026-02-30\"]".utf8))
        }
    }

    @Test(
        "rejects malformed or impossible dates",
        arguments: [
            "2026-02-30", "2026-13-01", "2026-00-10", "2026-04-31", "2026-01-00", "2026-1-01", "2026/01/01", "26-01-01",
            "2026-01-01T", "", "abcd-ef-gh", "2026-+1-01",
        ]
    )
    func rejects(text: String) {
        #expect(LocalDate(parsing: text) == nil)
    }

    @Test(
        "parses times of day as HH:MM",
        arguments: [("09:00", 9, 0), ("00:00", 0, 0), ("23:59", 23, 59), ("12:30", 12, 30)]
    )
    func timeOfDay(text: String, hour: Int, minute: Int) throws {
        let time = try #require(TimeOfDay(parsing: text))
        #expect(time == TimeOfDay(hour: hour, minute: minute))
        #expect(time.description == text)
        #expect(time.secondsIntoDay == hour * 3600 + minute * 60)
    }

    @Test(
        "rejects times of day that are not HH:MM",
        arguments: ["24:00", "9:00", "09:60", "0900", "09:00:00", "", "ab:cd", "-1:00"])
    func badTimeOfDay(text: String) {
        #expect(TimeOfDay(parsing: text) == nil)
    }
}

@Suite("Time zones")
struct TimeZoneTests {
    @Test(
        "finds the instant of a local wall time, across daylight-saving changes",
        arguments: [
            // New York springs forward at 02:00 on 2026-03-08: 02:30 does not exist and means 03:30 EDT.
            ("America/New_York", "2026-03-08", "02:30", "2026-03-08T07:30:00Z"),
            ("America/New_York", "2026-03-08", "00:00", "2026-03-08T05:00:00Z"),
            ("America/New_York", "2026-03-08", "01:59", "2026-03-08T06:59:00Z"),
            ("America/New_York", "2026-03-08", "03:00", "2026-03-08T07:00:00Z"),
            ("America/New_York", "2026-03-08", "09:00", "2026-03-08T13:00:00Z"),
            // New York falls back at 02:00 on 2026-11-01: 01:30 happens twice; the first (EDT) wins.
            ("America/New_York", "2026-11-01", "01:30", "2026-11-01T05:30:00Z"),
            ("America/New_York", "2026-11-01", "00:00", "2026-11-01T04:00:00Z"),
            ("America/New_York", "2026-11-01", "02:00", "2026-11-01T07:00:00Z"),
            ("America/New_York", "2026-11-01", "09:00", "2026-11-01T14:00:00Z"),
            // London: 01:00 GMT becomes 02:00 BST on 2026-03-29; 02:00 BST becomes 01:00 GMT on 2026-10-25.
            ("Europe/London", "2026-03-29", "01:30", "2026-03-29T01:30:00Z"),
            ("Europe/London", "2026-03-29", "09:00", "2026-03-29T08:00:00Z"),
            ("Europe/London", "2026-10-25", "01:30", "2026-10-25T00:30:00Z"),
            ("Europe/London", "2026-10-25", "09:00", "2026-10-25T09:00:00Z"),
            // Auckland: 03:00 NZDT becomes 02:00 NZST on 2026-04-05; 02:00 NZST becomes 03:00 NZDT on 2026-09-27.
            ("Pacific/Auckland", "2026-04-05", "02:30", "2026-04-04T13:30:00Z"),
            ("Pacific/Auckland", "2026-04-05", "09:00", "2026-04-04T21:00:00Z"),
            ("Pacific/Auckland", "2026-09-27", "02:30", "2026-09-26T14:30:00Z"),
            ("Pacific/Auckland", "2026-09-27", "09:00", "2026-09-26T20:00:00Z"),
            // No daylight saving.
            ("Asia/Tokyo", "2026-03-08", "09:00", "2026-03-08T00:00:00Z"),
            ("Asia/Tokyo", "2026-01-01", "00:00", "2025-12-31T15:00:00Z"),
            ("Asia/Kolkata", "2026-11-25", "09:00", "2026-11-25T03:30:00Z"),
            ("UTC", "2026-11-25", "09:00", "2026-11-25T09:00:00Z"),
        ]
    )
    func instantAtWallTime(zone: String, day: String, time: String, expected: String) throws {
        let seconds = try #require(TimeOfDay(parsing: time)).secondsIntoDay
        let result = timeZone(zone).instant(at: date(day), secondsIntoDay: seconds)
        #expect(ISO8601.format(result) == expected)
    }

    @Test("shows a skipped wall time as the same distance after the change")
    func skippedWallTime() {
        let zone = timeZone("America/New_York")
        let result = zone.instant(at: date("2026-03-08"), secondsIntoDay: 2 * 3600 + 30 * 60)
        #expect(ISO8601.format(result, in: zone) == "2026-03-08T03:30:00-04:00")
        let repeated = zone.instant(at: date("2026-11-01"), secondsIntoDay: 3600 + 30 * 60)
        #expect(ISO8601.format(repeated, in: zone) == "2026-11-01T01:30:00-04:00")
    }

    @Test("starts each local day at local midnight")
    func startOfDay() {
        #expect(ISO8601.format(timeZone("America/New_York").startOfDay(date("2026-11-25"))) == "2026-11-25T05:00:00Z")
        #expect(ISO8601.format(timeZone("America/New_York").startOfDay(date("2026-07-04"))) == "2026-07-04T04:00:00Z")
        #expect(ISO8601.format(timeZone("Pacific/Auckland").startOfDay(date("2027-01-01"))) == "2026-12-31T11:00:00Z")
    }

    @Test(
        "finds the local date of an instant near midnight",
        arguments: [
            ("2026-11-25T04:59:59Z", "America/New_York", "2026-11-24"),
            ("2026-11-25T05:00:00Z", "America/New_York", "2026-11-25"),
            ("2026-07-01T03:59:59Z", "America/New_York", "2026-06-30"),
            ("2026-07-01T04:00:00Z", "America/New_York", "2026-07-01"),
            ("2026-11-24T14:59:59Z", "Asia/Tokyo", "2026-11-24"),
            ("2026-11-24T15:00:00Z", "Asia/Tokyo", "2026-11-25"),
            ("2026-12-31T23:59:59Z", "UTC", "2026-12-31"),
            ("2027-01-01T00:00:00Z", "UTC", "2027-01-01"),
            ("1969-12-31T23:59:59Z", "UTC", "1969-12-31"),
            ("2026-12-31T10:59:59Z", "Pacific/Auckland", "2026-12-31"),
            ("2026-12-31T11:00:00Z", "Pacific/Auckland", "2027-01-01"),
            ("2026-11-25T18:29:59Z", "Asia/Kolkata", "2026-11-25"),
            ("2026-11-25T18:30:00Z", "Asia/Kolkata", "2026-11-26"),
        ]
    )
    func localDate(text: String, zone: String, expected: String) {
        #expect(timeZone(zone).localDate(of: instant(text)) == date(expected))
    }

    @Test("puts a fraction of a second before the epoch on the day before")
    func negativeFraction() {
        #expect(timeZone("UTC").localDate(of: Date(timeIntervalSince1970: -0.5)) == date("1969-12-31"))
        #expect(timeZone("UTC").localDate(of: Date(timeIntervalSince1970: 0.5)) == date("1970-01-01"))
    }
}

@Suite("LocalDays")
struct LocalDaysTests {
    @Test(
        "dates instants as the zone does, across daylight saving and changes of standard time",
        arguments: ["America/New_York", "Europe/Moscow", "Pacific/Apia", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"])
    func matchesTheZone(_ name: String) throws {
        let zone = try #require(TimeZone(identifier: name))
        let days = LocalDays(zone)
        // Every 7 hours and 13 minutes from 1969 to 2101: both sides of the table and every kind of transition.
        var t = -86_400.0 * 400
        while t < 4_102_444_800 + 86_400 * 400 {
            let instant = Date(timeIntervalSince1970: t)
            #expect(days.daysSinceEpoch(of: instant) == zone.localDate(of: instant).daysSinceEpoch, "\(name) at \(t)")
            t += 7 * 3600 + 13 * 60
        }
    }
}
