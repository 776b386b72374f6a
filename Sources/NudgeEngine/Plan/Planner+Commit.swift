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
    /// When the stored fit of the customer model is older than `intelligence.refit` (or missing) and the plan reads
    /// the model, it is refitted first, before the planning lock is taken (a fit of a million customers takes
    /// seconds, which other runners need not wait for); a plan that does not read it leaves the refit to
    /// `refitIfDue` once its messages are out.
    ///
    /// Planning and commit hold the store's planning lock, so overlapping runs on one database plan one after
    /// the other and the second finds the first's occurrences in the ledger. The ledger's unique key is the
    /// backstop: an occurrence another runner committed first is dropped from this plan, never sent twice.
    public func commit(now: Date, createdAt: Date, newID: @escaping @Sendable () -> String) async throws -> CommitSummary {
        if readsModel(project.workflows.filter(\.isEnabled)) { try await refitIfDue(now: now) }
        return try await store.withPlanningLock {
            var plan = try await plan(now: now, workflowIDs: nil, render: true, slices: nil, record: true)
            let created = StoredInstant.millis(createdAt)
            let categories = Dictionary(project.workflows.map { ($0.id, $0.category.rawValue) }) { first, _ in first }
            let records = plan.messages.map { message in
                var record = OutboxMessage(
                    id: newID(), workflowId: message.workflowID, customerId: message.customerID,
                    occurrence: message.occurrence, actionIndex: message.actionIndex, channel: message.channel?.rawValue,
                    recipient: message.recipient, template: message.template, headingKey: message.rendered?.heading?.key,
                    heading: message.rendered?.heading?.value, body: message.rendered?.body,
                    dueAt: StoredInstant.millis(message.due), createdAt: created,
                    status: message.status == .send ? .pending : .suppressed, reason: message.reason)
                record.textBody = message.rendered?.text
                record.variant = message.variant
                record.step = message.step
                record.platform = message.platform
                record.category = categories[message.workflowID]
                // A message held back by the policy waits in the outbox until its send_after.
                if let sendAfter = message.sendAfter { record.nextAttemptAt = max(created, StoredInstant.millis(sendAfter)) }
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

    /// Refits the customer model on the visits up to `now` when the stored fit is older than `intelligence.refit`
    /// (or missing); returns whether it did.
    @discardableResult
    public func refitIfDue(now: Date) async throws -> Bool {
        let fitter = ModelFitter(store: store, config: project.config, logger: logger)
        guard try await fitter.isDue(at: now) else { return false }
        guard let fit = try await fitter.fit(now: now) else { return false }
        logger.info("customer model refitted", metadata: ["customers": "\(fit.customers)", "repeat": "\(fit.repeatCustomers)"])
        return true
    }

    /// Whether `workflows` read the customer model: its fields, `status` or `next_action` (which read churn risk),
    /// in their conditions or templates, or through the segments they read or watch.
    func readsModel(_ workflows: [Workflow]) -> Bool {
        let fields = Self.modelFields.union([.customer(.status), .customer(.next_action)])
        let segmentsRead = project.config.segments.contains { !$0.fieldsRead.isDisjoint(with: fields) }
        return workflows.contains { workflow in
            readsAnyField(workflow, fields)
                || (segmentsRead && (readsSegments(workflow) || workflow.trigger.enteredSegment != nil))
        }
    }
}
