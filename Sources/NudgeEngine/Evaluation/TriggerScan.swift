import Foundation
import GRDB
import NudgeLanguage
import NudgeStore

/// Finds the occurrences of one workflow's trigger that fall due in `(now − catch_up, now]`.
///
/// Each trigger's candidates come from an index range scan (birthday by local month-day, inactivity by
/// last-activity instant, milestones by progress update time, sign-ups by sign-up time), widened by the
/// largest time-zone offsets; the exact due instant is then computed in each candidate's own zone.
struct TriggerScan {
    let workflow: Workflow
    let config: ProjectConfig
    let now: Date

    /// Zone offsets lie within −12 h … +14 h; a day of margin on each side covers them and any send_at.
    static let margin: TimeInterval = 2 * 86_400

    var windowStart: Date { now.addingTimeInterval(-Double(workflow.catchUp.seconds)) }
    var sendAtSeconds: Int { (workflow.sendAt ?? config.sendAt).secondsIntoDay }

    func isInWindow(_ due: Date) -> Bool {
        windowStart < due && due <= now
    }

    func zone(of customer: CustomerState) -> TimeZone {
        customer.timeZone.flatMap(TimeZone.init(identifier:)) ?? config.timeZone
    }

    /// UTC calendar dates that a local due date in any zone could have inside the window.
    var candidateDates: ClosedRange<Int> {
        let utc = TimeZone(identifier: "UTC")!
        let low = utc.localDate(of: windowStart.addingTimeInterval(-Self.margin)).daysSinceEpoch
        let high = utc.localDate(of: now.addingTimeInterval(Self.margin)).daysSinceEpoch
        return low...high
    }

    func occurrences(db: Database) throws -> [Occurrence] {
        switch workflow.trigger {
        case .birthday(let daysBefore): return try birthdays(daysBefore: daysBefore, db: db)
        case .inactivity(let days): return try inactivity(days: days, db: db)
        case .milestone(let offer, let percents): return try milestones(offer: offer, percents: percents, db: db)
        case .signup(let daysAfter): return try signups(daysAfter: daysAfter, db: db)
        }
    }

    // MARK: Birthday

    static let birthdaySQL = "SELECT \(CustomerState.columns) FROM customer WHERE birth_month_day IN "

    func birthdays(daysBefore: Int, db: Database) throws -> [Occurrence] {
        var monthDays = Set<String>()
        let dates = candidateDates
        if dates.count > 370 {
            for month in 1...12 {
                for day in 1...LocalDate.daysIn(month: month, year: 2000) {
                    monthDays.insert(LocalDate(year: 2000, month: month, day: day).monthDay)
                }
            }
        } else {
            for dueDay in dates {
                let birthday = LocalDate(daysSinceEpoch: dueDay + daysBefore)
                monthDays.insert(birthday.monthDay)
                // 29 February birthdays fall on 28 February in other years.
                if birthday.month == 2, birthday.day == 28, !LocalDate.isLeapYear(birthday.year) {
                    monthDays.insert("02-29")
                }
            }
        }
        let placeholders = Array(repeating: "?", count: monthDays.count).joined(separator: ",")
        let rows = try Row.fetchCursor(
            db, sql: Self.birthdaySQL + "(\(placeholders))", arguments: StatementArguments(monthDays.sorted()))
        var result: [Occurrence] = []
        let firstYear = LocalDate(daysSinceEpoch: dates.lowerBound).year - 1
        let lastYear = LocalDate(daysSinceEpoch: dates.upperBound).year + 1
        while let row = try rows.next() {
            let customer = CustomerState(row: row)
            guard let monthDay = customer.birthMonthDay else { continue }
            let month = Int(monthDay.prefix(2)) ?? 0
            let day = Int(monthDay.suffix(2)) ?? 0
            let zone = zone(of: customer)
            for year in firstYear...lastYear {
                var birthday = LocalDate(year: year, month: month, day: day)
                if month == 2, day == 29, !LocalDate.isLeapYear(year) { birthday.day = 28 }
                let due = zone.instant(at: birthday.adding(days: -daysBefore), secondsIntoDay: sendAtSeconds)
                if isInWindow(due) {
                    result.append(
                        Occurrence(workflowID: workflow.id, customer: customer, key: "birthday:\(year)", due: due))
                }
            }
        }
        return result
    }

    // MARK: Inactivity

    static let inactivitySQL =
        "SELECT \(CustomerState.columns) FROM customer WHERE last_activity_at >= ? AND last_activity_at < ?"

    func inactivity(days: [Int], db: Database) throws -> [Occurrence] {
        var result: [Occurrence] = []
        let dates = candidateDates
        for n in days {
            // Local last-activity dates L with L + n inside the candidate dates, widened by a day for zones.
            let low = Double((dates.lowerBound - n - 1) * 86_400) * 1000
            let high = Double((dates.upperBound - n + 2) * 86_400) * 1000
            let rows = try Row.fetchCursor(db, sql: Self.inactivitySQL, arguments: [Int64(low), Int64(high)])
            while let row = try rows.next() {
                let customer = CustomerState(row: row)
                let zone = zone(of: customer)
                let lastDate = zone.localDate(of: customer.lastActivityAt)
                let due = zone.instant(at: lastDate.adding(days: n), secondsIntoDay: sendAtSeconds)
                guard isInWindow(due), due > customer.lastActivityAt else { continue }
                result.append(
                    Occurrence(
                        workflowID: workflow.id, customer: customer, key: "inactivity:\(lastDate):\(n)", due: due,
                        parameter: n))
            }
        }
        return result
    }

    // MARK: Milestone

    static let milestoneSQL = """
        SELECT p.offer_id, o.name, o.stamps_required, p.stamps, p.rewards_earned, p.updated_at, \(CustomerState.columns.split(separator: ",").map { "c." + $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ", "))
        FROM progress p
        JOIN offer o ON o.id = p.offer_id
        JOIN customer c ON c.id = p.customer_id
        WHERE p.updated_at > ? AND p.updated_at <= ?
        """

    func milestones(offer: String?, percents: [Int], db: Database) throws -> [Occurrence] {
        var sql = Self.milestoneSQL
        var arguments: StatementArguments = [StoredInstant.millis(windowStart), StoredInstant.millis(now)]
        if let offer {
            sql += " AND p.offer_id = ?"
            arguments += [offer]
        }
        let rows = try Row.fetchCursor(db, sql: sql, arguments: arguments)
        var result: [Occurrence] = []
        while let row = try rows.next() {
            let progress = ProgressState(
                offerID: row[0], offerName: row[1], stampsRequired: row[2], stamps: row[3], rewardsEarned: row[4],
                updatedAt: StoredInstant.date(row[5]))
            guard let reached = percents.filter({ Double($0) <= progress.percent }).max() else { continue }
            let customer = CustomerState(row: row, offset: 6)
            guard isInWindow(progress.updatedAt) else { continue }
            result.append(
                Occurrence(
                    workflowID: workflow.id, customer: customer,
                    key: "milestone:\(progress.offerID):\(progress.rewardsEarned):\(reached)", due: progress.updatedAt,
                    parameter: reached, progress: progress))
        }
        return result
    }

    // MARK: Signup

    static let signupSQL = "SELECT \(CustomerState.columns) FROM customer WHERE signed_up_at > ? AND signed_up_at <= ?"

    func signups(daysAfter: Int, db: Database) throws -> [Occurrence] {
        let offset = Double(daysAfter) * 86_400
        let rows = try Row.fetchCursor(
            db, sql: Self.signupSQL,
            arguments: [
                StoredInstant.millis(windowStart.addingTimeInterval(-offset)),
                StoredInstant.millis(now.addingTimeInterval(-offset)),
            ])
        var result: [Occurrence] = []
        while let row = try rows.next() {
            let customer = CustomerState(row: row)
            let due = customer.signedUpAt.addingTimeInterval(offset)
            guard isInWindow(due) else { continue }
            result.append(Occurrence(workflowID: workflow.id, customer: customer, key: "signup", due: due))
        }
        return result
    }
}
