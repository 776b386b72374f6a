public import Foundation
import GRDB
import NudgeCore

// GDPR access and erasure (`nudge customers export|erase`).
extension AppDatabase: PrivacyStore {
    public func erasureKeyChecks() throws -> Set<String> {
        try reader.read { db in Set(try String.fetchAll(db, sql: "SELECT DISTINCT key_check FROM erasure")) }
    }

    public func storedErasureKey() throws -> String? {
        try reader.read { db in try String.fetchOne(db, sql: "SELECT secret FROM erasure_key WHERE id = 1") }
    }

    public func ledgerEntries(customerID: String) throws -> [LedgerEntry] {
        try reader.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT workflow_id, occurrence, committed_at FROM ledger WHERE customer_id = ?
                    ORDER BY committed_at, workflow_id, occurrence
                    """, arguments: [customerID]
            ).map { LedgerEntry(workflowID: $0[0], occurrence: $0[1], committedAt: StoredInstant.date($0[2])) }
        }
    }

    public func segmentEntries(customerID: String) throws -> [(segment: String, enteredOn: String)] {
        try reader.read { db in
            try Row.fetchAll(
                db, sql: "SELECT segment, entered_on FROM segment_entry WHERE customer_id = ? ORDER BY segment",
                arguments: [customerID]
            ).map { ($0[0], $0[1]) }
        }
    }

    public func erasedPseudonyms() throws -> Set<String> {
        try reader.read { db in Set(try String.fetchAll(db, sql: "SELECT pseudonym FROM erasure")) }
    }

    public func erasedAt(pseudonym: String) throws -> Date? {
        try reader.read { db in
            try Int64.fetchOne(db, sql: "SELECT erased_at FROM erasure WHERE pseudonym = ?", arguments: [pseudonym])
                .map(StoredInstant.date)
        }
    }

    /// With `secure_delete` on, so that the deleted rows' bytes are overwritten in the file, and a checkpoint that
    /// empties the write-ahead log afterwards (when no reader holds it).
    public func erase(
        customerID: String, pseudonym: String, keyCheck: String, newKey: String?, at: Date
    ) throws -> [(table: String, rows: Int)] {
        try writer.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA secure_delete = ON")
            defer { try? db.execute(sql: "PRAGMA secure_delete = OFF") }
            var report: [(table: String, rows: Int)] = []
            try db.inTransaction {
                for (table, sql) in ErasureSQL.statements {
                    try db.execute(sql: sql, arguments: StatementArguments(ErasureSQL.arguments(sql, customerID, pseudonym)))
                    ErasureSQL.add(db.changesCount, to: table, in: &report)
                }
                try db.execute(
                    sql: """
                        INSERT INTO erasure (pseudonym, erased_at, key_check) VALUES (?, ?, ?)
                        ON CONFLICT (pseudonym) DO UPDATE SET erased_at = excluded.erased_at
                        """, arguments: [pseudonym, StoredInstant.millis(at), keyCheck])
                if let newKey { try db.execute(sql: "INSERT INTO erasure_key (id, secret) VALUES (1, ?)", arguments: [newKey]) }
                return .commit
            }
            _ = try? Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)")
            return report
        }
    }
}

/// The statements of an erasure, in order, each with `?1` the customer id and `?2` its keyed hash, and the table
/// each changes. SQLite and PostgreSQL (which numbers parameters `$1`, `$2`) run the same text.
public enum ErasureSQL {
    /// The outbox ids of the customer's messages.
    static let messages = "SELECT id FROM outbox WHERE customer_id = ?1"

    public static let statements: [(table: String, sql: String)] = [
        // Also what arrived under the keyed hash since an earlier erasure (a late webhook), so erasing again cleans it.
        (
            "delivery_attempt",
            """
            UPDATE delivery_attempt SET detail = NULL
            WHERE detail IS NOT NULL AND outbox_id IN (SELECT id FROM outbox WHERE customer_id = ?1 OR customer_id = ?2)
            """
        ),
        (
            // Event ids that name the customer: Twilio's of a number several customers share end in `:ID`; the
            // unsubscribe link's are `customer:ID:MILLIS`.
            "delivery_event",
            """
            UPDATE delivery_event SET customer_id = ?2, detail = NULL,
              event_id = CASE
                WHEN substr(event_id, length(event_id) - length(?1)) = ':' || ?1
                  THEN substr(event_id, 1, length(event_id) - length(?1)) || ?2
                WHEN substr(event_id, 1, length(?1) + 10) = 'customer:' || ?1 || ':'
                  THEN 'customer:' || ?2 || substr(event_id, length(?1) + 10)
                ELSE event_id END
            WHERE customer_id = ?1 OR outbox_id IN (\(messages))
              OR (detail IS NOT NULL AND (customer_id = ?2 OR outbox_id IN (SELECT id FROM outbox WHERE customer_id = ?2)))
            """
        ),
        (
            // A message still waiting is not sent: its address and text are gone.
            "outbox",
            """
            UPDATE outbox SET customer_id = ?2, recipient = NULL, heading = NULL, body = NULL, text_body = NULL,
              reason = CASE WHEN status = 'pending' THEN 'customer erased' ELSE reason END,
              status = CASE WHEN status = 'pending' THEN 'suppressed' ELSE status END,
              lease_owner = NULL, lease_expires_at = NULL
            WHERE customer_id = ?1 AND NOT EXISTS (
              SELECT 1 FROM outbox o WHERE o.workflow_id = outbox.workflow_id AND o.customer_id = ?2
                AND o.occurrence = outbox.occurrence AND o.action_index = outbox.action_index)
            """
        ),
        // What the keyed hash holds already (the same occurrence, erased before) goes.
        ("outbox", "DELETE FROM outbox WHERE customer_id = ?1"),
        (
            "ledger",
            """
            UPDATE ledger SET customer_id = ?2 WHERE customer_id = ?1 AND NOT EXISTS (
              SELECT 1 FROM ledger l WHERE l.workflow_id = ledger.workflow_id AND l.customer_id = ?2
                AND l.occurrence = ledger.occurrence)
            """
        ),
        ("ledger", "DELETE FROM ledger WHERE customer_id = ?1"),
        ("consent_change", "UPDATE consent_change SET customer_id = ?2 WHERE customer_id = ?1"),
        ("segment_entry", "DELETE FROM segment_entry WHERE customer_id = ?1"),
        ("wallet_sync", "DELETE FROM wallet_sync WHERE customer_id = ?1"),
        ("pass_registration", "DELETE FROM pass_registration WHERE customer_id = ?1"),
        ("pass_update", "DELETE FROM pass_update WHERE customer_id = ?1"),
        ("progress", "DELETE FROM progress WHERE customer_id = ?1"),
        ("visit", "DELETE FROM visit WHERE customer_id = ?1"),
        ("customer", "DELETE FROM customer WHERE id = ?1"),
    ]

    /// The values of a statement's parameters: the id, and the keyed hash when the statement reads it.
    public static func arguments(_ sql: String, _ customerID: String, _ pseudonym: String) -> [String] {
        sql.contains("?2") ? [customerID, pseudonym] : [customerID]
    }

    /// Adds `rows` to `table`'s count in `report` (tables keep the order they first changed in).
    public static func add(_ rows: Int, to table: String, in report: inout [(table: String, rows: Int)]) {
        guard rows > 0 else { return }
        if let index = report.firstIndex(where: { $0.table == table }) {
            report[index].rows += rows
        } else {
            report.append((table, rows))
        }
    }
}
