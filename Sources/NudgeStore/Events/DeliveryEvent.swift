public import Foundation
import GRDB

/// Something a provider reported about a message after accepting it, or a customer's reply (STOP, START).
public struct DeliveryEvent: Sendable, Hashable {
    /// What happened.
    public enum Kind: String, Sendable, CaseIterable, Codable {
        case processed, deferred, sent, delivered, opened, clicked, bounced, complained, failed, dropped, unsubscribed
        /// An inbound SMS opt-out (STOP) or opt-in (START).
        case stopped, started
    }

    /// `sendgrid`, `mailgun`, `twilio`, `unsubscribe`.
    public var provider: String
    /// The provider's event id (deduplication key with `provider`).
    public var eventID: String
    /// The outbox id the provider echoed back, when it did.
    public var outboxID: String?
    public var customerID: String?
    public var channel: String?
    public var kind: Kind
    /// When it happened, by the provider's clock.
    public var at: Date
    /// The provider's words (bounce reason, error code), never a secret.
    public var detail: String?

    public init(
        provider: String, eventID: String, outboxID: String? = nil, customerID: String? = nil, channel: String? = nil,
        kind: Kind, at: Date, detail: String? = nil
    ) {
        self.provider = provider
        self.eventID = eventID
        self.outboxID = outboxID
        self.customerID = customerID
        self.channel = channel
        self.kind = kind
        self.at = at
        self.detail = detail
    }
}

/// A change of a customer's consent on one channel.
public struct ConsentChange: Sendable, Hashable {
    public var customerID: String
    /// `email` or `sms` (or `push`).
    public var channel: String
    public var optIn: Bool
    /// Why: "hard bounce", "spam complaint", "STOP", "unsubscribe link".
    public var reason: String

    /// The customer column holding each channel's consent.
    public static let columns = ["email": "email_opt_in", "sms": "sms_opt_in", "push": "push_opt_in"]

    public init(customerID: String, channel: String, optIn: Bool, reason: String) {
        self.customerID = customerID
        self.channel = channel
        self.optIn = optIn
        self.reason = reason
    }
}

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
