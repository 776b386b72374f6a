import Foundation
import GRDB
import NudgeLanguage
import NudgeStore

/// Finds the occurrences of one workflow's trigger that fall due in `(now − catch_up, now]`.
///
/// Each trigger's candidates come from an index range scan: birthdays by (zone, local month-day), inactivity by
/// (zone, last-activity instant), milestones by progress update time, sign-ups by sign-up time. Date-based
/// triggers are scanned zone by zone — the few zones in use, from `customer_zone` — with each zone's exact local
/// window, so no row is converted to find out whether it is due; the due instant is then computed exactly for
/// each candidate.
struct TriggerScan {
    let workflow: Workflow
    let config: ProjectConfig
    let now: Date
    /// The zones in use: IANA names, "" for customers without one (the business zone).
    let zones: [String]

    /// What makes two workflows' scans the same: trigger, catch-up and send time.
    struct Key: Hashable {
        var trigger: Trigger
        var catchUp: Int
        var sendAt: Int
    }

    var key: Key {
        Key(trigger: workflow.trigger, catchUp: workflow.catchUp.seconds, sendAt: sendAtSeconds)
    }

    var windowStart: Date { now.addingTimeInterval(-Double(workflow.catchUp.seconds)) }
    var sendAtSeconds: Int { (workflow.sendAt ?? config.sendAt).secondsIntoDay }

    func isInWindow(_ due: Date) -> Bool {
        windowStart < due && due <= now
    }

    func zone(of customer: CustomerState) -> TimeZone {
        Self.zone(of: customer, config: config)
    }

    /// The customer's own zone, else the business zone.
    static func zone(of customer: CustomerState, config: ProjectConfig) -> TimeZone {
        customer.timeZone.flatMap(TimeZone.init(identifier:)) ?? config.timeZone
    }

    /// The zone a `customer_zone` name stands for.
    func timeZone(named name: String) -> TimeZone {
        name.isEmpty ? config.timeZone : TimeZone(identifier: name) ?? config.timeZone
    }

    /// `timezone = ?` or, for customers without a zone, `timezone IS NULL`.
    static func zoneCondition(_ name: String) -> (sql: String, arguments: StatementArguments) {
        name.isEmpty ? ("timezone IS NULL", []) : ("timezone = ?", [name])
    }

    /// The local dates in `zone` whose send_at falls inside the window.
    func dueDates(in zone: TimeZone) -> [LocalDate] {
        let first = zone.localDate(of: windowStart).adding(days: -1)
        let last = zone.localDate(of: now).adding(days: 1)
        var dates: [LocalDate] = []
        var date = first
        while date <= last {
            if isInWindow(zone.instant(at: date, secondsIntoDay: sendAtSeconds)) { dates.append(date) }
            date = date.adding(days: 1)
        }
        return dates
    }

    /// All zones in use, read once per plan.
    static func zonesInUse(_ db: Database) throws -> [String] {
        try String.fetchAll(db, sql: "SELECT timezone FROM customer_zone ORDER BY timezone")
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

    static func birthdaySQL(zone: String, monthDays: Int) -> String {
        let placeholders = Array(repeating: "?", count: monthDays).joined(separator: ",")
        return "SELECT \(CustomerState.columns) FROM customer WHERE \(zoneCondition(zone).sql) "
            + "AND birth_month_day IN (\(placeholders))"
    }

    func birthdays(daysBefore: Int, db: Database) throws -> [Occurrence] {
        var result: [Occurrence] = []
        for zoneName in zones {
            let zone = timeZone(named: zoneName)
            let dates = dueDates(in: zone)
            guard let firstDate = dates.first, let lastDate = dates.last else { continue }
            var monthDays = Set<String>()
            for date in dates {
                let birthday = date.adding(days: daysBefore)
                monthDays.insert(birthday.monthDay)
                // 29 February birthdays fall on 28 February in other years.
                if birthday.month == 2, birthday.day == 28, !LocalDate.isLeapYear(birthday.year) {
                    monthDays.insert("02-29")
                }
                if monthDays.count >= 366 { break }
            }
            let rows = try Row.fetchCursor(
                db, sql: Self.birthdaySQL(zone: zoneName, monthDays: monthDays.count),
                arguments: Self.zoneCondition(zoneName).arguments + StatementArguments(monthDays.sorted()))
            let firstYear = firstDate.adding(days: daysBefore).year - 1
            let lastYear = lastDate.adding(days: daysBefore).year + 1
            while let row = try rows.next() {
                let customer = CustomerState(row: row)
                guard let monthDay = customer.birthMonthDay else { continue }
                let month = Int(monthDay.prefix(2)) ?? 0
                let day = Int(monthDay.suffix(2)) ?? 0
                for year in firstYear...lastYear {
                    var birthday = LocalDate(year: year, month: month, day: day)
                    if month == 2, day == 29, !LocalDate.isLeapYear(year) { birthday.day = 28 }
                    let due = zone.instant(at: birthday.adding(days: -daysBefore), secondsIntoDay: sendAtSeconds)
                    if isInWindow(due) {
                        result.append(
                            Occurrence(
                                workflowID: workflow.id, customer: customer, key: "birthday:\(year)", due: due, zone: zone))
                    }
                }
            }
        }
        return result
    }

    // MARK: Inactivity

    static func inactivitySQL(zone: String) -> String {
        "SELECT \(CustomerState.columns) FROM customer WHERE \(zoneCondition(zone).sql) "
            + "AND last_activity_at >= ? AND last_activity_at < ?"
    }

    func inactivity(days: [Int], db: Database) throws -> [Occurrence] {
        var result: [Occurrence] = []
        for zoneName in zones {
            let zone = timeZone(named: zoneName)
            let dates = dueDates(in: zone)
            guard let first = dates.first, let last = dates.last else { continue }
            for n in days {
                // Last activity on a local date L with L + n a due date: one instant range per zone and threshold.
                let low = StoredInstant.millis(zone.startOfDay(first.adding(days: -n)))
                let high = StoredInstant.millis(zone.startOfDay(last.adding(days: 1 - n)))
                let rows = try Row.fetchCursor(
                    db, sql: Self.inactivitySQL(zone: zoneName),
                    arguments: Self.zoneCondition(zoneName).arguments + [low, high])
                while let row = try rows.next() {
                    let customer = CustomerState(row: row)
                    let lastDate = zone.localDate(of: customer.lastActivityAt)
                    let due = zone.instant(at: lastDate.adding(days: n), secondsIntoDay: sendAtSeconds)
                    guard isInWindow(due), due > customer.lastActivityAt else { continue }
                    result.append(
                        Occurrence(
                            workflowID: workflow.id, customer: customer, key: "inactivity:\(lastDate):\(n)", due: due, zone: zone,
                            parameter: n))
                }
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
            let progress = ProgressState(row: row)
            guard let reached = percents.filter({ Double($0) <= progress.percent }).max() else { continue }
            let customer = CustomerState(row: row, offset: 6)
            guard isInWindow(progress.updatedAt) else { continue }
            result.append(
                Occurrence(
                    workflowID: workflow.id, customer: customer,
                    key: "milestone:\(progress.offerID):\(progress.rewardsEarned):\(reached)", due: progress.updatedAt,
                    zone: zone(of: customer), parameter: reached, progress: progress))
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
            result.append(
                Occurrence(workflowID: workflow.id, customer: customer, key: "signup", due: due, zone: zone(of: customer)))
        }
        return result
    }
}
