public import Foundation
import NudgeCore

/// A 5-field cron expression (`minute hour day-of-month month day-of-week`), as crontab(5) reads it: each field is
/// `*`, a number, a range `a-b`, a step `*/n` or `a-b/n`, or a comma-separated list of these; months and days of
/// the week may be written as their first three letters (`jan`, `mon`); day of the week 0 and 7 are Sunday. When
/// both day fields are restricted, a day matching either one matches.
public struct Cron: Sendable, Hashable, CustomStringConvertible {
    public let minutes: Set<Int>
    public let hours: Set<Int>
    public let daysOfMonth: Set<Int>
    public let months: Set<Int>
    /// 0 = Sunday … 6 = Saturday.
    public let daysOfWeek: Set<Int>
    let dayOfMonthRestricted: Bool
    let dayOfWeekRestricted: Bool
    /// The expression as written.
    public let description: String

    /// Parses `text`; the error says which field is wrong and why.
    public init(parsing text: String) throws(CronError) {
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard fields.count == 5 else {
            throw CronError(
                "a cron expression has 5 fields (minute hour day-of-month month day-of-week), such as \"0 10 * * 1\"; "
                    + "this one has \(fields.count)")
        }
        minutes = try Self.field(fields[0], name: "minute", range: 0...59)
        hours = try Self.field(fields[1], name: "hour", range: 0...23)
        daysOfMonth = try Self.field(fields[2], name: "day of month", range: 1...31)
        months = try Self.field(fields[3], name: "month", range: 1...12, names: Self.monthNames)
        let weekdays = try Self.field(fields[4], name: "day of week", range: 0...7, names: Self.dayNames)
        daysOfWeek = Set(weekdays.map { $0 % 7 })
        dayOfMonthRestricted = !fields[2].hasPrefix("*")
        dayOfWeekRestricted = !fields[4].hasPrefix("*")
        description = fields.joined(separator: " ")
    }

    static let monthNames = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    static let dayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

    static func field(_ text: String, name: String, range: ClosedRange<Int>, names: [String] = []) throws(CronError) -> Set<Int> {
        var values = Set<Int>()
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = item.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count <= 2 else { throw CronError("the \(name) field '\(text)' has more than one '/'") }
            var step = 1
            if parts.count == 2 {
                guard let n = Int(parts[1]), n > 0 else {
                    throw CronError("the \(name) field '\(text)': a step after '/' is a positive number")
                }
                step = n
            }
            let low: Int
            let high: Int
            if parts[0] == "*" {
                (low, high) = (range.lowerBound, range.upperBound)
            } else {
                let bounds = parts[0].split(separator: "-", omittingEmptySubsequences: false)
                guard bounds.count <= 2 else { throw CronError("the \(name) field '\(text)' has more than one '-'") }
                func value(_ part: Substring) throws(CronError) -> Int {
                    if let n = Int(part) {
                        guard range.contains(n) else {
                            throw CronError(
                                "the \(name) field '\(text)': \(n) is outside \(range.lowerBound)–\(range.upperBound)")
                        }
                        return n
                    }
                    if let index = names.firstIndex(of: part.lowercased()) { return index + (range.lowerBound == 1 ? 1 : 0) }
                    throw CronError("the \(name) field '\(text)': '\(part)' is not a number\(names.isEmpty ? "" : " or a name such as \(names[1])")")
                }
                low = try value(bounds[0])
                high = bounds.count == 2 ? try value(bounds[1]) : (parts.count == 2 ? range.upperBound : low)
                guard low <= high else { throw CronError("the \(name) field '\(text)': the range \(low)-\(high) is backwards") }
            }
            values.formUnion(stride(from: low, through: high, by: step))
        }
        return values
    }

    /// Whether the expression's day fields match `date`.
    func matches(_ date: LocalDate) -> Bool {
        guard months.contains(date.month) else { return false }
        // 1970-01-01 was a Thursday.
        let weekday = ((date.daysSinceEpoch % 7) + 7 + 4) % 7
        let byMonthDay = daysOfMonth.contains(date.day)
        let byWeekDay = daysOfWeek.contains(weekday)
        switch (dayOfMonthRestricted, dayOfWeekRestricted) {
        case (true, true): return byMonthDay || byWeekDay
        case (true, false): return byMonthDay
        case (false, true): return byWeekDay
        case (false, false): return true
        }
    }

    /// The times of the expression in `zone` falling in `(after, through]`, in order: each as its local date and
    /// time (`YYYY-MM-DDTHH:MM`) and the instant it fires.
    ///
    /// A local time that a daylight-saving change skips fires at the first minute after the gap (several skipped
    /// times of one gap fire once, as the first of them); a local time that the change repeats fires once, the
    /// first time. Days are walked, not minutes: the cost is the days in the window times the times in a day.
    public func times(in zone: TimeZone, after: Date, through: Date) -> [(local: String, due: Date)] {
        guard after < through else { return [] }
        var result: [(local: String, due: Date)] = []
        var firedAt = Set<Date>()
        var date = zone.localDate(of: after).adding(days: -1)
        let last = zone.localDate(of: through).adding(days: 1)
        let clock = hours.sorted().flatMap { hour in minutes.sorted().map { (hour, $0) } }
        while date <= last {
            defer { date = date.adding(days: 1) }
            guard matches(date) else { continue }
            for (hour, minute) in clock {
                var due = zone.instant(at: date, secondsIntoDay: hour * 3600 + minute * 60)
                if zone.localDate(of: due) != date || Self.secondsIntoDay(due, in: zone) != hour * 3600 + minute * 60 {
                    // Skipped by a change: the first minute after the gap is the change itself.
                    guard let change = zone.nextDaylightSavingTimeTransition(after: due.addingTimeInterval(-6 * 3600)),
                        change <= due
                    else { continue }
                    due = change
                }
                guard after < due, due <= through, firedAt.insert(due).inserted else { continue }
                result.append((local: "\(date)T\(TimeOfDay(hour: hour, minute: minute))", due: due))
            }
        }
        return result.sorted { $0.due < $1.due }
    }

    static func secondsIntoDay(_ instant: Date, in zone: TimeZone) -> Int {
        let seconds = Int(instant.timeIntervalSince1970.rounded(.down)) + zone.secondsFromGMT(for: instant)
        return ((seconds % 86_400) + 86_400) % 86_400
    }
}

/// Why a cron expression was refused.
public struct CronError: Error, Sendable, CustomStringConvertible {
    public var description: String

    init(_ description: String) { self.description = description }
}
