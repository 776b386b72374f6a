public import Foundation
import GRDB
public import NudgeCore

extension AppDatabase {
    /// Records `event` (and the consent changes it causes) in one transaction, unless the same provider event was
    /// recorded before. Returns false for a duplicate, which changes nothing.
    ///
    /// When the event names an outbox id but no customer, the customer and channel are taken from the outbox.
    @discardableResult
    public func record(_ event: DeliveryEvent, consent: [ConsentChange] = [], receivedAt: Date) throws -> Bool {
        try writer.write { db in
            var event = event
            if let outboxID = event.outboxID, event.customerID == nil || event.channel == nil,
                let row = try Row.fetchOne(db, sql: "SELECT customer_id, channel FROM outbox WHERE id = ?", arguments: [outboxID])
            {
                event.customerID = event.customerID ?? row["customer_id"]
                event.channel = event.channel ?? row["channel"]
            }
            try db.execute(
                sql: """
                    INSERT INTO delivery_event (provider, event_id, outbox_id, customer_id, channel, kind, at, received_at, detail)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
                    """,
                arguments: [
                    event.provider, event.eventID, event.outboxID, event.customerID, event.channel, event.kind.rawValue,
                    StoredInstant.millis(event.at), StoredInstant.millis(receivedAt), event.detail,
                ])
            guard db.changesCount > 0 else { return false }
            for change in consent {
                let customerID = change.customerID.isEmpty ? (event.customerID ?? "") : change.customerID
                try Self.apply(change, customerID: customerID, at: event.at, db: db)
            }
            return true
        }
    }

    /// Sets the customer's opt-in column and logs the change (a no-op for an unknown customer).
    static func apply(_ change: ConsentChange, customerID: String, at: Date, db: Database) throws {
        guard let column = ConsentChange.columns[change.channel] else { return }
        try db.execute(
            sql: "UPDATE customer SET \(column) = ? WHERE id = ?", arguments: [change.optIn, customerID])
        guard db.changesCount > 0 else { return }
        try db.execute(
            sql: "INSERT INTO consent_change (customer_id, channel, opt_in, reason, at) VALUES (?, ?, ?, ?, ?)",
            arguments: [customerID, change.channel, change.optIn, change.reason, StoredInstant.millis(at)])
    }

    /// The ids of customers with this phone number (inbound SMS names only the number).
    public func customerIDs(phone: String) throws -> [String] {
        try reader.read { db in
            try String.fetchAll(db, sql: "SELECT id FROM customer WHERE phone = ? ORDER BY id", arguments: [phone])
        }
    }

    /// A customer's delivery events, newest first.
    public func deliveryEvents(customerID: String) throws -> [DeliveryEvent] {
        try reader.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM delivery_event WHERE customer_id = ? ORDER BY at DESC, provider, event_id
                    """, arguments: [customerID]
            ).map(Self.event)
        }
    }

    /// Every delivery event of one outbox message, oldest first.
    public func deliveryEvents(outboxID: String) throws -> [DeliveryEvent] {
        try reader.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM delivery_event WHERE outbox_id = ? ORDER BY at, provider, event_id",
                arguments: [outboxID]
            ).map(Self.event)
        }
    }

    /// A customer's consent changes, newest first.
    public func consentChanges(customerID: String) throws -> [(change: ConsentChange, at: Date)] {
        try reader.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM consent_change WHERE customer_id = ? ORDER BY at DESC, id DESC",
                arguments: [customerID]
            ).map { row in
                (
                    ConsentChange(
                        customerID: row["customer_id"], channel: row["channel"], optIn: row["opt_in"], reason: row["reason"]),
                    StoredInstant.date(row["at"])
                )
            }
        }
    }

    static func event(_ row: Row) -> DeliveryEvent {
        DeliveryEvent(
            provider: row["provider"], eventID: row["event_id"], outboxID: row["outbox_id"], customerID: row["customer_id"],
            channel: row["channel"], kind: DeliveryEvent.Kind(rawValue: row["kind"]) ?? .processed,
            at: StoredInstant.date(row["at"]), detail: row["detail"])
    }
}
