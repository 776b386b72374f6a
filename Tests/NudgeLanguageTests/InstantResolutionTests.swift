import Foundation
import Testing

@testable import NudgeLanguage
import NudgeCore

/// `TimeZone.instant(at:secondsIntoDay:)` as first written (arrays of candidates), kept as the reference.
private func referenceInstant(_ zone: TimeZone, _ date: LocalDate, _ seconds: Int) -> Date {
    let naive = Double(date.daysSinceEpoch * 86_400 + seconds)
    let before = Double(zone.secondsFromGMT(for: Date(timeIntervalSince1970: naive - 86_400)))
    let after = Double(zone.secondsFromGMT(for: Date(timeIntervalSince1970: naive + 86_400)))
    var valid: [Double] = []
    for offset in [before, after] {
        let candidate = naive - offset
        if Double(zone.secondsFromGMT(for: Date(timeIntervalSince1970: candidate))) == offset {
            valid.append(candidate)
        }
    }
    if let earliest = valid.min() { return Date(timeIntervalSince1970: earliest) }
    return Date(timeIntervalSince1970: naive - before)
}

@Suite("Instant resolution")
struct InstantResolutionTests {
    @Test(
        "resolves wall times around daylight-saving changes as the reference does",
        arguments: [
            "America/New_York", "Europe/London", "Australia/Lord_Howe", "Pacific/Chatham", "America/St_Johns",
            "Asia/Tokyo", "Pacific/Apia", "America/Sao_Paulo", "Europe/Moscow", "UTC",
        ])
    func matchesReference(zoneName: String) throws {
        let zone = try #require(TimeZone(identifier: zoneName))
        // Every 15 minutes of the days around each offset change from 2010 to 2027, and a few historic days.
        var days: [LocalDate] = [date("1918-03-31"), date("1945-08-14"), date("1970-01-01"), date("2011-12-30")]
        var instant = Date(timeIntervalSince1970: 1_262_304_000)
        while let next = zone.nextDaylightSavingTimeTransition(after: instant),
            next.timeIntervalSince1970 < 1_830_000_000
        {
            let day = zone.localDate(of: next)
            days += [day.adding(days: -1), day, day.adding(days: 1)]
            instant = next
        }
        for day in days {
            for seconds in stride(from: 0, to: 86_400, by: 900) {
                #expect(
                    zone.instant(at: day, secondsIntoDay: seconds) == referenceInstant(zone, day, seconds),
                    "\(day) \(seconds)")
            }
        }
    }

    @Test(
        "parses UTF-8 bytes as it parses strings",
        arguments: [
            "2026-11-25T14:00:00Z", "2026-11-25", "2026-11-25 09:00:30.5", "2026-03-08T02:30:00",
            "2026-11-25T19:30:00+05:30",
            "2026-11-25T19:30:00+0530", "2026-11-25T23:00:00+09", "2026-11-25T14:00:00+5", "2026-11-25T14:00:00+05:3:0",
            "2026-11-25T14:00:00+05:30:00", "garbage", "", "2026-02-30", "2026-11-25T14:00:00.Z",
            "2026-11-25T14:00:00,25z",
            "٢٠٢٦-11-25", "2026-11-25T14:00:00+24:00",
        ])
    func bytesMatchStrings(text: String) throws {
        let zone = try #require(TimeZone(identifier: "America/New_York"))
        let fromBytes = Array(text.utf8).withUnsafeBufferPointer { ISO8601.parse(utf8: $0, zone: zone) }
        #expect(fromBytes == ISO8601.parse(text, zone: zone))
        #expect(ISO8601.parse(Substring(text), zone: zone) == ISO8601.parse(text, zone: zone))
    }
}
