import Foundation
import Testing

@testable import NudgeLanguage
import NudgeCore

@Suite("ISO 8601")
struct ISO8601Tests {
    @Test(
        "parses instants with Z, offsets, fractions and local times",
        arguments: [
            ("2026-11-25T14:00:00Z", "UTC", "2026-11-25T14:00:00Z"),
            ("2026-11-25T14:00Z", "Asia/Tokyo", "2026-11-25T14:00:00Z"),
            ("2026-11-25 14:00:00z", "Asia/Tokyo", "2026-11-25T14:00:00Z"),
            ("2026-11-25t14:00:00Z", "UTC", "2026-11-25T14:00:00Z"),
            ("2026-11-25T19:30:00+05:30", "America/New_York", "2026-11-25T14:00:00Z"),
            ("2026-11-25T19:30:00+0530", "America/New_York", "2026-11-25T14:00:00Z"),
            ("2026-11-25T06:00:00-0800", "UTC", "2026-11-25T14:00:00Z"),
            ("2026-11-25T06:00:00-08:00", "UTC", "2026-11-25T14:00:00Z"),
            ("2026-11-25T23:00:00+09", "UTC", "2026-11-25T14:00:00Z"),
            ("2026-11-26T00:30+10:30", "UTC", "2026-11-25T14:00:00Z"),
            ("2026-01-01T00:00:00-05:00", "Asia/Tokyo", "2026-01-01T05:00:00Z"),
            ("2026-01-01T02:00:00+03:00", "UTC", "2025-12-31T23:00:00Z"),
            ("2026-11-25T14:00:00.250Z", "UTC", "2026-11-25T14:00:00.250Z"),
            ("2026-11-25T14:00:00,5Z", "UTC", "2026-11-25T14:00:00.500Z"),
            ("2026-11-25T14:00:00.123456Z", "UTC", "2026-11-25T14:00:00.123Z"),
            ("2026-11-25T15:00:00.750+01:00", "UTC", "2026-11-25T14:00:00.750Z"),
            ("1969-12-31T23:59:59Z", "UTC", "1969-12-31T23:59:59Z"),
            // A bare date is local midnight in the given zone.
            ("2026-11-25", "America/New_York", "2026-11-25T05:00:00Z"),
            ("2026-07-04", "America/New_York", "2026-07-04T04:00:00Z"),
            ("2026-11-25", "Asia/Tokyo", "2026-11-24T15:00:00Z"),
            ("2026-11-25", "UTC", "2026-11-25T00:00:00Z"),
            // A date-time without an offset is local time in the given zone.
            ("2026-11-25T09:00", "America/New_York", "2026-11-25T14:00:00Z"),
            ("2026-11-25T09:00:30", "America/New_York", "2026-11-25T14:00:30Z"),
            ("2026-11-25 09:00:30.5", "America/New_York", "2026-11-25T14:00:30.500Z"),
            ("2026-07-04T09:00", "America/New_York", "2026-07-04T13:00:00Z"),
            ("2026-03-08T02:30:00", "America/New_York", "2026-03-08T07:30:00Z"),
            ("2026-11-25T09:00", "Asia/Kolkata", "2026-11-25T03:30:00Z"),
        ]
    )
    func parses(text: String, zone: String, expected: String) throws {
        let parsed = try #require(ISO8601.parse(text, zone: timeZone(zone)))
        #expect(ISO8601.format(parsed) == expected)
    }

    @Test(
        "rejects malformed instants",
        arguments: [
            "2026-02-30", "2026-02-30T10:00Z", "2026-11-25T25:00Z", "2026-11-25T24:00", "2026-11-25T12:60Z",
            "2026-11-25T12:00:61Z", "garbage", "", "2026-11-25T14", "2026-11-25T14:00:00Zjunk", "2026-11-25X14:00Z",
            "2026-11-25T14:00:00.Z", "2026-11-25T14:00:00+5", "2026-11-25T14:00:00+24:00", "2026-11-25T14:00:00+05:60",
            "2026-11-25T14:00:00 UTC", "2026-11-25T1a:00Z", "2026-11-25T14-00Z", "25/11/2026", "2026-11-25T14:0",
        ]
    )
    func rejects(text: String) {
        #expect(ISO8601.parse(text, zone: timeZone("UTC")) == nil)
    }

    @Test(
        "formats instants in UTC with milliseconds only when present",
        arguments: [
            (0.0, "1970-01-01T00:00:00Z"),
            (1.25, "1970-01-01T00:00:01.250Z"),
            (-1, "1969-12-31T23:59:59Z"),
            (-0.5, "1969-12-31T23:59:59.500Z"),
            (1_795_615_200, "2026-11-25T14:00:00Z"),
            (951_782_400, "2000-02-29T00:00:00Z"),
            (-62_135_596_800, "0001-01-01T00:00:00Z"),
            (253_402_300_799.999, "9999-12-31T23:59:59.999Z"),
            (253_402_300_800, "10000-01-01T00:00:00Z"),
        ]
    )
    func formats(seconds: Double, expected: String) {
        #expect(ISO8601.format(Date(timeIntervalSince1970: seconds)) == expected)
    }

    @Test(
        "formats instants in a zone's wall time with its offset",
        arguments: [
            ("America/New_York", "2026-11-25T09:00:00-05:00"),
            ("America/Los_Angeles", "2026-11-25T06:00:00-08:00"),
            ("Asia/Kolkata", "2026-11-25T19:30:00+05:30"),
            ("Pacific/Auckland", "2026-11-26T03:00:00+13:00"),
            ("UTC", "2026-11-25T14:00:00+00:00"),
        ]
    )
    func formatsInZone(zone: String, expected: String) throws {
        let moment = instant("2026-11-25T14:00:00Z")
        #expect(ISO8601.format(moment, in: timeZone(zone)) == expected)
        #expect(try #require(ISO8601.parse(expected, zone: timeZone("UTC"))) == moment)
    }

    @Test("round-trips formatted instants")
    func roundTrip() throws {
        for seconds in stride(from: -2_000_000_000.0, through: 4_000_000_000.0, by: 86_399.25) {
            let moment = Date(timeIntervalSince1970: seconds)
            let text = ISO8601.format(moment)
            let back = try #require(ISO8601.parse(text, zone: timeZone("Asia/Tokyo")))
            #expect(back == moment, "\(text)")
            if back != moment { return }
        }
    }
}

@Suite("Durations")
struct DurationSpecTests {
    @Test(
        "parses an integer and a unit",
        arguments: [
            ("30m", 1800), ("12h", 43_200), ("1d", 86_400), ("2w", 1_209_600), ("0m", 0), (" 90m ", 5400),
            ("36h", 129_600),
        ]
    )
    func parses(text: String, seconds: Int) throws {
        let duration = try #require(DurationSpec(parsing: text))
        #expect(duration.seconds == seconds)
        #expect(duration.text == text.trimmingCharacters(in: .whitespaces))
        #expect(duration.description == duration.text)
    }

    @Test(
        "rejects anything else",
        arguments: ["1x", "-1d", "", "d", "1", "1 d", "1.5h", "1D", "one d", "1dd", "٣d", "1s"])
    func rejects(text: String) {
        #expect(DurationSpec(parsing: text) == nil)
    }
}
