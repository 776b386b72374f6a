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

    /// The columns of `outbox` in the order `init(row:)` reads them.
    static let selectionColumns = [
        "id", "workflow_id", "customer_id", "occurrence", "action_index", "channel", "recipient", "template",
        "heading_key", "heading", "body", "due_at", "created_at", "status", "reason", "text_body", "attempts",
        "next_attempt_at", "lease_owner", "lease_expires_at", "delivered_at", "provider_message_id", "variant", "platform",
    ]

    /// `selectionColumns` for SQL written by hand: `SELECT \(OutboxMessage.selection) FROM outbox …`.
    static let selection = selectionColumns.joined(separator: ", ")

    /// What every request of the query interface selects, so that rows come in `init(row:)`'s order.
    public static var databaseSelection: [any SQLSelectable] { selectionColumns.map { Column($0) } }

    /// Decodes a row of `selection` by position: a dispatcher claims thousands of rows a second, and finding each of
    /// 24 columns by name costs more than reading the row. (SQL written by hand selects `selection`, not `*`.)
    public init(row: Row) throws {
        assert(Array(row.columnNames) == Self.selectionColumns, "an outbox row not selected by OutboxMessage.selection")
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
        variant = row[22]
        platform = row[23]
    }
}

extension DeliveryAttempt: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "delivery_attempt"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase
}
