public import GRDB
public import NudgeCore

extension OutboxMessage: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "outbox"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    /// Columns for requests.
    public enum Columns {
        public static let id = Column("id")
        public static let customerId = Column("customer_id")
        public static let status = Column("status")
        public static let createdAt = Column("created_at")
        public static let nextAttemptAt = Column("next_attempt_at")
    }

    /// Decodes a row of `outbox` by column name (faster than the Codable path, which renames every key).
    public init(row: Row) throws {
        let statusText: String = row["status"]
        guard let status = Status(rawValue: statusText) else {
            throw DatabaseError(message: "unknown outbox status '\(statusText)'")
        }
        self.init(
            id: row["id"], workflowId: row["workflow_id"], customerId: row["customer_id"], occurrence: row["occurrence"],
            actionIndex: row["action_index"], channel: row["channel"], recipient: row["recipient"],
            template: row["template"], headingKey: row["heading_key"], heading: row["heading"], body: row["body"],
            dueAt: row["due_at"], createdAt: row["created_at"], status: status, reason: row["reason"])
        textBody = row["text_body"]
        attempts = row["attempts"]
        nextAttemptAt = row["next_attempt_at"]
        leaseOwner = row["lease_owner"]
        leaseExpiresAt = row["lease_expires_at"]
        deliveredAt = row["delivered_at"]
        providerMessageId = row["provider_message_id"]
    }
}

extension DeliveryAttempt: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "delivery_attempt"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase
}
