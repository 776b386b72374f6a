public import Foundation
public import GRDB
public import Logging
public import NudgeLanguage
import NudgeRender
public import NudgeStore

/// Evaluates a project's rule graph against the store at `now` and produces the Plan.
///
/// Dry-run and run share this code path, so what dry-run shows is what run sends.
public struct Planner: Sendable {
    public let project: Project
    public let database: AppDatabase
    public let logger: Logger
    /// Makes `{{unsubscribe_url}}` for email templates (unsigned links when the secret is not given).
    public let unsubscribe: UnsubscribeLinks?

    public init(
        project: Project, database: AppDatabase, logger: Logger = Logger(label: "nudge.engine"),
        unsubscribe: UnsubscribeLinks? = nil
    ) {
        self.project = project
        self.database = database
        self.logger = logger
        self.unsubscribe = unsubscribe ?? UnsubscribeLinks(config: project.config, environment: [:])
    }

    /// Plans at `now` for the enabled workflows (only those in `workflowIDs` when given).
    public func plan(now: Date, workflowIDs: Set<String>? = nil, render: Bool = false) throws -> Plan {
        try database.reader.read { db in try plan(now: now, workflowIDs: workflowIDs, render: render, db: db) }
    }

    /// Plans inside an open database access (run uses this inside its write transaction).
    public func plan(now: Date, workflowIDs: Set<String>?, render: Bool, db: Database) throws -> Plan {
        var plan = Plan(now: now, messages: [], candidates: 0, alreadySent: 0, filteredOut: 0, workflowIDs: [])
        let ledger = try db.cachedStatement(
            sql: "SELECT 1 FROM ledger WHERE workflow_id = ? AND customer_id = ? AND occurrence = ?")
        let zones = try TriggerScan.zonesInUse(db)
        // The rule graph's shared nodes: workflows with the same trigger, catch-up and send time share one scan.
        var scans: [TriggerScan.Key: [Occurrence]] = [:]
        for workflow in project.workflows where workflow.isEnabled {
            if let workflowIDs, !workflowIDs.contains(workflow.id) { continue }
            plan.workflowIDs.append(workflow.id)
            let scan = TriggerScan(workflow: workflow, config: project.config, now: now, zones: zones)
            let occurrences: [Occurrence]
            if let shared = scans[scan.key] {
                occurrences = shared
            } else {
                occurrences = try scan.occurrences(db: db)
                scans[scan.key] = occurrences
                logger.debug(
                    "trigger scanned", metadata: ["workflow.id": "\(workflow.id)", "candidates": "\(occurrences.count)"])
            }
            for var occurrence in occurrences {
                occurrence.workflowID = workflow.id
                plan.candidates += 1
                if try Row.fetchOne(ledger, arguments: [workflow.id, occurrence.customer.id, occurrence.key]) != nil {
                    plan.alreadySent += 1
                    continue
                }
                let facts = try self.facts(for: occurrence, of: workflow, now: now, db: db)
                guard workflow.conditions.allSatisfy({ $0.holds(for: facts) }) else {
                    plan.filteredOut += 1
                    continue
                }
                for (index, action) in workflow.actions.enumerated() {
                    plan.messages.append(message(for: action, index: index, facts: facts, render: render))
                }
            }
        }
        // Sort indices, not the (large) messages themselves.
        let messages = plan.messages
        let order = messages.indices.sorted { a, b in
            let x = messages[a]
            let y = messages[b]
            if x.due != y.due { return x.due < y.due }
            if x.workflowID != y.workflowID { return x.workflowID < y.workflowID }
            if x.customerID != y.customerID { return x.customerID < y.customerID }
            if x.occurrence != y.occurrence { return x.occurrence < y.occurrence }
            return x.actionIndex < y.actionIndex
        }
        plan.messages = order.map { messages[$0] }
        return plan
    }

    func message(for action: SendAction, index: Int, facts: CustomerFacts, render: Bool) -> PlannedMessage {
        let occurrence = facts.occurrence
        var message = PlannedMessage(
            workflowID: facts.workflow.id, customerID: occurrence.customer.id,
            occurrence: occurrence.key, actionIndex: index, channel: nil,
            template: action.template, due: occurrence.due, status: .suppressed, reason: nil, recipient: nil,
            rendered: nil, timeZone: facts.zone.identifier)
        var reasons: [String] = []
        for channel in action.channels {
            switch ChannelPolicy.recipient(on: channel, for: occurrence.customer) {
            case .success(let recipient):
                message.channel = channel
                message.recipient = recipient
                message.status = .send
                guard let template = project.templates[TemplateKey(name: action.template, channel: channel)] else {
                    return message
                }
                if render {
                    message.rendered = self.render(template, on: channel, facts: facts)
                    if channel == .sms, let body = message.rendered?.body { message.segments = SMSSegments(body) }
                } else if channel == .sms {
                    // Dry-run shows what each SMS costs, rendered or not.
                    message.segments = SMSSegments(template.render(facts.renderContext).body)
                }
                return message
            case .failure(let reason):
                reasons.append(action.channels.count > 1 ? "\(channel.rawValue): \(reason.text)" : reason.text)
            }
        }
        message.reason = reasons.joined(separator: "; ")
        return message
    }
}

extension Planner {
    /// The fields of `occurrence` at `now`; visit counts are queried only if a condition or template reads them.
    func facts(for occurrence: Occurrence, of workflow: Workflow, now: Date, db: Database) throws -> CustomerFacts {
        let visitCount = try db.cachedStatement(
            sql: "SELECT count(*) FROM visit WHERE customer_id = ? AND visited_at > ?")
        let customerID = occurrence.customer.id
        return CustomerFacts(occurrence: occurrence, workflow: workflow, config: project.config, now: now) { since in
            (try? Int.fetchOne(visitCount, arguments: [customerID, StoredInstant.millis(since)])) ?? 0
        }
    }

    /// Renders `template` for the occurrence, with the plain-text alternative of an email when the project has one.
    func render(_ template: MessageTemplate, on channel: Channel, facts: CustomerFacts) -> RenderedMessage {
        let context = context(for: channel, facts: facts)
        var rendered = template.render(context)
        if channel == .email, let text = project.textTemplates[template.name] {
            rendered.text = text.render(context).body
        }
        return rendered
    }

    /// The rendering context of a message on `channel`: the fields of §4, and `unsubscribe_url` in emails.
    func context(for channel: Channel, facts: CustomerFacts) -> LazyContext {
        let base = facts.renderContext
        guard channel == .email else { return base }
        let link = unsubscribe?.url(customerID: facts.occurrence.customer.id) ?? ""
        return LazyContext { name in name == UnsubscribeLinks.variable ? link : base.child(named: name) }
    }
}

/// Consent and address rules, enforced for every workflow (design §5).
public enum ChannelPolicy {
    /// Why a channel cannot carry a message to a customer.
    public struct Refusal: Error, Sendable {
        public var text: String
    }

    /// The customer's address on `channel`, or why there is none.
    public static func recipient(on channel: Channel, for customer: CustomerState) -> Result<String, Refusal> {
        func present(_ value: String?) -> String? {
            guard let value, !value.trimmingCharacters(in: .whitespaces).isEmpty else { return nil }
            return value
        }
        switch channel {
        case .email:
            guard let email = present(customer.email) else { return .failure(Refusal(text: "no email address")) }
            guard customer.isEmailOptIn else { return .failure(Refusal(text: "not opted in to email")) }
            return .success(email)
        case .sms:
            guard let phone = present(customer.phone) else { return .failure(Refusal(text: "no phone number")) }
            guard customer.isSMSOptIn else { return .failure(Refusal(text: "not opted in to sms")) }
            return .success(phone)
        case .push:
            guard let token = present(customer.pushToken) else { return .failure(Refusal(text: "no push token")) }
            guard customer.isPushOptIn else { return .failure(Refusal(text: "not opted in to push")) }
            return .success(token)
        case .wallet:
            guard let pass = present(customer.walletPassID) else { return .failure(Refusal(text: "no wallet pass")) }
            return .success(pass)
        }
    }
}
