public import Foundation
import Logging
import NudgeLanguage
public import NudgeStore
import PostgresNIO
public import NudgeCore

/// The outbox on PostgreSQL. Claims lock the rows they take with `FOR UPDATE SKIP LOCKED`, so dispatchers on many
/// machines take disjoint batches without waiting for each other; leases make a crashed one's messages free again.
extension PostgresStore: OutboxQueue {
    static let outboxColumns = """
        id, workflow_id, customer_id, occurrence, action_index, channel, recipient, template, heading_key, heading, body,
        text_body, due_at, created_at, status, reason, attempts, next_attempt_at, lease_owner, lease_expires_at,
        delivered_at, provider_message_id, variant, platform
        """

    static func message(_ row: PostgresRandomAccessRow) throws -> OutboxMessage {
        func text(_ i: Int) throws -> String? { try row[i].decode(String?.self) }
        let statusText = try row[14].decode(String.self)
        guard let status = OutboxMessage.Status(rawValue: statusText) else {
            throw ConnectionError(description: "unknown outbox status '\(statusText)'")
        }
        var message = OutboxMessage(
            id: try row[0].decode(String.self), workflowId: try row[1].decode(String.self),
            customerId: try row[2].decode(String.self), occurrence: try row[3].decode(String.self),
            actionIndex: Int(try row[4].decode(Int64.self)), channel: try text(5), recipient: try text(6),
            template: try row[7].decode(String.self), headingKey: try text(8), heading: try text(9), body: try text(10),
            dueAt: try row[12].decode(Int64.self), createdAt: try row[13].decode(Int64.self), status: status,
            reason: try text(15))
        message.textBody = try text(11)
        message.attempts = Int(try row[16].decode(Int64.self))
        message.nextAttemptAt = try row[17].decode(Int64.self)
        message.leaseOwner = try text(18)
        message.leaseExpiresAt = try row[19].decode(Int64?.self)
        message.deliveredAt = try row[20].decode(Int64?.self)
        message.providerMessageId = try text(21)
        message.variant = try text(22)
        message.platform = try text(23)
        return message
    }


    public func releaseDeadLeases(isAlive: (String) -> Bool) async throws -> Int {
        var owners: [String] = []
        for try await owner in try await client.query(
            "SELECT DISTINCT lease_owner FROM outbox WHERE status = 'pending' AND lease_owner IS NOT NULL", logger: logger
        ).decode(String.self) {
            owners.append(owner)
        }
        let dead = owners.filter { !isAlive($0) }
        guard !dead.isEmpty else { return 0 }
        var released = 0
        for try await count in try await client.query(
            """
            WITH freed AS (
              UPDATE outbox SET lease_owner = NULL, lease_expires_at = NULL
              WHERE status = 'pending' AND lease_owner = ANY(\(dead)) RETURNING 1)
            SELECT count(*) FROM freed
            """, logger: logger
        ).decode(Int64.self) {
            released = Int(count)
        }
        return released
    }

    public func claimOutbox(owner: String, now: Date, leaseSeconds: Double, limit: Int) async throws -> [OutboxMessage] {
        let nowMillis = StoredInstant.millis(now)
        let expires = StoredInstant.millis(now.addingTimeInterval(leaseSeconds))
        return try await client.withTransaction(logger: logger) { connection in
            while true {
                // The due messages nobody holds, locked for this transaction (others skip them), each with whether
                // its customer still accepts its channel.
                var due: [(id: String, accepts: Bool)] = []
                let rows = try await connection.query(
                    """
                    WITH due AS (
                      SELECT id, channel, customer_id FROM outbox
                      WHERE status = 'pending' AND next_attempt_at <= \(nowMillis)
                        AND (lease_expires_at IS NULL OR lease_expires_at <= \(nowMillis))
                      ORDER BY next_attempt_at LIMIT \(Int64(limit))
                      FOR UPDATE SKIP LOCKED)
                    SELECT d.id, d.channel, c.email_opt_in, c.sms_opt_in, c.push_opt_in
                    FROM due d LEFT JOIN customer c ON c.id = d.customer_id
                    """, logger: logger)
                for try await (id, channel, email, sms, push) in rows.decode((String, String?, Bool?, Bool?, Bool?).self) {
                    due.append(
                        (id, ChannelPolicy.stillConsents(channel: channel, emailOptIn: email, smsOptIn: sms, pushOptIn: push)))
                }
                let optedOut = due.filter { !$0.accepts }.map(\.id)
                if !optedOut.isEmpty {
                    try await connection.query(
                        """
                        UPDATE outbox SET status = 'suppressed', reason = 'opted out of ' || channel || ' before delivery',
                          lease_owner = NULL, lease_expires_at = NULL
                        WHERE id = ANY(\(optedOut))
                        """, logger: logger)
                }
                let claimable = due.filter(\.accepts).map(\.id)
                if claimable.isEmpty {
                    if due.count == limit { continue }
                    return []
                }
                var claimed: [OutboxMessage] = []
                for try await row in try await connection.query(
                    """
                    UPDATE outbox SET lease_owner = \(owner), lease_expires_at = \(expires), attempts = attempts + 1
                    WHERE id = ANY(\(claimable))
                    RETURNING \(unescaped: Self.outboxColumns)
                    """, logger: logger)
                {
                    claimed.append(try Self.message(row.makeRandomAccess()))
                }
                return claimed.sorted { ($0.nextAttemptAt, $0.id) < ($1.nextAttemptAt, $1.id) }
            }
        }
    }

    @discardableResult
    public func renewLeases(ids: [String], owner: String, until: Date) async throws -> Int {
        var renewed = 0
        for try await count in try await client.query(
            """
            WITH renewed AS (
              UPDATE outbox SET lease_expires_at = \(StoredInstant.millis(until))
              WHERE id IN (
                -- Rows being recorded meanwhile are skipped, not waited for: the two never deadlock.
                SELECT id FROM outbox WHERE lease_owner = \(owner) AND status = 'pending' AND id = ANY(\(ids))
                FOR UPDATE SKIP LOCKED)
              RETURNING 1)
            SELECT count(*) FROM renewed
            """, logger: logger
        ).decode(Int64.self) {
            renewed = Int(count)
        }
        return renewed
    }

    public func recordOutcomes(_ outcomes: [(message: OutboxMessage, outcome: DeliveryOutcome)], at now: Date) async throws {
        guard !outcomes.isEmpty else { return }
        let nowMillis = StoredInstant.millis(now)
        try await client.withTransaction(logger: logger) { connection in
            // Deliveries, the common case, in one statement; the rest one by one.
            var delivered: [(id: String, providerID: String?, attempt: Int)] = []
            var attempts = CopyText()
            for (message, outcome) in outcomes {
                switch outcome {
                case .delivered(let providerID):
                    delivered.append((message.id, providerID, message.attempts))
                    attempts.row([message.id, String(message.attempts), String(nowMillis), "delivered", providerID])
                case .retry(let at, let reason):
                    try await connection.query(
                        """
                        UPDATE outbox SET next_attempt_at = \(StoredInstant.millis(at)), reason = \(reason), lease_owner = NULL,
                          lease_expires_at = NULL
                        WHERE id = \(message.id) AND status = 'pending' AND (lease_owner IS NULL OR lease_owner = \(message.leaseOwner))
                        """, logger: logger)
                    attempts.row([message.id, String(message.attempts), String(nowMillis), "retry", reason])
                case .failed(let reason):
                    try await connection.query(
                        """
                        UPDATE outbox SET status = 'failed', reason = \(reason), lease_owner = NULL, lease_expires_at = NULL
                        WHERE id = \(message.id) AND status = 'pending' AND (lease_owner IS NULL OR lease_owner = \(message.leaseOwner))
                        """, logger: logger)
                    attempts.row([message.id, String(message.attempts), String(nowMillis), "failed", reason])
                case .recipientGone(let reason):
                    try await connection.query(
                        """
                        UPDATE outbox SET status = 'failed', reason = \(reason), lease_owner = NULL, lease_expires_at = NULL
                        WHERE id = \(message.id) AND status = 'pending' AND (lease_owner IS NULL OR lease_owner = \(message.leaseOwner))
                        """, logger: logger)
                    if let column = ConsentChange.addressColumns[message.channel ?? ""], let recipient = message.recipient {
                        var cleared = false
                        for try await _ in try await connection.query(
                            """
                            UPDATE customer SET \(unescaped: column) = NULL
                            WHERE id = \(message.customerId) AND \(unescaped: column) = \(recipient) RETURNING 1
                            """, logger: logger)
                        {
                            cleared = true
                        }
                        if cleared {
                            try await connection.query(
                                """
                                INSERT INTO consent_change (customer_id, channel, opt_in, reason, at)
                                VALUES (\(message.customerId), \(message.channel), false,
                                  \(ConsentChange.addressRemoved(reason)), \(nowMillis))
                                """, logger: logger)
                        }
                    }
                    attempts.row([message.id, String(message.attempts), String(nowMillis), "failed", reason])
                case .postponed(let at, let reason):
                    try await connection.query(
                        """
                        UPDATE outbox SET next_attempt_at = \(StoredInstant.millis(at)), reason = \(reason),
                          attempts = greatest(0, attempts - 1), lease_owner = NULL, lease_expires_at = NULL
                        WHERE id = \(message.id) AND status = 'pending' AND lease_owner = \(message.leaseOwner)
                          AND attempts = \(Int64(message.attempts))
                        """, logger: logger)
                }
            }
            if !delivered.isEmpty {
                try await connection.query(
                    """
                    UPDATE outbox SET status = 'delivered', delivered_at = \(nowMillis),
                      provider_message_id = nullif(d.provider_id, ''), reason = NULL, lease_owner = NULL, lease_expires_at = NULL
                    FROM unnest(\(delivered.map(\.id)), \(delivered.map { $0.providerID ?? "" })) AS d(id, provider_id)
                    WHERE outbox.id = d.id AND outbox.status = 'pending'
                    """, logger: logger)
            }
            // An attempt recorded again (a message retried under the same attempt number) replaces the first record.
            try await connection.query(
                "CREATE TEMPORARY TABLE IF NOT EXISTS attempt_in (LIKE delivery_attempt) ON COMMIT DELETE ROWS", logger: logger)
            try await connection.copy(attempts, into: "attempt_in", columns: ["outbox_id", "attempt", "at", "outcome", "detail"], logger: logger)
            try await connection.query(
                """
                INSERT INTO delivery_attempt SELECT * FROM attempt_in
                ON CONFLICT (outbox_id, attempt) DO UPDATE SET at = EXCLUDED.at, outcome = EXCLUDED.outcome, detail = EXCLUDED.detail
                """, logger: logger)
        }
    }

    public func nextPendingAttempt() async throws -> Date? {
        for try await next in try await client.query(
            "SELECT min(next_attempt_at) FROM outbox WHERE status = 'pending'", logger: logger
        ).decode(Int64?.self) {
            return next.map(StoredInstant.date)
        }
        return nil
    }
}
