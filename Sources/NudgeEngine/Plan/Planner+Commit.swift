public import Foundation
import Logging
import NudgeLanguage
import NudgeRender
import NudgeStore
import NudgeCore

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
    /// The commit stage: plans at `now` and commits the plan in one transaction, a ledger row per occurrence
    /// and a rendered outbox row per message (suppressed ones with their reason).
    ///
    /// The customer model is refitted first when the stored fit is older than `intelligence.refit`.
    ///
    /// Planning and commit hold the store's planning lock, so overlapping runs on one database plan one after
    /// the other and the second finds the first's occurrences in the ledger. The ledger's unique key is the
    /// backstop: an occurrence another runner committed first is dropped from this plan, never sent twice.
    public func commit(now: Date, createdAt: Date, newID: @escaping @Sendable () -> String) async throws -> CommitSummary {
        try await store.withPlanningLock {
            // The customer model is refitted first when its fit is older than `intelligence.refit` (or missing).
            let fitter = ModelFitter(store: store, config: project.config, logger: logger)
            if try await fitter.isDue(at: now), let fit = try await fitter.fit(now: now) {
                logger.info(
                    "customer model refitted", metadata: ["customers": "\(fit.customers)", "repeat": "\(fit.repeatCustomers)"])
            }
            var plan = try await plan(now: now, workflowIDs: nil, render: true, slices: nil, record: true)
            let created = StoredInstant.millis(createdAt)
            let records = plan.messages.map { message in
                var record = OutboxMessage(
                    id: newID(), workflowId: message.workflowID, customerId: message.customerID,
                    occurrence: message.occurrence, actionIndex: message.actionIndex, channel: message.channel?.rawValue,
                    recipient: message.recipient, template: message.template, headingKey: message.rendered?.heading?.key,
                    heading: message.rendered?.heading?.value, body: message.rendered?.body,
                    dueAt: StoredInstant.millis(message.due), createdAt: created,
                    status: message.status == .send ? .pending : .suppressed, reason: message.reason)
                record.textBody = message.rendered?.text
                return record
            }
            let committed = try await store.commit(records)
            var pending: [String] = []
            var suppressed = 0
            var kept: [PlannedMessage] = []
            var lost = Set<LedgerKey>()
            for (message, record) in zip(plan.messages, records) {
                guard committed.contains(record.id) else {
                    lost.insert(record.ledgerKey)
                    continue
                }
                kept.append(message)
                if record.status == .pending { pending.append(record.id) } else { suppressed += 1 }
            }
            plan.messages = kept
            plan.alreadySent += lost.count
            return CommitSummary(plan: plan, pendingIDs: pending, suppressed: suppressed)
        }
    }
}
