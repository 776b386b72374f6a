import Foundation
import NudgeCore
import NudgeLanguage
import Testing

/// The `schedule` trigger's cron expressions: what they accept, and the times they fire across daylight-saving
/// changes, in two zones.
@Suite("Cron expressions")
struct CronTests {
    static func instant(_ text: String) throws -> Date {
        try #require(ISO8601.parse(text, zone: .gmt))
    }

    /// The times of `cron` in `zone` within `(after, through]`, as "LOCAL → UTC".
    static func times(_ cron: String, _ zone: String, after: String, through: String) throws -> [String] {
        let parsed = try Cron(parsing: cron)
        let zone = try #require(TimeZone(identifier: zone))
        return try parsed.times(in: zone, after: instant(after), through: instant(through)).map {
            "\($0.local) → \(ISO8601.format($0.due))"
        }
    }

    struct Case: CustomTestStringConvertible, Sendable {
        var cron: String
        var zone: String
        var after: String
        var through: String
        var expected: [String]
        var testDescription: String { "\(cron) in \(zone) over (\(after), \(through)]" }
    }

    @Test(
        "fires at each local time, across both daylight-saving changes of two zones",
        arguments: [
            // Weekly on Mondays at 10:00 in New York, over a fortnight that crosses the November change.
            Case(
                cron: "0 10 * * 1", zone: "America/New_York", after: "2026-10-25T00:00:00Z", through: "2026-11-08T00:00:00Z",
                expected: ["2026-10-26T10:00 → 2026-10-26T14:00:00Z", "2026-11-02T10:00 → 2026-11-02T15:00:00Z"]),
            // 02:30 does not exist on 14 March 2027 in New York: it fires at 03:00 EDT, the first minute after the gap.
            Case(
                cron: "30 2 * * *", zone: "America/New_York", after: "2027-03-13T00:00:00Z", through: "2027-03-15T12:00:00Z",
                expected: [
                    "2027-03-13T02:30 → 2027-03-13T07:30:00Z", "2027-03-14T02:30 → 2027-03-14T07:00:00Z",
                    "2027-03-15T02:30 → 2027-03-15T06:30:00Z",
                ]),
            // 01:30 happens twice on 1 November 2026 in New York: it fires once, the first time (EDT).
            Case(
                cron: "30 1 * * *", zone: "America/New_York", after: "2026-10-31T12:00:00Z", through: "2026-11-02T12:00:00Z",
                expected: ["2026-11-01T01:30 → 2026-11-01T05:30:00Z", "2026-11-02T01:30 → 2026-11-02T06:30:00Z"]),
            // Lisbon skips 01:00–02:00 on 28 March 2027; the gap's skipped times fire once, at 02:00 WEST.
            Case(
                cron: "0,30 1 * * *", zone: "Europe/Lisbon", after: "2027-03-27T12:00:00Z", through: "2027-03-28T12:00:00Z",
                expected: ["2027-03-28T01:00 → 2027-03-28T01:00:00Z"]),
            // Lisbon repeats 01:00–02:00 on 25 October 2026: 01:15 fires once, at its first (WEST) occurrence.
            Case(
                cron: "15 1 * * *", zone: "Europe/Lisbon", after: "2026-10-24T12:00:00Z", through: "2026-10-25T12:00:00Z",
                expected: ["2026-10-25T01:15 → 2026-10-25T00:15:00Z"]),
            // Both day fields restricted: the 1st of the month or a Monday.
            Case(
                cron: "0 9 1 * mon", zone: "Europe/Lisbon", after: "2026-11-29T00:00:00Z", through: "2026-12-08T00:00:00Z",
                expected: ["2026-11-30T09:00 → 2026-11-30T09:00:00Z", "2026-12-01T09:00 → 2026-12-01T09:00:00Z",
                           "2026-12-07T09:00 → 2026-12-07T09:00:00Z"]),
            // Steps, ranges and lists; the window is half-open, (after, through].
            Case(
                cron: "*/20 8-9 * * *", zone: "UTC", after: "2026-12-01T08:00:00Z", through: "2026-12-01T09:20:00Z",
                expected: [
                    "2026-12-01T08:20 → 2026-12-01T08:20:00Z", "2026-12-01T08:40 → 2026-12-01T08:40:00Z",
                    "2026-12-01T09:00 → 2026-12-01T09:00:00Z", "2026-12-01T09:20 → 2026-12-01T09:20:00Z",
                ]),
            // Day of week 7 is Sunday too; month names.
            Case(
                cron: "0 12 * dec 7", zone: "UTC", after: "2026-12-01T00:00:00Z", through: "2026-12-14T00:00:00Z",
                expected: ["2026-12-06T12:00 → 2026-12-06T12:00:00Z", "2026-12-13T12:00 → 2026-12-13T12:00:00Z"]),
        ])
    func times(_ c: Case) throws {
        #expect(try Self.times(c.cron, c.zone, after: c.after, through: c.through) == c.expected)
    }

    @Test(
        "refuses what is not a 5-field expression, naming the field",
        arguments: [
            ("0 10 * *", "a cron expression has 5 fields (minute hour day-of-month month day-of-week), such as \"0 10 * * 1\"; this one has 4"),
            ("0 24 * * *", "the hour field '24': 24 is outside 0–23"),
            ("0 10 0 * *", "the day of month field '0': 0 is outside 1–31"),
            ("0 10 * 13 *", "the month field '13': 13 is outside 1–12"),
            ("0 10 * * 8", "the day of week field '8': 8 is outside 0–7"),
            ("*/0 10 * * *", "the minute field '*/0': a step after '/' is a positive number"),
            ("0 10-8 * * *", "the hour field '10-8': the range 10-8 is backwards"),
            ("0 10 * * fun", "the day of week field 'fun': 'fun' is not a number or a name such as mon"),
            ("0 10 * * 1,", "the day of week field '1,': '' is not a number or a name such as mon"),
        ])
    func refuses(text: String, message: String) {
        #expect(throws: CronError.self) { try Cron(parsing: text) }
        do {
            _ = try Cron(parsing: text)
        } catch {
            #expect(error.description == message)
        }
    }
}
