import Foundation
import Synchronization
import NudgeLanguage
import NudgeStore
import NudgeCore

/// Finds the occurrences of one workflow's trigger that fall due in `(now − catch_up, now]`.
///
/// The evaluate stage. Each trigger's candidates come from an index range scan: birthdays by (zone, local month-day), inactivity by
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
        zone(named: customer.timeZone, config: config)
    }

    /// The zone called `name`, else the business zone. Each is made once per process: sweeps and scans meet a few
    /// zones in a million customers, and making a `TimeZone` from its name costs microseconds (a model fit of 1M
    /// customers spent 2 s on it).
    static func zone(named name: String?, config: ProjectConfig) -> TimeZone {
        guard let name else { return config.timeZone }
        if let known = zonesByName.withLock({ $0[name] }) { return known }
        guard let zone = TimeZone(identifier: name) else { return config.timeZone }
        zonesByName.withLock { $0[name] = zone }
        return zone
    }

    private static let zonesByName = Mutex<[String: TimeZone]>([:])

    /// The zone a `customer_zone` name stands for.
    func timeZone(named name: String) -> TimeZone {
        name.isEmpty ? config.timeZone : Self.zone(named: name, config: config)
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

    func occurrences(store: any PlanningStore) async throws -> [Occurrence] {
        switch workflow.trigger {
        case .birthday(let daysBefore): return try await birthdays(daysBefore: daysBefore, store: store)
        case .inactivity(let days): return try await inactivity(days: days, store: store)
        case .milestone(let offer, let percents):
            return try await milestones(offer: offer, percents: percents, store: store)
        case .signup(let daysAfter): return try await signups(daysAfter: daysAfter, store: store)
        case .segment: return []  // the planner's segment stage finds the members (`segmentEntries`)
        case .reward(let offer): return try await rewards(offer: offer, store: store)
        case .visit(let delay): return try await visits(delaySeconds: delay, store: store)
        case .once:
            guard let due = workflow.trigger.onceInstant(in: config.timeZone), isInWindow(due) else { return [] }
            return try await broadcast([(key: "once", due: due, offer: nil)], store: store)
        case .schedule(let cron):
            let times = cron.times(in: config.timeZone, after: windowStart, through: now)
            return try await broadcast(times.map { (key: "schedule:\($0.local)", due: $0.due, offer: nil) }, store: store)
        case .newOffer:
            // Each offer published in the window is announced to every customer (whose `when` holds), once.
            let offers = try await store.publishedOffers(after: windowStart, through: now)
            return try await broadcast(
                offers.compactMap { offer in offer.publishedAt.map { (key: "new_offer:\(offer.id)", due: $0, offer: offer) } },
                store: store)
        }
    }

    // MARK: Birthday

    func birthdays(daysBefore: Int, store: any PlanningStore) async throws -> [Occurrence] {
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
            let candidates = try await store.candidates(.birthdays(zone: zoneName, monthDays: monthDays.sorted()))
            let firstYear = firstDate.adding(days: daysBefore).year - 1
            let lastYear = lastDate.adding(days: daysBefore).year + 1
            for candidate in candidates {
                let customer = candidate.customer
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

    func inactivity(days: [Int], store: any PlanningStore) async throws -> [Occurrence] {
        var result: [Occurrence] = []
        for zoneName in zones {
            let zone = timeZone(named: zoneName)
            let dates = dueDates(in: zone)
            guard let first = dates.first, let last = dates.last else { continue }
            for n in days {
                // Last activity on a local date L with L + n a due date: one instant range per zone and threshold.
                let candidates = try await store.candidates(
                    .lastActivity(
                        zone: zoneName, from: zone.startOfDay(first.adding(days: -n)),
                        until: zone.startOfDay(last.adding(days: 1 - n))))
                for candidate in candidates {
                    let customer = candidate.customer
                    let lastDate = zone.localDate(of: customer.lastActivityAt)
                    let due = zone.instant(at: lastDate.adding(days: n), secondsIntoDay: sendAtSeconds)
                    guard isInWindow(due), due > customer.lastActivityAt else { continue }
                    result.append(
                        Occurrence(
                            workflowID: workflow.id, customer: customer, key: "inactivity:\(lastDate):\(n)", due: due,
                            zone: zone, parameter: n))
                }
            }
        }
        return result
    }

    // MARK: Milestone

    func milestones(offer: String?, percents: [Int], store: any PlanningStore) async throws -> [Occurrence] {
        let candidates = try await store.candidates(.progress(after: windowStart, through: now, offer: offer))
        var result: [Occurrence] = []
        result.reserveCapacity(candidates.count)
        for candidate in candidates {
            guard let progress = candidate.progress,
                let reached = percents.filter({ Double($0) <= progress.percent }).max()
            else { continue }
            let customer = candidate.customer
            guard isInWindow(progress.updatedAt) else { continue }
            result.append(
                Occurrence(
                    workflowID: workflow.id, customer: customer,
                    key: "milestone:\(progress.offerID):\(progress.rewardsEarned):\(reached)", due: progress.updatedAt,
                    zone: zone(of: customer), parameter: reached, progress: progress))
        }
        return result
    }

    // MARK: Reward

    /// Stamp cards updated in the window that have earned a reward: one occurrence per reward (`reward:OFFER:N`),
    /// due when the card was updated.
    func rewards(offer: String?, store: any PlanningStore) async throws -> [Occurrence] {
        let candidates = try await store.candidates(.progress(after: windowStart, through: now, offer: offer))
        var result: [Occurrence] = []
        for candidate in candidates {
            guard let progress = candidate.progress, progress.rewardsEarned >= 1, isInWindow(progress.updatedAt) else {
                continue
            }
            let customer = candidate.customer
            result.append(
                Occurrence(
                    workflowID: workflow.id, customer: customer, key: "reward:\(progress.offerID):\(progress.rewardsEarned)",
                    due: progress.updatedAt, zone: zone(of: customer), progress: progress))
        }
        return result
    }

    // MARK: Visit

    /// One occurrence per visit made `delay` before the window (`visit:VISITED_AT`). A customer with such a visit
    /// was last active at or after it, so the candidates are the customers active since the window's first visit
    /// time (the last-activity index, zone by zone), and their visits are read in one batch.
    func visits(delaySeconds: Int, store: any PlanningStore) async throws -> [Occurrence] {
        let delay = Double(delaySeconds)
        let earliest = windowStart.addingTimeInterval(-delay)
        let latest = now.addingTimeInterval(-delay)
        var customers: [String: CustomerState] = [:]
        for zoneName in zones {
            let active = try await store.candidates(
                .lastActivity(zone: zoneName, from: earliest, until: .distantFuture))
            for candidate in active { customers[candidate.customer.id] = candidate.customer }
        }
        guard !customers.isEmpty else { return [] }
        var result: [Occurrence] = []
        for visit in try await store.visits(customerIDs: customers.keys.sorted()) {
            guard earliest < visit.visitedAt, visit.visitedAt <= latest, let customer = customers[visit.customerID] else {
                continue
            }
            let due = visit.visitedAt.addingTimeInterval(delay)
            guard isInWindow(due) else { continue }
            result.append(
                Occurrence(
                    workflowID: workflow.id, customer: customer, key: "visit:\(ISO8601.format(visit.visitedAt))", due: due,
                    zone: zone(of: customer)))
        }
        return result
    }

    // MARK: Broadcasts

    /// Every customer, once for each of `times` (the `once`, `schedule` and `new_offer` triggers, with the offer a
    /// new_offer time announces): their `when` conditions pick the audience. Customers are read a page at a time, in
    /// id order (`CustomerSweep`, reading nothing more).
    func broadcast(_ times: [(key: String, due: Date, offer: OfferState?)], store: any PlanningStore) async throws
        -> [Occurrence]
    {
        guard !times.isEmpty else { return [] }
        var result: [Occurrence] = []
        try await CustomerSweep(store: store, config: config, now: now, readsRecentVisits: false).forEach { view in
            for time in times {
                result.append(
                    Occurrence(
                        workflowID: workflow.id, customer: view.customer, key: time.key, due: time.due, zone: view.zone,
                        offer: time.offer))
            }
        }
        return result
    }

    // MARK: Signup

    func signups(daysAfter: Int, store: any PlanningStore) async throws -> [Occurrence] {
        let offset = Double(daysAfter) * 86_400
        let candidates = try await store.candidates(
            .signups(after: windowStart.addingTimeInterval(-offset), through: now.addingTimeInterval(-offset)))
        var result: [Occurrence] = []
        result.reserveCapacity(candidates.count)
        for candidate in candidates {
            let customer = candidate.customer
            let due = customer.signedUpAt.addingTimeInterval(offset)
            guard isInWindow(due) else { continue }
            result.append(
                Occurrence(workflowID: workflow.id, customer: customer, key: "signup", due: due, zone: zone(of: customer)))
        }
        return result
    }
}
