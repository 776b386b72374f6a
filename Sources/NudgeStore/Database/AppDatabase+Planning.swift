public import Foundation
import GRDB
import GRDBSQLite
import NudgeLanguage
#if canImport(Glibc)
import Glibc
public import NudgeCore
#endif

extension ProgressState {
    /// Reads `offer_id, offer name, stamps_required, stamps, rewards_earned, updated_at` from the start of `row`.
    init(row: Row) {
        self.init(
            offerID: row[0], offerName: row[1], stampsRequired: row[2], stamps: row[3], rewardsEarned: row[4],
            updatedAt: StoredInstant.date(row[5]))
    }
}

/// The SQLite side of the planning seam. Every candidate query is an index range scan (see `QueryPlanTests`):
/// birthdays by (zone, month-day), inactivity by (zone, last activity), milestones by progress update time,
/// sign-ups by sign-up time.
extension AppDatabase: PlanningStore {
    /// `timezone = ?` or, for customers without a zone, `timezone IS NULL`.
    static func zoneCondition(_ name: String) -> (sql: String, arguments: StatementArguments) {
        name.isEmpty ? ("timezone IS NULL", []) : ("timezone = ?", [name])
    }

    /// The rowids of the customers for whom `condition` holds: an index-only scan of the condition's index.
    static func rowids(where condition: String) -> String {
        "SELECT rowid FROM customer WHERE \(condition)"
    }

    public static func birthdaySQL(zone: String, monthDays: Int) -> String {
        let placeholders = Array(repeating: "?", count: monthDays).joined(separator: ",")
        return rowids(where: "\(zoneCondition(zone).sql) AND birth_month_day IN (\(placeholders))")
    }

    public static func inactivitySQL(zone: String) -> String {
        rowids(where: "\(zoneCondition(zone).sql) AND last_activity_at >= ? AND last_activity_at < ?")
    }

    public static let milestoneSQL = """
        SELECT p.offer_id, o.name, o.stamps_required, p.stamps, p.rewards_earned, p.updated_at, \(CustomerState.columns(of: "c"))
        FROM progress p
        JOIN offer o ON o.id = p.offer_id
        JOIN customer c ON c.id = p.customer_id
        WHERE p.updated_at > ? AND p.updated_at <= ?
        """

    public static let signupSQL = rowids(where: "signed_up_at > ? AND signed_up_at <= ?")

    public static let ledgerSQL = "SELECT 1 FROM ledger WHERE workflow_id = ? AND customer_id = ? AND occurrence = ?"

    public static let visitCountSQL = "SELECT count(*) FROM visit WHERE customer_id = ? AND visited_at > ?"

    public func zonesInUse() throws -> [String] {
        try reader.read { db in try String.fetchAll(db, sql: "SELECT timezone FROM customer_zone ORDER BY timezone") }
    }

    public func candidates(_ query: CandidateQuery) throws -> [Candidate] {
        switch query {
        case .birthdays(let zone, let monthDays):
            return try customers(rowidSQL: Self.birthdaySQL(zone: zone, monthDays: monthDays.count)) { statement in
                var next = Self.bindZone(zone, statement)
                for monthDay in monthDays {
                    statement.bindCopy(next, monthDay)
                    next += 1
                }
            }
        case .lastActivity(let zone, let from, let until):
            return try customers(rowidSQL: Self.inactivitySQL(zone: zone)) { statement in
                let next = Self.bindZone(zone, statement)
                statement.bind(next, StoredInstant.millis(from))
                statement.bind(next + 1, StoredInstant.millis(until))
            }
        case .progress(let after, let through, let offer):
            return try reader.read { db in
                var sql = Self.milestoneSQL
                var arguments: StatementArguments = [StoredInstant.millis(after), StoredInstant.millis(through)]
                if let offer {
                    sql += " AND p.offer_id = ?"
                    arguments += [offer]
                }
                var result: [Candidate] = []
                let rows = try Row.fetchCursor(db, sql: sql, arguments: arguments)
                while let row = try rows.next() {
                    result.append(Candidate(customer: CustomerState(row: row, offset: 6), progress: ProgressState(row: row)))
                }
                return result
            }
        case .signups(let after, let through):
            return try customers(rowidSQL: Self.signupSQL) { statement in
                statement.bind(1, StoredInstant.millis(after))
                statement.bind(2, StoredInstant.millis(through))
            }
        }
    }

    /// Binds the zone of `zoneCondition(zone)` (none for customers without a zone); returns the next parameter.
    static func bindZone(_ zone: String, _ statement: RawStatement) -> Int32 {
        guard !zone.isEmpty else { return 1 }
        statement.bindCopy(1, zone)
        return 2
    }

    /// Scans reading at least this many customers read the second half on a second connection at the same time.
    static let splitScanThreshold = 16_384

    /// The customers whose rowids `rowidSQL` (its parameters bound by `bind`) selects, in table order.
    ///
    /// The rows are read in rowid order (`rowid IN (rowidSQL)`): the trigger's index gives the rowids, SQLite sorts
    /// them, and each page of the table is read once, not once per customer in index order (the 100,000 customers of
    /// a broadcast are scattered over the whole table). Reading and decoding those rows is most of a large scan (0.4
    /// s for a broadcast's 100,000 on one core), so a large scan (its rowids are read first, from the index alone) is
    /// cut at its middle rowid, and the second half is read on another connection, on another core, meanwhile; the
    /// halves are joined in table order, so the result is the same.
    func customers(rowidSQL: String, bind: @escaping @Sendable (RawStatement) -> Void) throws -> [Candidate] {
        try scan(rowidSQL: rowidSQL, splitAt: Self.splitScanThreshold, bind: bind).candidates
    }

    /// `customers(rowidSQL:bind:)`, cut in two halves from `splitAt` customers on; with how many parts it was read in.
    func scan(rowidSQL: String, splitAt threshold: Int, bind: @escaping @Sendable (RawStatement) -> Void) throws
        -> (candidates: [Candidate], parts: Int)
    {
        try reader.read { db in
            let ids = try RawStatement(db, sql: rowidSQL)
            bind(ids)
            var rowids: [Int64] = []
            while try ids.step() {
                rowids.append(sqlite3_column_int64(ids.handle, 0))
            }
            let rows = rowids.count
            guard rows >= max(2, threshold), let second = secondReader() else {
                return (try Self.customers(rowidSQL: rowidSQL, bind: bind, db, capacity: rows), 1)
            }
            // The middle rowid: the index gives the rowids in its own order, so they are sorted here.
            rowids.sort()
            let middle = rowids[rows / 2]
            let secondHalf = SecondHalf()
            let done = DispatchGroup()
            done.enter()
            DispatchQueue.global().async {
                secondHalf.result = Result {
                    try second { try Self.customers(rowidSQL: rowidSQL, half: (.from, middle), bind: bind, $0, capacity: rows / 2) }
                }
                done.leave()
            }
            let firstHalf = Result {
                try Self.customers(rowidSQL: rowidSQL, half: (.before, middle), bind: bind, db, capacity: rows)
            }
            done.wait()
            return (try firstHalf.get() + secondHalf.result!.get(), 2)
        }
    }

    /// Half of a scan cut at a rowid: the rowids before it, or from it on.
    public enum ScanHalf: Sendable {
        case before, from
    }

    /// The customers of `rowidSQL` in table order; with `half`, only those before or from the rowid bound last.
    public static func customersSQL(rowids rowidSQL: String, half: ScanHalf? = nil) -> String {
        let bound =
            switch half {
            case nil: ""
            case .before: " AND rowid < ?"
            case .from: " AND rowid >= ?"
            }
        return "SELECT \(CustomerState.columns) FROM customer WHERE rowid IN (\(rowidSQL)\(bound))"
    }

    /// The customers of `rowidSQL` (all, or one half of them), in table order, decoded through the C API
    /// (`CustomerState(raw:)`).
    static func customers(
        rowidSQL: String, half: (ScanHalf, Int64)? = nil, bind: (RawStatement) -> Void, _ db: Database, capacity: Int
    ) throws -> [Candidate] {
        let statement = try RawStatement(db, sql: customersSQL(rowids: rowidSQL, half: half?.0))
        bind(statement)
        if let (_, rowid) = half { statement.bind(sqlite3_bind_parameter_count(statement.handle), rowid) }
        var result: [Candidate] = []
        result.reserveCapacity(capacity)
        while try statement.step() {
            result.append(Candidate(customer: CustomerState(raw: statement)))
        }
        return result
    }

    /// The second half's result, handed from its thread (read after the group's wait).
    private final class SecondHalf: @unchecked Sendable {
        var result: Result<[Candidate], any Error>?
    }

    /// A read on a connection other than the one a read is on now: another reader of the pool (`run`), or a
    /// read-only connection opened for it (commands that only read hold one connection); nil in memory.
    private func secondReader() -> (@Sendable ((Database) throws -> [Candidate]) throws -> [Candidate])? {
        if let pool = writer as? DatabasePool {
            return { try pool.read($0) }
        }
        let path = writer.path
        guard !path.isEmpty, path != ":memory:", !path.hasPrefix("file::memory:") else { return nil }
        return { body in
            var configuration = Configuration()
            configuration.readonly = true
            configuration.busyMode = .timeout(10)
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            defer { try? queue.close() }
            return try queue.read(body)
        }
    }

    public func ledgerHits(_ keys: [LedgerKey]) throws -> Set<LedgerKey> {
        guard !keys.isEmpty else { return [] }
        return try reader.read { db in
            // A workflow with nothing in the ledger yet (a new campaign's first plan, a broadcast's dry-run) has no
            // hits: one query says so, instead of one lookup per key.
            let fired = try Set(keys.map(\.workflowID)).filter { workflowID in
                try Bool.fetchOne(
                    db, sql: "SELECT EXISTS (SELECT 1 FROM ledger WHERE workflow_id = ?)", arguments: [workflowID]) ?? false
            }
            // One indexed lookup per key, bound and stepped through the C API: a plan asks thousands, and GRDB's
            // argument boxing and row objects cost more than the lookups.
            let statement = try RawStatement(db, sql: Self.ledgerSQL)
            var hits = Set<LedgerKey>()
            for key in keys where fired.contains(key.workflowID) {
                statement.bindCopy(1, key.workflowID)
                statement.bindCopy(2, key.customerID)
                statement.bindCopy(3, key.occurrence)
                if try statement.step() {
                    statement.reset()
                    hits.insert(key)
                }
            }
            return hits
        }
    }

    public func visitCounts(customerIDs: [String], since: [Date]) throws -> [String: [Int]] {
        guard !customerIDs.isEmpty, !since.isEmpty else { return [:] }
        return try reader.read { db in
            let statement = try db.cachedStatement(sql: Self.visitCountSQL)
            var counts: [String: [Int]] = [:]
            for id in Set(customerIDs) {
                let row = try since.map { try Int.fetchOne(statement, arguments: [id, StoredInstant.millis($0)]) ?? 0 }
                if row.contains(where: { $0 > 0 }) { counts[id] = row }
            }
            return counts
        }
    }

    public func customerPage(after: String?, limit: Int) throws -> [CustomerState] {
        try reader.read { db in
            let sql = "SELECT \(CustomerState.columns) FROM customer WHERE id > ? ORDER BY id LIMIT ?"
            var customers: [CustomerState] = []
            customers.reserveCapacity(limit)
            // A cursor reads each row in place; fetchAll would copy every row first.
            let rows = try Row.fetchCursor(db, sql: sql, arguments: [after ?? "", limit])
            while let row = try rows.next() { customers.append(CustomerState(row: row)) }
            return customers
        }
    }

    public func visitorZones(after: String?, limit: Int) throws -> [(id: String, zone: String?)] {
        try reader.read { db in
            var zones: [(id: String, zone: String?)] = []
            zones.reserveCapacity(limit)
            let rows = try Row.fetchCursor(
                db, sql: "SELECT id, timezone FROM customer WHERE id > ? AND last_visit_at IS NOT NULL ORDER BY id LIMIT ?",
                arguments: [after ?? "", limit])
            while let row = try rows.next() { zones.append((row[0], row[1])) }
            return zones
        }
    }

    public func storedNumbers(_ column: StoredNumber) throws -> [Int] {
        try reader.read { db in try Int.fetchAll(db, sql: "SELECT \(column.rawValue) FROM customer") }
    }

    public func visitCounts(since: [Date]) throws -> [String: [Int]] {
        guard let earliest = since.min() else { return [:] }
        let columns = since.map { "sum(visited_at > \(StoredInstant.millis($0)))" }.joined(separator: ", ")
        return try reader.read { db in
            let sql = "SELECT customer_id, \(columns) FROM visit WHERE visited_at > ? GROUP BY customer_id"
            var counts: [String: [Int]] = [:]
            let rows = try Row.fetchCursor(db, sql: sql, arguments: [StoredInstant.millis(earliest)])
            while let row = try rows.next() {
                counts[row[0]] = (1...since.count).map { row[$0] }
            }
            return counts
        }
    }

    public func visits(after: String?, through: String) throws -> [VisitRecord] {
        try reader.read { db in
            try Self.visits(
                db, sql: "WHERE customer_id > ? AND customer_id <= ?", arguments: [after ?? "", through])
        }
    }

    public func visits(customerIDs: [String]) throws -> [VisitRecord] {
        guard !customerIDs.isEmpty else { return [] }
        return try reader.read { db in
            try Self.visits(
                db, sql: "WHERE customer_id IN (SELECT value FROM json_each(?))",
                arguments: [String(decoding: try JSONEncoder().encode(customerIDs), as: UTF8.self)])
        }
    }

    static func visits(_ db: Database, sql condition: String, arguments: StatementArguments) throws -> [VisitRecord] {
        var visits: [VisitRecord] = []
        let rows = try Row.fetchCursor(
            db, sql: "SELECT customer_id, visited_at, amount_cents FROM visit \(condition) ORDER BY customer_id, visited_at",
            arguments: arguments)
        while let row = try rows.next() {
            visits.append(VisitRecord(customerID: row[0], visitedAt: StoredInstant.date(row[1]), amountCents: row[2]))
        }
        return visits
    }

    public func messageResponses(customerIDs: [String], since: Date) throws -> [String: MessageResponse] {
        guard !customerIDs.isEmpty else { return [:] }
        let ids = String(decoding: try JSONEncoder().encode(customerIDs), as: UTF8.self)
        let after = StoredInstant.millis(since)
        return try reader.read { db in
            var responses: [String: MessageResponse] = [:]
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT o.customer_id, count(*),
                      sum(EXISTS (SELECT 1 FROM delivery_event e WHERE e.outbox_id = o.id AND e.kind IN ('opened', 'clicked'))),
                      sum(EXISTS (SELECT 1 FROM delivery_event e WHERE e.outbox_id = o.id AND e.kind = 'clicked'))
                    FROM outbox o
                    WHERE o.customer_id IN (SELECT value FROM json_each(?)) AND o.status = 'delivered' AND o.delivered_at > ?
                    GROUP BY o.customer_id
                    """, arguments: [ids, after])
            while let row = try rows.next() {
                responses[row[0]] = MessageResponse(delivered: row[1], opened: row[2], clicked: row[3])
            }
            let optedOut = try String.fetchAll(
                db,
                sql: """
                    SELECT DISTINCT customer_id FROM consent_change
                    WHERE customer_id IN (SELECT value FROM json_each(?)) AND opt_in = 0 AND at > ?
                    """, arguments: [ids, after])
            for id in optedOut { responses[id, default: MessageResponse()].optedOut = true }
            return responses
        }
    }

    public func progress(customerIDs: [String]) throws -> [String: [ProgressState]] {
        guard !customerIDs.isEmpty else { return [:] }
        return try reader.read { db in
            var cards: [String: [ProgressState]] = [:]
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT p.offer_id, o.name, o.stamps_required, p.stamps, p.rewards_earned, p.updated_at, p.customer_id
                    FROM progress p JOIN offer o ON o.id = p.offer_id
                    WHERE p.customer_id IN (SELECT value FROM json_each(?)) ORDER BY p.customer_id, p.offer_id
                    """, arguments: [String(decoding: try JSONEncoder().encode(customerIDs), as: UTF8.self)])
            while let row = try rows.next() { cards[row[6], default: []].append(ProgressState(row: row)) }
            return cards
        }
    }

    public func latestModelFit() throws -> ModelFitRecord? {
        try reader.read { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT fitted_at, customers, repeat_customers, r, alpha, a, b, bgnbd_log_likelihood, p, q, v,
                          gamma_gamma_log_likelihood, details
                        FROM model_fit ORDER BY id DESC LIMIT 1
                        """)
            else { return nil }
            return ModelFitRecord(
                fittedAt: StoredInstant.date(row[0]), customers: row[1], repeatCustomers: row[2], r: row[3], alpha: row[4],
                a: row[5], b: row[6], bgnbdLogLikelihood: row[7], p: row[8], q: row[9], v: row[10],
                gammaGammaLogLikelihood: row[11], details: row[12])
        }
    }

    public func saveModelFit(_ fit: ModelFitRecord) throws {
        try writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO model_fit (fitted_at, customers, repeat_customers, r, alpha, a, b, bgnbd_log_likelihood,
                      p, q, v, gamma_gamma_log_likelihood, details)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    StoredInstant.millis(fit.fittedAt), fit.customers, fit.repeatCustomers, fit.r, fit.alpha, fit.a, fit.b,
                    fit.bgnbdLogLikelihood, fit.p, fit.q, fit.v, fit.gammaGammaLogLikelihood, fit.details,
                ])
        }
    }

    public func segmentEntries(segment: String) throws -> [String: String] {
        try reader.read { db in
            var entries: [String: String] = [:]
            let rows = try Row.fetchCursor(
                db, sql: "SELECT customer_id, entered_on FROM segment_entry WHERE segment = ?", arguments: [segment])
            while let row = try rows.next() { entries[row[0]] = row[1] }
            return entries
        }
    }

    public func recordSegmentEntries(segment: String, entries: [String: String]) throws {
        try writer.write { db in
            try db.execute(sql: "DELETE FROM segment_entry WHERE segment = ?", arguments: [segment])
            let insert = try db.makeStatement(sql: "INSERT INTO segment_entry (segment, customer_id, entered_on) VALUES (?, ?, ?)")
            for (id, date) in entries { try insert.execute(arguments: [segment, id, date]) }
        }
    }

    public func customer(id: String) throws -> CustomerState? {
        try reader.read { db in
            try Row.fetchOne(db, sql: "SELECT \(CustomerState.columns) FROM customer WHERE id = ?", arguments: [id])
                .map { CustomerState(row: $0) }
        }
    }

    public func progress(customerID: String, offer: String?) throws -> [ProgressState] {
        try reader.read { db in
            var sql = """
                SELECT p.offer_id, o.name, o.stamps_required, p.stamps, p.rewards_earned, p.updated_at
                FROM progress p JOIN offer o ON o.id = p.offer_id WHERE p.customer_id = ?
                """
            var arguments: StatementArguments = [customerID]
            if let offer {
                sql += " AND p.offer_id = ?"
                arguments += [offer]
            }
            return try Row.fetchAll(db, sql: sql + " ORDER BY p.offer_id", arguments: arguments).map(ProgressState.init(row:))
        }
    }

    public func capCounted(customerIDs: [String], after: Date) throws -> [String: [CountedMessage]] {
        guard !customerIDs.isEmpty else { return [:] }
        return try reader.read { db in
            var counted: [String: [CountedMessage]] = [:]
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT customer_id, channel, at FROM (
                      SELECT customer_id, channel, CASE status WHEN 'delivered' THEN delivered_at ELSE next_attempt_at END AS at
                      FROM outbox
                      WHERE customer_id IN (SELECT value FROM json_each(?)) AND status IN ('delivered', 'pending')
                        AND coalesce(category, 'marketing') = 'marketing')
                    WHERE at > ? ORDER BY customer_id, at
                    """,
                arguments: [String(decoding: try JSONEncoder().encode(customerIDs), as: UTF8.self), StoredInstant.millis(after)])
            while let row = try rows.next() {
                counted[row[0], default: []].append(CountedMessage(channel: row[1], at: StoredInstant.date(row[2])))
            }
            return counted
        }
    }

    public func notifiedTimes(customerIDs: [String], channel: Channel, platform: String?, after: Date) throws -> [String: [Date]] {
        guard !customerIDs.isEmpty else { return [:] }
        return try reader.read { db in
            var times: [String: [Date]] = [:]
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT customer_id, at FROM (
                      SELECT customer_id, CASE status WHEN 'delivered' THEN delivered_at ELSE next_attempt_at END AS at
                      FROM outbox
                      WHERE customer_id IN (SELECT value FROM json_each(?)) AND status IN ('delivered', 'pending')
                        AND channel = ? AND (? IS NULL OR platform = ?))
                    WHERE at > ? ORDER BY customer_id, at
                    """,
                arguments: [
                    String(decoding: try JSONEncoder().encode(customerIDs), as: UTF8.self), channel.rawValue, platform, platform,
                    StoredInstant.millis(after),
                ])
            while let row = try rows.next() { times[row[0], default: []].append(StoredInstant.date(row[1])) }
            return times
        }
    }

    public func walletPointsToSync(platform: String?, offer: String?) throws -> [WalletPoints] {
        try reader.read { db in
            var due: [WalletPoints] = []
            let rows = try Row.fetchCursor(
                // Numbered: the offer's parameter comes first in the text.
                db, sql: WalletSyncSQL.due(offer: offer != nil, placeholder: { "?\($0)" }),
                arguments: StatementArguments([platform, platform] + (offer.map { [$0] } ?? [])))
            while let row = try rows.next() {
                due.append(WalletPoints(customerID: row[0], passID: row[1], label: row[2], stamps: row[3]))
            }
            return due
        }
    }

    public func recordWalletPoints(_ points: [WalletPoints], at: Date) throws {
        guard !points.isEmpty else { return }
        try writer.write { db in
            let statement = try db.makeStatement(sql: WalletSyncSQL.record(placeholder: { _ in "?" }))
            for point in points {
                try statement.execute(arguments: [
                    point.passID, point.customerID, point.label, point.stamps, StoredInstant.millis(at),
                ])
            }
        }
    }

    public func journeySteps(workflowID: String, step: Int, dueAfter: Date, dueThrough: Date) throws -> [JourneyStep] {
        try reader.read { db in
            var steps: [JourneyStep] = []
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT l.occurrence, l.due_at, l.variant, \(CustomerState.columns(of: "c"))
                    FROM ledger l JOIN customer c ON c.id = l.customer_id
                    WHERE l.workflow_id = ? AND l.step = ? AND l.due_at > ? AND l.due_at <= ?
                    ORDER BY l.customer_id, l.occurrence
                    """,
                arguments: [workflowID, step, StoredInstant.millis(dueAfter), StoredInstant.millis(dueThrough)])
            while let row = try rows.next() {
                steps.append(
                    JourneyStep(
                        customer: CustomerState(row: row, offset: 3), occurrence: row[0], due: StoredInstant.date(row[1]),
                        variant: row[2]))
            }
            return steps
        }
    }

    public func stepsSent(since: Date) throws -> [StepSent] {
        try reader.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT workflow_id, step, template, max(created_at) FROM outbox WHERE created_at > ? AND template <> ''
                    GROUP BY workflow_id, step, template ORDER BY workflow_id, step, template
                    """, arguments: [StoredInstant.millis(since)]
            ).map { StepSent(workflowID: $0[0], step: $0[1], template: $0[2], lastAt: StoredInstant.date($0[3])) }
        }
    }

    public func publishedOffers(after: Date, through: Date) throws -> [OfferState] {
        try reader.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT id, name, stamps_required, published_at, category FROM offer
                    WHERE published_at > ? AND published_at <= ? ORDER BY published_at, id
                    """, arguments: [StoredInstant.millis(after), StoredInstant.millis(through)]
            ).map { row in
                OfferState(
                    id: row[0], name: row[1], stampsRequired: row[2], publishedAt: StoredInstant.date(row[3]),
                    category: row[4])
            }
        }
    }

    /// An exclusive `flock` on `DATABASE-plan.lock` beside the file (`*.sqlite-plan.lock` in `.gitignore`) (never on the database file itself: closing
    /// another descriptor of it would drop SQLite's own locks); in memory, nothing to share.
    public func withPlanningLock<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        let path = writer.path
        guard !path.isEmpty, path != ":memory:", !path.hasPrefix("file::memory:") else { return try await body() }
        let descriptor = Glibc.open(path + "-plan.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { return try await body() }
        defer { close(descriptor) }
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            try await Task.sleep(for: .milliseconds(20))
        }
        defer { flock(descriptor, LOCK_UN) }
        return try await body()
    }

    public func commit(_ messages: [OutboxMessage]) throws -> Set<String> {
        try writer.write { db in
            // A broadcast's ledger keys, outbox keys and customers go into their indexes in due order, scattered
            // over each index: with SQLite's default 2 MB of pages, nearly every row read and wrote index pages
            // again. 32 MB for this transaction (given back after) holds them: 3.7 -> 2.7 s for 100,000 messages.
            let pages = try Int.fetchOne(db, sql: "PRAGMA cache_size") ?? -2000
            try db.execute(sql: "PRAGMA cache_size = -32768")
            defer { try? db.execute(sql: "PRAGMA cache_size = \(pages)") }
            // Bound through SQLite's C API: a broadcast commits a hundred thousand rows of 20 values.
            let ledger = try RawStatement(
                db,
                sql: """
                    INSERT OR IGNORE INTO ledger (workflow_id, customer_id, occurrence, committed_at, variant, due_at, step)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """)
            let insert = try RawStatement(
                db,
                sql: """
                    INSERT INTO outbox (id, workflow_id, customer_id, occurrence, action_index, channel, recipient, template,
                      heading_key, heading, body, text_body, due_at, created_at, status, reason, next_attempt_at, variant,
                      category, step, platform)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            var won: [LedgerKey: Bool] = [:]
            var committed = Set<String>()
            for message in messages {
                let key = message.ledgerKey
                if won[key] == nil {
                    ledger.bindTexts([key.workflowID, key.customerID, key.occurrence])
                    ledger.bind(4, message.createdAt)
                    ledger.bindTexts([message.variant], from: 5)
                    ledger.bind(6, message.dueAt)
                    ledger.bind(7, Int64(message.step))
                    try ledger.run()
                    won[key] = db.changesCount > 0
                }
                guard won[key] == true else { continue }
                insert.bindTexts([message.id, message.workflowId, message.customerId, message.occurrence])
                insert.bind(5, Int64(message.actionIndex))
                insert.bindTexts(
                    [
                        message.channel, message.recipient, message.template, message.headingKey, message.heading,
                        message.body, message.textBody,
                    ], from: 6)
                insert.bind(13, message.dueAt)
                insert.bind(14, message.createdAt)
                insert.bindTexts([message.status.rawValue, message.reason], from: 15)
                insert.bind(17, message.nextAttemptAt)
                insert.bindTexts([message.variant, message.category], from: 18)
                insert.bind(20, Int64(message.step))
                insert.bindTexts([message.platform], from: 21)
                try insert.run()
                committed.insert(message.id)
            }
            return committed
        }
    }
}

extension AppDatabase: OutboxQueue, EventStore, ImportStore {
    public func assignWalletPass(customerID: String, passID: String, platform: String?) throws -> String? {
        try writer.write { db in
            try db.execute(
                sql: """
                    UPDATE customer SET wallet_pass_id = coalesce(nullif(wallet_pass_id, ''), ?),
                      wallet_platform = coalesce(wallet_platform, ?)
                    WHERE id = ?
                    """, arguments: [passID, platform, customerID])
            return try String.fetchOne(db, sql: "SELECT wallet_pass_id FROM customer WHERE id = ?", arguments: [customerID])
        }
    }

    public func replaceWithDemo(customers: Int, now: Date) async throws {
        try DemoData.populate(self, count: customers, now: now)
    }
}
