public import Foundation
import GRDB
import NudgeLanguage
public import NudgeCore

/// The outcome of one delivery attempt, as the dispatcher records it.
public enum DeliveryOutcome: Sendable, Hashable {
    /// Accepted by the provider (with its message id, if any).
    case delivered(providerMessageID: String?)
    /// Try again at the given instant.
    case retry(at: Date, reason: String)
    /// Given up: a permanent error, or out of retries.
    case failed(reason: String)
    /// Given up because the recipient is gone for good (a push token the provider no longer knows): failed, and
    /// the customer's address for the channel is cleared if it is still the one the message went to, the change
    /// logged as a consent change, so that the next plan does not use it.
    case recipientGone(reason: String)
    /// Not sent (the provider asked to wait): try at the given instant, and the claim does not count as an attempt.
    case postponed(at: Date, reason: String)
}

/// Counts of outbox messages by channel and state, for `nudge status`.
public struct OutboxSummaryRow: Sendable, Hashable {
    public var channel: String?
    /// pending, retrying, delivered, failed or suppressed.
    public var state: String
    public var count: Int

    public init(channel: String?, state: String, count: Int) {
        self.channel = channel
        self.state = state
        self.count = count
    }
}

extension AppDatabase {
    /// Clears the leases held by owners that `isAlive` says are gone (a crashed run), so their
    /// messages can be claimed at once instead of when the lease expires.
    public func releaseDeadLeases(isAlive: (String) -> Bool) throws -> Int {
        try writer.write { db in
            let owners = try String.fetchAll(
                db, sql: "SELECT DISTINCT lease_owner FROM outbox WHERE status = 'pending' AND lease_owner IS NOT NULL")
            var released = 0
            for owner in owners where !isAlive(owner) {
                try db.execute(
                    sql: "UPDATE outbox SET lease_owner = NULL, lease_expires_at = NULL WHERE status = 'pending' AND lease_owner = ?",
                    arguments: [owner])
                released += db.changesCount
            }
            return released
        }
    }

    /// Claims up to `limit` pending messages due at `now` whose lease is free or expired: sets the lease and
    /// counts the attempt in one transaction, so that two dispatchers never hold the same message.
    ///
    /// Only the lease is written in the transaction: which messages are due, and whether their customers still
    /// accept them, is read before it, and the claimed rows after it, on reader connections that work beside the
    /// writer (a dispatcher claims its next batch while it delivers one). The transaction takes only the messages
    /// that are still free then.
    public func claimOutbox(owner: String, now: Date, leaseSeconds: Double, limit: Int) throws -> [OutboxMessage] {
        let nowMillis = StoredInstant.millis(now)
        let expires = StoredInstant.millis(now.addingTimeInterval(leaseSeconds))
        // The guard every written row passes again inside the transaction.
        let claimable = """
            outbox.status = 'pending' AND outbox.next_attempt_at <= ?
              AND (outbox.lease_expires_at IS NULL OR outbox.lease_expires_at <= ?)
            """
        while true {
            // The due messages, each with whether its customer still accepts its channel: one who opted out after
            // the plan was committed (STOP, unsubscribe, hard bounce) is not sent to; the message is suppressed.
            var accepted: (rowids: [String], ids: [String]) = ([], [])
            var optedOut: (rowids: [String], ids: [String]) = ([], [])
            let due = try reader.read { db in
                let rows = try Row.fetchCursor(
                    db,
                    sql: """
                        SELECT o.rid, o.id, o.channel, c.email_opt_in, c.sms_opt_in, c.push_opt_in
                        FROM (SELECT rowid AS rid, id, channel, customer_id FROM outbox
                          WHERE \(claimable) ORDER BY next_attempt_at LIMIT ?) AS o
                        LEFT JOIN customer c ON c.id = o.customer_id
                        """,
                    arguments: [nowMillis, nowMillis, limit])
                var count = 0
                while let row = try rows.next() {
                    count += 1
                    let accepts = ChannelPolicy.stillConsents(
                        channel: row[2], emailOptIn: row[3], smsOptIn: row[4], pushOptIn: row[5])
                    let (rowid, id): (String, String) = (String(row[0] as Int64), row[1])
                    if accepts {
                        accepted.rowids.append(rowid)
                        accepted.ids.append(id)
                    } else {
                        optedOut.rowids.append(rowid)
                        optedOut.ids.append(id)
                    }
                }
                return count
            }
            if due == 0 { return [] }
            let leased = try writer.write { db in
                // By rowid, a message is found without the id index; its id makes sure it is still the message read
                // (a rowid can be used again after a delete), and the guard takes only those still claimable.
                let matching = """
                    WHERE rowid IN (SELECT value FROM json_each(?)) AND id IN (SELECT value FROM json_each(?))
                      AND \(claimable)
                    """
                func list(_ rowids: [String]) -> String { "[" + rowids.joined(separator: ",") + "]" }
                if !optedOut.ids.isEmpty {
                    try db.execute(
                        sql: """
                            UPDATE outbox SET status = 'suppressed', reason = 'opted out of ' || channel || ' before delivery',
                              lease_owner = NULL, lease_expires_at = NULL
                            \(matching)
                            """, arguments: [list(optedOut.rowids), JSONText.array(optedOut.ids), nowMillis, nowMillis])
                }
                guard !accepted.ids.isEmpty else { return [OutboxMessage]() }
                // The claimed rows come back from the UPDATE itself: fetching them again would look each one up
                // a second time.
                let rows = try Row.fetchCursor(
                    db,
                    sql: """
                        UPDATE outbox SET lease_owner = ?, lease_expires_at = ?, attempts = attempts + 1
                        \(matching)
                        RETURNING \(OutboxMessage.selection)
                        """,
                    arguments: [owner, expires, list(accepted.rowids), JSONText.array(accepted.ids), nowMillis, nowMillis])
                return try Array(rows.map(OutboxMessage.init(row:)))
            }
            // A window that was all opted out, or taken by another dispatcher meanwhile, says nothing about the
            // messages after it: look again.
            if leased.isEmpty {
                if due == limit { continue }
                return []
            }
            // In the order they fell due (RETURNING follows no ORDER BY).
            return leased.sorted { ($0.nextAttemptAt, $0.id) < ($1.nextAttemptAt, $1.id) }
        }
    }

    /// Extends the leases `owner` holds on messages `ids` (still pending) to `until`; returns how many it extended.
    @discardableResult
    public func renewLeases(ids: [String], owner: String, until: Date) throws -> Int {
        try writer.write { db in
            try db.execute(
                sql: """
                    UPDATE outbox SET lease_expires_at = ?
                    WHERE lease_owner = ? AND status = 'pending' AND id IN (SELECT value FROM json_each(?))
                    """, arguments: [StoredInstant.millis(until), owner, JSONText.array(ids)])
            return db.changesCount
        }
    }

    /// Records the outcomes of claimed messages and releases their leases, in one transaction.
    public func recordOutcomes(_ outcomes: [(message: OutboxMessage, outcome: DeliveryOutcome)], at now: Date) throws {
        guard !outcomes.isEmpty else { return }
        let nowMillis = StoredInstant.millis(now)
        // Deliveries, nearly every outcome of a batch, are recorded in two set-based statements; the rest one by one.
        var delivered: [String] = []
        try writer.write { db in
            let retryStatement = try db.cachedStatement(
                sql: """
                    UPDATE outbox SET next_attempt_at = ?, reason = ?, lease_owner = NULL, lease_expires_at = NULL
                    WHERE id = ? AND status = 'pending' AND (lease_owner IS NULL OR lease_owner = ?)
                    """)
            let failedStatement = try db.cachedStatement(
                sql: """
                    UPDATE outbox SET status = 'failed', reason = ?, lease_owner = NULL, lease_expires_at = NULL
                    WHERE id = ? AND status = 'pending' AND (lease_owner IS NULL OR lease_owner = ?)
                    """)
            let postponedStatement = try db.cachedStatement(
                sql: """
                    UPDATE outbox SET next_attempt_at = ?, reason = ?, attempts = max(0, attempts - 1), lease_owner = NULL,
                      lease_expires_at = NULL
                    WHERE id = ? AND status = 'pending' AND lease_owner = ? AND attempts = ?
                    """)
            let attemptStatement = try db.cachedStatement(
                sql: "INSERT OR REPLACE INTO delivery_attempt (outbox_id, attempt, at, outcome, detail) VALUES (?, ?, ?, ?, ?)")
            for (message, outcome) in outcomes {
                let detail: String
                let label: String
                switch outcome {
                case .delivered(let providerID):
                    // [id, attempt, provider message id]
                    delivered.append(
                        "[\(JSONText.quote(message.id)),\(message.attempts),\(providerID.map(JSONText.quote) ?? "null")]")
                    continue
                case .retry(let at, let reason):
                    try retryStatement.execute(arguments: [StoredInstant.millis(at), reason, message.id, message.leaseOwner])
                    label = "retry"
                    detail = reason
                case .failed(let reason):
                    try failedStatement.execute(arguments: [reason, message.id, message.leaseOwner])
                    label = "failed"
                    detail = reason
                case .recipientGone(let reason):
                    try failedStatement.execute(arguments: [reason, message.id, message.leaseOwner])
                    if let column = ConsentChange.addressColumns[message.channel ?? ""], let recipient = message.recipient {
                        try db.execute(
                            sql: "UPDATE customer SET \(column) = NULL WHERE id = ? AND \(column) = ?",
                            arguments: [message.customerId, recipient])
                        if db.changesCount > 0 {
                            try db.execute(
                                sql: "INSERT INTO consent_change (customer_id, channel, opt_in, reason, at) VALUES (?, ?, 0, ?, ?)",
                                arguments: [
                                    message.customerId, message.channel, ConsentChange.addressRemoved(reason), nowMillis,
                                ])
                        }
                    }
                    label = "failed"
                    detail = reason
                case .postponed(let at, let reason):
                    try postponedStatement.execute(
                        arguments: [StoredInstant.millis(at), reason, message.id, message.leaseOwner, message.attempts])
                    continue
                }
                try attemptStatement.execute(arguments: [message.id, message.attempts, nowMillis, label, detail])
            }
            guard !delivered.isEmpty else { return }
            let rows = "[" + delivered.joined(separator: ",") + "]"
            try db.execute(
                sql: """
                    UPDATE outbox SET status = 'delivered', delivered_at = ?, provider_message_id = json_extract(d.value, '$[2]'),
                      reason = NULL, lease_owner = NULL, lease_expires_at = NULL
                    FROM json_each(?) AS d
                    WHERE outbox.id = json_extract(d.value, '$[0]') AND outbox.status = 'pending'
                    """,
                arguments: [nowMillis, rows])
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO delivery_attempt (outbox_id, attempt, at, outcome, detail)
                    SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), ?, 'delivered', json_extract(value, '$[2]')
                    FROM json_each(?)
                    """,
                arguments: [nowMillis, rows])
        }
    }

    /// The earliest next attempt of a pending message, if any.
    public func nextPendingAttempt() throws -> Date? {
        try reader.read { db in
            try Int64.fetchOne(db, sql: "SELECT min(next_attempt_at) FROM outbox WHERE status = 'pending'")
                .map(StoredInstant.date)
        }
    }

    /// A customer's messages, newest first, with their attempts.
    public func history(customerID: String) throws -> [(message: OutboxMessage, attempts: [DeliveryAttempt])] {
        try reader.read { db in
            let messages = try OutboxMessage.filter(OutboxMessage.Columns.customerId == customerID)
                .order(OutboxMessage.Columns.createdAt.desc, Column("workflow_id"), Column("action_index"))
                .fetchAll(db)
            return try messages.map { message in
                let attempts = try DeliveryAttempt.filter(Column("outbox_id") == message.id).order(Column("attempt"))
                    .fetchAll(db)
                return (message, attempts)
            }
        }
    }

    /// Whether a customer with this id exists.
    public func customerExists(_ id: String) throws -> Bool {
        try reader.read { db in try Bool.fetchOne(db, sql: "SELECT 1 FROM customer WHERE id = ?", arguments: [id]) ?? false }
    }

    /// Outbox counts by channel and state.
    public func outboxSummary() throws -> [OutboxSummaryRow] {
        try reader.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT channel,
                      CASE WHEN status = 'pending' AND attempts > 0 AND lease_owner IS NULL THEN 'retrying' ELSE status END AS state,
                      count(*) AS n
                    FROM outbox GROUP BY 1, 2 ORDER BY 1, 2
                    """
            ).map { OutboxSummaryRow(channel: $0["channel"], state: $0["state"], count: $0["n"]) }
        }
    }

    /// For each workflow: messages delivered after each instant of `after`, by `through` (one scan of the outbox
    /// rows delivered since the earliest).
    public func deliveredCounts(after: [Date], through: Date) throws -> [String: [Int]] {
        guard let earliest = after.min() else { return [:] }
        let millis = after.map(StoredInstant.millis)
        let counts = millis.map { _ in "sum(delivered_at > ?)" }.joined(separator: ", ")
        return try reader.read { db in
            var result: [String: [Int]] = [:]
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT workflow_id, \(counts) FROM outbox
                    WHERE status = 'delivered' AND delivered_at > ? AND delivered_at <= ? GROUP BY workflow_id
                    """,
                arguments: StatementArguments(millis + [StoredInstant.millis(earliest), StoredInstant.millis(through)]))
            while let row = try rows.next() {
                result[row[0]] = (1...millis.count).map { row[$0] as Int }
            }
            return result
        }
    }
}
