public import Foundation
import Logging
import NudgeLanguage
public import NudgeStore
import PostgresNIO
public import NudgeCore

/// History, status and the events `nudge serve` records, on PostgreSQL.
extension PostgresStore: EventStore {
    public func history(customerID: String) async throws -> [(message: OutboxMessage, attempts: [DeliveryAttempt])] {
        var messages: [OutboxMessage] = []
        for try await row in try await client.query(
            """
            SELECT \(unescaped: Self.outboxColumns) FROM outbox WHERE customer_id = \(customerID)
            ORDER BY created_at DESC, workflow_id, action_index
            """, logger: logger)
        {
            messages.append(try Self.message(row.makeRandomAccess()))
        }
        var attempts: [String: [DeliveryAttempt]] = [:]
        let rows = try await client.query(
            """
            SELECT outbox_id, attempt, at, outcome, detail FROM delivery_attempt
            WHERE outbox_id = ANY(\(messages.map(\.id))) ORDER BY outbox_id, attempt
            """, logger: logger)
        for try await (id, attempt, at, outcome, detail) in rows.decode((String, Int64, Int64, String, String?).self) {
            attempts[id, default: []].append(
                DeliveryAttempt(outboxId: id, attempt: Int(attempt), at: at, outcome: outcome, detail: detail))
        }
        return messages.map { ($0, attempts[$0.id] ?? []) }
    }

    public func customerExists(_ id: String) async throws -> Bool {
        for try await _ in try await client.query("SELECT 1 FROM customer WHERE id = \(id)", logger: logger) { return true }
        return false
    }

    public func outboxSummary() async throws -> [OutboxSummaryRow] {
        var summary: [OutboxSummaryRow] = []
        let rows = try await client.query(
            """
            SELECT channel,
              CASE WHEN status = 'pending' AND attempts > 0 AND lease_owner IS NULL THEN 'retrying' ELSE status END AS state,
              count(*)
            FROM outbox GROUP BY 1, 2 ORDER BY 1 NULLS FIRST, 2
            """, logger: logger)
        for try await (channel, state, count) in rows.decode((String?, String, Int64).self) {
            summary.append(OutboxSummaryRow(channel: channel, state: state, count: Int(count)))
        }
        return summary
    }

    public func deliveredCounts(after: [Date], through: Date) async throws -> [String: [Int]] {
        guard let earliest = after.min() else { return [:] }
        // The instants are whole numbers, written into the text (their count varies).
        let counts = after.map { "count(*) FILTER (WHERE delivered_at > \(StoredInstant.millis($0)))" }.joined(separator: ", ")
        let rows = try await client.query(
            PostgresQuery(
                unsafeSQL: """
                    SELECT workflow_id, ARRAY[\(counts)] FROM outbox
                    WHERE status = 'delivered' AND delivered_at > \(StoredInstant.millis(earliest))
                      AND delivered_at <= \(StoredInstant.millis(through))
                    GROUP BY workflow_id
                    """), logger: logger)
        var result: [String: [Int]] = [:]
        for try await (workflow, counts) in rows.decode((String, [Int64]).self) { result[workflow] = counts.map(Int.init) }
        return result
    }

    @discardableResult
    public func record(_ event: DeliveryEvent, consent: [ConsentChange] = [], receivedAt: Date) async throws -> Bool {
        try await client.withTransaction(logger: logger) { connection in
            var event = event
            if let outboxID = event.outboxID, event.customerID == nil || event.channel == nil {
                for try await (customer, channel) in try await connection.query(
                    "SELECT customer_id, channel FROM outbox WHERE id = \(outboxID)", logger: logger
                ).decode((String, String?).self) {
                    event.customerID = event.customerID ?? customer
                    event.channel = event.channel ?? channel
                }
            }
            var inserted = false
            for try await _ in try await connection.query(
                """
                INSERT INTO delivery_event (provider, event_id, outbox_id, customer_id, channel, kind, at, received_at, detail)
                VALUES (\(event.provider), \(event.eventID), \(event.outboxID), \(event.customerID), \(event.channel),
                  \(event.kind.rawValue), \(StoredInstant.millis(event.at)), \(StoredInstant.millis(receivedAt)), \(event.detail))
                ON CONFLICT DO NOTHING RETURNING 1
                """, logger: logger)
            {
                inserted = true
            }
            guard inserted else { return false }
            for change in consent {
                let customerID = change.customerID.isEmpty ? (event.customerID ?? "") : change.customerID
                guard let column = ConsentChange.columns[change.channel] else { continue }
                var updated = false
                for try await _ in try await connection.query(
                    "UPDATE customer SET \(unescaped: column) = \(change.optIn) WHERE id = \(customerID) RETURNING 1",
                    logger: logger)
                {
                    updated = true
                }
                guard updated else { continue }
                try await connection.query(
                    """
                    INSERT INTO consent_change (customer_id, channel, opt_in, reason, at)
                    VALUES (\(customerID), \(change.channel), \(change.optIn), \(change.reason), \(StoredInstant.millis(event.at)))
                    """, logger: logger)
            }
            return true
        }
    }

    public func customerIDs(phone: String) async throws -> [String] {
        var ids: [String] = []
        for try await id in try await client.query("SELECT id FROM customer WHERE phone = \(phone) ORDER BY id", logger: logger)
            .decode(String.self)
        {
            ids.append(id)
        }
        return ids
    }

    public func deliveryEvents(customerID: String) async throws -> [DeliveryEvent] {
        try await events(
            "SELECT provider, event_id, outbox_id, customer_id, channel, kind, at, detail FROM delivery_event WHERE customer_id = \(customerID) ORDER BY at DESC, provider, event_id")
    }

    /// Every delivery event of one outbox message, oldest first.
    public func deliveryEvents(outboxID: String) async throws -> [DeliveryEvent] {
        try await events(
            "SELECT provider, event_id, outbox_id, customer_id, channel, kind, at, detail FROM delivery_event WHERE outbox_id = \(outboxID) ORDER BY at, provider, event_id")
    }

    func events(_ query: PostgresQuery) async throws -> [DeliveryEvent] {
        var events: [DeliveryEvent] = []
        let rows = try await client.query(query, logger: logger)
        for try await (provider, eventID, outboxID, customerID, channel, kind, at, detail) in rows.decode(
            (String, String, String?, String?, String?, String, Int64, String?).self)
        {
            events.append(
                DeliveryEvent(
                    provider: provider, eventID: eventID, outboxID: outboxID, customerID: customerID, channel: channel,
                    kind: DeliveryEvent.Kind(rawValue: kind) ?? .processed, at: StoredInstant.date(at), detail: detail))
        }
        return events
    }

    public func consentChanges(customerID: String) async throws -> [(change: ConsentChange, at: Date)] {
        var changes: [(change: ConsentChange, at: Date)] = []
        let rows = try await client.query(
            """
            SELECT customer_id, channel, opt_in, reason, at FROM consent_change WHERE customer_id = \(customerID)
            ORDER BY at DESC, id DESC
            """, logger: logger)
        for try await (customer, channel, optIn, reason, at) in rows.decode((String, String, Bool, String, Int64).self) {
            changes.append(
                (ConsentChange(customerID: customer, channel: channel, optIn: optIn, reason: reason), StoredInstant.date(at)))
        }
        return changes
    }
}
