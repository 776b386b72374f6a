import Foundation
import GRDB
import NudgeCore
import Synchronization

/// The hand-written SQL floor of a plan: what the same plan costs with none of Nudge's generality.
///
/// A purpose-built SQLite file holds the customers with their derived fields worked out beforehand (the zone's UTC
/// offset on the benchmark day, the local day of the last activity, the birthday's month-day, staff and VIP flags
/// from the tags, the visit count) and one index per trigger; a script of hand-written SQL, one query per workflow
/// of the example project, finds the due occurrences, applies `when`, drops what the ledger holds and picks each
/// action's channel; the `sqlite3` command-line shell runs it as a whole process and prints the rows as JSON, as
/// `nudge dry-run --format json` prints its lines. Nudge's figure divided by this one is how far Nudge is from its
/// floor.
enum Floor {
    /// Builds the floor's database at `path` from Nudge's SQLite database at `source` (customers, visits, progress,
    /// offers and the ledger as they are), for plans made on the local days around `day` (whose UTC offsets are used).
    static func build(from source: String, into path: String, businessZone: TimeZone, day: Date) throws {
        try? FileManager.default.removeItem(atPath: path)
        let queue = try DatabaseQueue(path: path)
        try queue.writeWithoutTransaction { db in
            // The zone's UTC offset on the benchmark day, in seconds, and the local day (days since 1970-01-01) of
            // an instant in milliseconds: the derived fields a hand-written schema would keep.
            let zones = Mutex<[String: TimeZone]>([:])
            @Sendable func zone(_ name: String?) -> TimeZone {
                guard let name, !name.isEmpty else { return businessZone }
                return zones.withLock { zones in
                    if let known = zones[name] { return known }
                    let found = TimeZone(identifier: name) ?? businessZone
                    zones[name] = found
                    return found
                }
            }
            db.add(
                function: DatabaseFunction("zone_offset", argumentCount: 1, pure: true) { values in
                    zone(String.fromDatabaseValue(values[0].databaseValue)).secondsFromGMT(for: day)
                })
            db.add(
                function: DatabaseFunction("local_day", argumentCount: 2, pure: true) { values in
                    guard let millis = Int64.fromDatabaseValue(values[0].databaseValue) else { return nil }
                    let instant = Date(timeIntervalSince1970: Double(millis) / 1000)
                    let offset = zone(String.fromDatabaseValue(values[1].databaseValue)).secondsFromGMT(for: instant)
                    return Int64(((Double(millis) / 1000 + Double(offset)) / 86_400).rounded(.down))
                })
            try db.execute(literal: "ATTACH DATABASE \(source) AS nudge")
            try db.execute(
                sql: """
                    PRAGMA journal_mode = OFF;
                    PRAGMA synchronous = OFF;
                    CREATE TABLE person (
                      id TEXT PRIMARY KEY, first_name TEXT, email TEXT, phone TEXT, push_token TEXT, wallet_pass_id TEXT,
                      email_ok INTEGER, sms_ok INTEGER, push_ok INTEGER, staff INTEGER, vip INTEGER,
                      visits_total INTEGER, birth_md TEXT, utc_offset INTEGER, signed_up_at INTEGER,
                      last_activity_at INTEGER, last_activity_day INTEGER);
                    INSERT INTO person
                    SELECT id, CASE WHEN instr(name, ' ') > 0 THEN substr(name, 1, instr(name, ' ') - 1) ELSE name END,
                      nullif(trim(email), ''), nullif(trim(phone), ''), nullif(trim(push_token), ''),
                      nullif(trim(wallet_pass_id), ''), email_opt_in, sms_opt_in, push_opt_in,
                      tags LIKE '%"staff"%', tags LIKE '%"vip"%', visits_total, birth_month_day, zone_offset(timezone),
                      signed_up_at, last_activity_at, local_day(last_activity_at, timezone)
                    FROM nudge.customer;
                    CREATE INDEX person_on_birthday ON person(birth_md);
                    CREATE INDEX person_on_last_activity_day ON person(last_activity_day);
                    CREATE INDEX person_on_signed_up_at ON person(signed_up_at);
                    CREATE TABLE progress (customer_id TEXT, offer_id TEXT, stamps_required INTEGER, stamps INTEGER,
                      rewards_earned INTEGER, updated_at INTEGER);
                    INSERT INTO progress SELECT p.customer_id, p.offer_id, o.stamps_required, p.stamps, p.rewards_earned,
                      p.updated_at FROM nudge.progress p JOIN nudge.offer o ON o.id = p.offer_id;
                    CREATE INDEX progress_on_updated_at ON progress(updated_at);
                    CREATE TABLE visit (customer_id TEXT, visited_at INTEGER, PRIMARY KEY (customer_id, visited_at))
                      WITHOUT ROWID;
                    INSERT INTO visit SELECT customer_id, visited_at FROM nudge.visit;
                    CREATE TABLE ledger (workflow_id TEXT, customer_id TEXT, occurrence TEXT,
                      PRIMARY KEY (workflow_id, customer_id, occurrence)) WITHOUT ROWID;
                    INSERT INTO ledger SELECT workflow_id, customer_id, occurrence FROM nudge.ledger;
                    ANALYZE;
                    """)
            try db.execute(sql: "DETACH DATABASE nudge")
        }
    }

    /// A channel's address column, whether the customer may receive it, and why not.
    static let channels: [String: (address: String, ok: String, missing: String, refused: String?)] = [
        "email": ("email", "email_ok", "no email address", "not opted in to email"),
        "sms": ("phone", "sms_ok", "no phone number", "not opted in to sms"),
        "push": ("push_token", "push_ok", "no push token", "not opted in to push"),
        "wallet": ("wallet_pass_id", "1", "no wallet pass", nil),
    ]

    /// The channel, recipient and suppression reason of an action over `channels`, as SQL over `person` columns.
    static func choice(_ channels: [String]) -> (channel: String, recipient: String, reason: String) {
        var channel = "CASE"
        var recipient = "CASE"
        var reasons: [String] = []
        for name in channels {
            let c = Self.channels[name]!
            channel += " WHEN \(c.address) IS NOT NULL AND \(c.ok) THEN '\(name)'"
            recipient += " WHEN \(c.address) IS NOT NULL AND \(c.ok) THEN \(c.address)"
            let prefix = channels.count > 1 ? "\(name): " : ""
            reasons.append(
                "CASE WHEN \(c.address) IS NULL THEN '\(prefix)\(c.missing)' ELSE '\(prefix)\(c.refused ?? "")' END")
        }
        return (channel + " END", recipient + " END", reasons.joined(separator: " || '; ' || "))
    }

    /// One workflow of the plan: a CTE of its due occurrences (`due` in seconds, `occurrence`, and the person's
    /// columns), filtered by `when` and the ledger, and one row per action.
    struct Workflow {
        var id: String
        /// SELECT … FROM person (and more) giving `due` and `occurrence` with every person column.
        var occurrences: String
        var when: String
        var actions: [[String]]
    }

    /// The script of a plan: the rows of every workflow in Nudge's order, printed as JSON; `bodies` renders a
    /// message body on each channel named (SQL over `person` columns).
    static func script(_ workflows: [Workflow], bodies: [String: String] = [:]) -> String {
        var ctes: [String] = []
        var selects: [String] = []
        for (n, workflow) in workflows.enumerated() {
            let name = "w\(n)"
            ctes.append(
                """
                \(name) AS (SELECT * FROM (\(workflow.occurrences)) AS o WHERE \(workflow.when)
                  AND NOT EXISTS (SELECT 1 FROM ledger l WHERE l.workflow_id = '\(workflow.id)'
                    AND l.customer_id = o.id AND l.occurrence = o.occurrence))
                """)
            for (index, action) in workflow.actions.enumerated() {
                let choice = choice(action)
                let body = bodies.isEmpty
                    ? ""
                    : ", CASE channel "
                        + action.compactMap { channel in bodies[channel].map { "WHEN '\(channel)' THEN \($0)" } }
                        .joined(separator: " ") + " END AS body"
                selects.append(
                    """
                    SELECT due, '\(workflow.id)' AS workflow, id AS customer, occurrence, \(index) AS action, channel,
                      CASE WHEN channel IS NULL THEN 'suppressed' ELSE 'send' END AS status,
                      CASE WHEN channel IS NULL THEN reason END AS reason, recipient\(body)
                    FROM (SELECT *, \(choice.channel) AS channel, \(choice.recipient) AS recipient,
                      \(choice.reason) AS reason FROM \(name))
                    """)
            }
        }
        let columns = "strftime('%Y-%m-%dT%H:%M:%SZ', due, 'unixepoch') AS due, workflow, customer, occurrence, channel, "
            + "status, reason, recipient" + (bodies.isEmpty ? "" : ", body")
        return """
            .mode json
            WITH \(ctes.joined(separator: ",\n"))
            SELECT \(columns) FROM (\(selects.joined(separator: "\nUNION ALL\n")))
            ORDER BY due, workflow, customer, occurrence, action;

            """
    }

    // MARK: Triggers

    /// A plan's window: `(now − catch_up, now]`, in seconds since 1970, and the local days it may touch in any zone.
    struct Window {
        var start: Int64
        var end: Int64

        init(now: Date, catchUpDays: Int) {
            end = Int64(now.timeIntervalSince1970)
            start = end - Int64(catchUpDays) * 86_400
        }

        /// Days since 1970 from the first to the last local date of the window in zones from UTC−12 to UTC+14.
        var days: ClosedRange<Int64> { (start - 12 * 3600) / 86_400 - 1...(end + 14 * 3600) / 86_400 + 1 }
    }

    /// Birthdays `daysBefore` ahead whose `sendAt` (seconds into the local day) falls in the window.
    static func birthdays(daysBefore: Int, sendAt: Int, _ window: Window) -> String {
        var monthDays = Set<String>()
        var years = Set<Int>()
        for day in window.days {
            let date = LocalDate(daysSinceEpoch: Int(day) + daysBefore)
            monthDays.insert(date.monthDay)
            years.insert(date.year)
        }
        let due = "CAST(round((julianday(y.year || '-' || p.birth_md) - 2440587.5) * 86400) AS INTEGER) - \(daysBefore * 86_400) + \(sendAt) - p.utc_offset"
        return """
            SELECT * FROM (SELECT p.*, 'birthday:' || y.year AS occurrence, \(due) AS due
              FROM person p, (\(years.sorted().map { "SELECT \($0) AS year" }.joined(separator: " UNION ALL "))) AS y
              WHERE p.birth_md IN (\(monthDays.sorted().map { "'\($0)'" }.joined(separator: ", "))))
            WHERE due > \(window.start) AND due <= \(window.end)
            """
    }

    /// Inactivity of each of `days` whose `sendAt` falls in the window.
    static func inactivity(days: [Int], sendAt: Int, _ window: Window) -> String {
        days.map { n in
            """
            SELECT * FROM (SELECT p.*, 'inactivity:' || date(p.last_activity_day * 86400, 'unixepoch') || ':\(n)' AS occurrence,
                (p.last_activity_day + \(n)) * 86400 + \(sendAt) - p.utc_offset AS due
              FROM person p WHERE p.last_activity_day BETWEEN \(window.days.lowerBound - Int64(n)) AND \(window.days.upperBound - Int64(n)))
            WHERE due > \(window.start) AND due <= \(window.end) AND due * 1000 > last_activity_at
            """
        }.joined(separator: "\nUNION ALL\n")
    }

    /// Sign-ups `daysAfter` days before the window.
    static func signups(daysAfter: Int, _ window: Window) -> String {
        let shift = Int64(daysAfter) * 86_400
        return """
            SELECT p.*, 'signup' AS occurrence, p.signed_up_at / 1000 + \(shift) AS due FROM person p
            WHERE p.signed_up_at > \((window.start - shift) * 1000) AND p.signed_up_at <= \((window.end - shift) * 1000)
            """
    }

    /// Stamp cards updated in the window past the highest of `percents` they reach.
    static func milestones(percents: [Int], _ window: Window) -> String {
        let reached = "CASE " + percents.sorted(by: >).map { "WHEN stamps * 100 >= \($0) * stamps_required THEN \($0)" }
            .joined(separator: " ") + " END"
        return """
            SELECT p.*, 'milestone:' || g.offer_id || ':' || g.rewards_earned || ':' || g.reached AS occurrence,
              g.updated_at / 1000 AS due
            FROM (SELECT *, \(reached) AS reached FROM progress
              WHERE updated_at > \(window.start * 1000) AND updated_at <= \(window.end * 1000)) AS g
            JOIN person p ON p.id = g.customer_id WHERE g.reached IS NOT NULL
            """
    }

    // MARK: Plans

    /// The example project's eight workflows at `now` (see `Workflows/`), by hand.
    static func examplePlan(now: Date) -> [Workflow] {
        let nine = 9 * 3600
        let day = Window(now: now, catchUpDays: 1)
        let visits90 = "(SELECT count(*) FROM visit v WHERE v.customer_id = o.id AND v.visited_at > \((day.end - 90 * 86_400) * 1000))"
        return [
            Workflow(
                id: "birthday-reminder", occurrences: birthdays(daysBefore: 8, sendAt: 10 * 3600, day), when: "NOT staff",
                actions: [["email"]]),
            Workflow(
                id: "birthday-treat", occurrences: birthdays(daysBefore: 0, sendAt: nine, day), when: "NOT staff",
                actions: [["email"], ["push", "sms"]]),
            Workflow(
                id: "one-year-anniversary", occurrences: signups(daysAfter: 365, Window(now: now, catchUpDays: 3)),
                when: "visits_total >= 5 AND \(visits90) >= 1", actions: [["email", "push"]]),
            Workflow(
                id: "second-visit-nudge", occurrences: signups(daysAfter: 3, day), when: "visits_total = 0",
                actions: [["sms"]]),
            Workflow(
                id: "stamp-milestones", occurrences: milestones(percents: [50, 80, 100], day), when: "1",
                actions: [["push", "email"]]),
            Workflow(
                id: "vip-birthday-wallet", occurrences: birthdays(daysBefore: 0, sendAt: 8 * 3600, day), when: "vip",
                actions: [["wallet"]]),
            Workflow(id: "welcome", occurrences: signups(daysAfter: 0, day), when: "1", actions: [["email"]]),
            Workflow(
                id: "win-back",
                occurrences: inactivity(days: [30, 60, 90], sendAt: nine, Window(now: now, catchUpDays: 2)),
                when: "visits_total >= 1 AND NOT staff", actions: [["email", "sms"]]),
        ]
    }

    /// The benchmark's broadcast (every sign-up of the last `days` days, on the first channel of email, SMS and push
    /// that the customer can receive), with each message's body made as its template makes it.
    static func broadcast(now: Date, days: Int, business: String) -> String {
        script(
            [
                Workflow(
                    id: "broadcast", occurrences: signups(daysAfter: 0, Window(now: now, catchUpDays: days)), when: "1",
                    actions: [["email", "sms", "push"]])
            ],
            bodies: [
                "email": "'<p>Hi ' || first_name || ', new autumn menu!</p>'",
                "sms": "'Hi ' || first_name || ', new autumn menu at \(business)!'",
                "push": "'Hi ' || first_name || ', come and taste it.'",
            ])
    }
}
