public import Foundation
import GRDB
import NudgeLanguage
import NudgeRender
import NudgeStore

/// What a committed plan put in the outbox.
public struct CommitSummary: Sendable {
    /// The plan as committed (rendered).
    public var plan: Plan
    /// Outbox ids of the messages to deliver.
    public var pendingIDs: [String]
    /// Messages recorded as suppressed.
    public var suppressed: Int
}

extension Planner {
    /// Plans at `now` and commits the plan in ONE write transaction: a ledger row per occurrence and a
    /// rendered outbox row per message (suppressed ones with their reason).
    ///
    /// Planning happens inside the write transaction, so overlapping runs on one database serialize here and
    /// the second sees the first's ledger: no occurrence is planned twice.
    public func commit(now: Date, createdAt: Date, newID: @Sendable () -> String) throws -> CommitSummary {
        try database.writer.write { db in
            let plan = try plan(now: now, workflowIDs: nil, render: true, db: db)
            var pending: [String] = []
            var suppressed = 0
            let createdMillis = StoredInstant.millis(createdAt)
            let ledger = try db.cachedStatement(
                sql: "INSERT OR IGNORE INTO ledger (workflow_id, customer_id, occurrence, committed_at) VALUES (?, ?, ?, ?)")
            let insert = try db.cachedStatement(
                sql: """
                    INSERT INTO outbox (id, workflow_id, customer_id, occurrence, action_index, channel, recipient, template,
                      heading_key, heading, body, text_body, due_at, created_at, status, reason, next_attempt_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            for message in plan.messages {
                try ledger.execute(arguments: [message.workflowID, message.customerID, message.occurrence, createdMillis])
                let id = newID()
                try insert.execute(arguments: [
                    id, message.workflowID, message.customerID, message.occurrence, message.actionIndex,
                    message.channel?.rawValue, message.recipient, message.template, message.rendered?.heading?.key,
                    message.rendered?.heading?.value, message.rendered?.body, message.rendered?.text,
                    StoredInstant.millis(message.due),
                    createdMillis, message.status == .send ? "pending" : "suppressed", message.reason, createdMillis,
                ])
                if message.status == .send {
                    pending.append(id)
                } else {
                    suppressed += 1
                }
            }
            return CommitSummary(plan: plan, pendingIDs: pending, suppressed: suppressed)
        }
    }
}
