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

    /// The columns of `outbox` in the order `init(selected:)` reads them.
    static let selection = """
        id, workflow_id, customer_id, occurrence, action_index, channel, recipient, template, heading_key, heading, \
        body, due_at, created_at, status, reason, text_body, attempts, next_attempt_at, lease_owner, lease_expires_at, \
        delivered_at, provider_message_id
        """

    /// Decodes a row of `selection` by position: a dispatcher claims thousands of rows a second, and finding each of
    /// 22 columns by name costs more than reading the row.
    init(selected row: Row) throws {
        let statusText: String = row[13]
        guard let status = Status(rawValue: statusText) else {
            throw DatabaseError(message: "unknown outbox status '\(statusText)'")
        }
        self.init(
            id: row[0], workflowId: row[1], customerId: row[2], occurrence: row[3], actionIndex: row[4], channel: row[5],
            recipient: row[6], template: row[7], headingKey: row[8], heading: row[9], body: row[10], dueAt: row[11],
            createdAt: row[12], status: status, reason: row[14])
        textBody = row[15]
        attempts = row[16]
        nextAttemptAt = row[17]
        leaseOwner = row[18]
        leaseExpiresAt = row[19]
        deliveredAt = row[20]
        providerMessageId = row[21]
    }
}

extension DeliveryAttempt: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "delivery_attempt"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase
}
