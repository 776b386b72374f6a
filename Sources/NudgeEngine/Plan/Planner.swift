public import Foundation
public import Logging
import NudgeLanguage
import NudgeRender
public import NudgeStore
import NudgeCore

/// Evaluates a project's rule graph against a store at `now` and produces the Plan.
///
/// The plan is made in named stages, in the order they apply: **evaluate** (trigger scans, shared between
/// workflows with the same trigger) → **dedup** (the ledger) → **when** (conditions) → **policy** (consent and
/// channel choice) → **render** → and, for `run` only, **commit**. Dry-run and run share every stage up to commit,
/// so what dry-run shows is what run sends. The planner speaks to the store only through `PlanningStore`.
public struct Planner: Sendable {
    public let project: Project
    public let store: any PlanningStore
    public let logger: Logger
    /// Makes `{{unsubscribe_url}}` for email templates (unsigned links when the secret is not given).
    public let unsubscribe: UnsubscribeLinks?
    /// The environment's erasure key (`NUDGE_ERASURE_KEY`): dedup needs the key customers were erased with, this
    /// one or the database's own.
    public let erasureKey: ErasureKey?
    /// The headings that read nothing but `business.*`, rendered once for every message (a broadcast's subject).
    let fixedHeadings: [TemplateKey: String]

    public init(
        project: Project, store: any PlanningStore, logger: Logger = Logger(label: "nudge.engine"),
        unsubscribe: UnsubscribeLinks? = nil, erasureKey: ErasureKey? = nil
    ) {
        self.project = project
        self.store = store
        self.logger = logger
        self.unsubscribe = unsubscribe ?? UnsubscribeLinks(config: project.config, environment: [:])
        self.erasureKey = erasureKey
        let business = LazyContext { $0 == "business" ? CustomerFacts.businessContext(project.config) : nil }
        fixedHeadings = project.templates.filter { $0.value.headingReadsOnly(groups: ["business"]) }
            .compactMapValues { $0.renderHeading(business) }
    }

    /// A planner with the unsubscribe links and the erasure key of `environment`, as `run` and `dry-run` plan.
    public init(project: Project, store: any PlanningStore, logger: Logger, environment: [String: String]) throws {
        self.init(
            project: project, store: store, logger: logger,
            unsubscribe: UnsubscribeLinks(config: project.config, environment: environment),
            erasureKey: try ErasureKey(environment: environment))
    }

    /// Plans at `now` for the enabled workflows (only those in `workflowIDs` when given).
    public func plan(now: Date, workflowIDs: Set<String>? = nil, render: Bool = false) async throws -> Plan {
        try await plan(now: now, workflowIDs: workflowIDs, render: render, slices: nil)
    }

    /// `plan(now:workflowIDs:render:)`, its occurrences cut into `slices` (nil: one per core for a large plan).
    ///
    /// With `record` (a run), the members of the segments that triggers watch are recorded.
    func plan(
        now: Date, workflowIDs: Set<String>?, render: Bool, slices: Int?, record: Bool = false
    ) async throws -> Plan {
        var plan = Plan(now: now, messages: [], candidates: 0, alreadySent: 0, filteredOut: 0, workflowIDs: [])
        var stages = StageClock(logger: logger)
        let workflows = project.workflows.filter { $0.isEnabled && workflowIDs?.contains($0.id) ?? true }
        let segments = try await self.segments(for: workflows, now: now, record: record)
        stages.lap("segments")
        let evaluated = try await evaluate(workflows, now: now, entries: segments.entries, plan: &plan)
        stages.lap("evaluate")
        let fresh = try await dedup(evaluated, plan: &plan)
        stages.lap("dedup")
        let counts = try await recentVisitCounts(
            customerIDs: fresh.filter { readsRecentVisits($0.0, book: segments.book) }.flatMap { $0.1.map(\.customer.id) },
            now: now)
        let histories = try await histories(for: fresh, book: segments.book, now: now, plan: &plan)
        stages.lap("facts")
        var (parts, filteredOut) = await decide(
            fresh, counts: counts, book: segments.book, histories: histories, now: now, render: render, slices: slices)
        stages.lap(render ? "when, policy and render" : "when and policy")
        try await applyPolicy(&parts, now: now)
        try await applyRegisteredDevices(&parts)
        try await applyRecipientWindows(&parts, now: now)
        stages.lap("caps and limits")
        plan.messages = await Self.sorted(parts)
        stages.lap("sort")
        plan.filteredOut = filteredOut
        return plan
    }

    /// Plans of at least this many occurrences run `when`, policy and render on every core at once.
    static let sliceThreshold = 2_048

    /// The stages after dedup (when, policy, render) for every fresh occurrence, occurrence by occurrence, so that
    /// only the messages are kept, not every occurrence's facts.
    ///
    /// Each occurrence's messages depend on its own facts alone, so a large plan is cut into one slice per core and
    /// the slices run at once: rendering is most of a broadcast's time. The messages are sorted afterwards, so the
    /// plan does not depend on how the work was cut.
    func decide(
        _ fresh: [(Workflow, [Occurrence])], counts: [String: [Int]], book: SegmentBook?,
        histories: [String: CustomerHistory], now: Date, render: Bool, slices: Int?
    ) async -> (parts: [[PlannedMessage]], filteredOut: Int) {
        // (workflow index, occurrence index) of every occurrence, in plan order.
        let items = fresh.indices.flatMap { w in fresh[w].1.indices.map { (w, $0) } }
        let scopes = fresh.map { FactsScope(workflow: $0.0, config: project.config) }
        let slices = max(
            1, slices ?? (items.count < Self.sliceThreshold ? 1 : ProcessInfo.processInfo.activeProcessorCount))
        let bounds = (0...slices).map { items.count * $0 / slices }
        let decideSlice = { @Sendable (range: Range<Int>) -> (messages: [PlannedMessage], filteredOut: Int) in
            var messages: [PlannedMessage] = []
            let memo = RenderMemo()
            var filteredOut = 0
            for (w, o) in items[range] {
                // The workflow is read through its scope, not copied per occurrence (see `FactsScope`).
                let scope = scopes[w]
                let occurrence = fresh[w].1[o]
                let id = occurrence.customer.id
                let facts = CustomerFacts(
                    occurrence: occurrence, scope: scope, now: now, recentVisits: counts[id], segmentBook: book,
                    history: histories[id])
                let workflow = scope.workflow
                // The workflow's `when` picks who enters (step 0); `exit_when` ends a journey before any step, a
                // holdout's too, so that the holdout stays comparable with the variants.
                guard occurrence.step > 0 || when(workflow, holdsFor: facts),
                    !workflow.exitConditions.contains(where: { $0.holds(for: facts) })
                else {
                    filteredOut += 1
                    continue
                }
                let variant = workflow.split?.variant(
                    recorded: occurrence.recordedVariant, workflowID: workflow.id, customerID: id)
                if let variant, variant.isHoldout {
                    // A holdout is drawn at the trigger; its journey has no steps after it.
                    if occurrence.step == 0 { messages.append(holdout(variant.name, facts: facts)) } else { filteredOut += 1 }
                    continue
                }
                // A step a changed workflow no longer has is skipped.
                guard let step = workflow.steps(of: variant).first(where: { $0.index == occurrence.step }),
                    step.conditions.allSatisfy({ $0.holds(for: facts) })
                else {
                    filteredOut += 1
                    continue
                }
                for index in step.actions {
                    var message = policy(workflow.actions[index], index: index, facts: facts)
                    message.variant = variant?.name
                    message.step = step.index
                    self.render(&message, facts: facts, full: render, memo: memo)
                    messages.append(message)
                }
            }
            return (messages, filteredOut)
        }
        guard slices > 1 else {
            let (messages, filteredOut) = decideSlice(0..<items.count)
            return ([messages], filteredOut)
        }
        return await withTaskGroup(of: (Int, [PlannedMessage], Int).self) { group in
            for slice in 0..<slices {
                group.addTask {
                    let (messages, filteredOut) = decideSlice(bounds[slice]..<bounds[slice + 1])
                    return (slice, messages, filteredOut)
                }
            }
            var parts = [[PlannedMessage]](repeating: [], count: slices)
            var filteredOut = 0
            for await (slice, messages, filtered) in group {
                parts[slice] = messages
                filteredOut += filtered
            }
            return (parts, filteredOut)
        }
    }

    // MARK: Stages

    /// Evaluate: each enabled workflow's trigger scan. Workflows with the same trigger, catch-up and send time
    /// share one scan (the rule graph's shared nodes).
    /// `entries` are the members of the segments that triggers watch (the segment stage's).
    func evaluate(
        _ workflows: [Workflow], now: Date, entries: [String: [SegmentEntry]], plan: inout Plan
    ) async throws -> [(Workflow, [Occurrence])] {
        let zones = try await store.zonesInUse()
        var scans: [TriggerScan.Key: [Occurrence]] = [:]
        var result: [(Workflow, [Occurrence])] = []
        for workflow in workflows {
            plan.workflowIDs.append(workflow.id)
            let scan = TriggerScan(workflow: workflow, config: project.config, now: now, zones: zones)
            var occurrences: [Occurrence]
            if let shared = scans[scan.key] {
                occurrences = shared
            } else if case .segment(let name) = workflow.trigger {
                occurrences = scan.segmentEntries(name, entries: entries[name] ?? [])
                scans[scan.key] = occurrences
            } else {
                occurrences = try await scan.occurrences(store: store)
                scans[scan.key] = occurrences
                logger.debug(
                    "trigger scanned", metadata: ["workflow.id": "\(workflow.id)", "candidates": "\(occurrences.count)"])
            }
            // Only a shared scan's occurrences name another workflow: writing the rest would copy the whole array
            // (the scans keep it too) for nothing.
            for index in occurrences.indices where occurrences[index].workflowID != workflow.id {
                occurrences[index].workflowID = workflow.id
            }
            if workflow.hasFollowUps {
                occurrences += try await followUps(of: workflow, now: now)
            }
            plan.candidates += occurrences.count
            result.append((workflow, occurrences))
        }
        return result
    }

    /// Dedup: drops the occurrences the ledger holds (they fired before), in one batch. Once customers were erased,
    /// the ledger holds their occurrences under the keyed hash of their id, so each key is also asked in that form:
    /// a customer imported again after erasure is not sent what they were sent before.
    func dedup(_ evaluated: [(Workflow, [Occurrence])], plan: inout Plan) async throws -> [(Workflow, [Occurrence])] {
        var keys = evaluated.flatMap { $0.1.map(\.ledgerKey) }
        var pseudonyms: [String: String] = [:]
        let checks = try await store.erasureKeyChecks()
        if !checks.isEmpty, !keys.isEmpty {
            // Only the candidates whose keyed hash is an erased customer's are asked again, under it.
            let erasureKey = try await ErasureKey.inUse(checks: checks, given: erasureKey, store: store)
            let erased = try await store.erasedPseudonyms()
            var seen = Set<String>()
            for key in keys where seen.insert(key.customerID).inserted {
                let pseudonym = erasureKey.pseudonym(for: key.customerID)
                if erased.contains(pseudonym) { pseudonyms[key.customerID] = pseudonym }
            }
            keys += keys.compactMap { key in
                pseudonyms[key.customerID].map { LedgerKey(workflowID: key.workflowID, customerID: $0, occurrence: key.occurrence) }
            }
        }
        let hits = try await store.ledgerHits(keys)
        guard !hits.isEmpty else { return evaluated }
        let fired = { (key: LedgerKey) -> Bool in
            if hits.contains(key) { return true }
            guard let pseudonym = pseudonyms[key.customerID] else { return false }
            return hits.contains(LedgerKey(workflowID: key.workflowID, customerID: pseudonym, occurrence: key.occurrence))
        }
        return evaluated.map { workflow, occurrences in
            let kept = occurrences.filter { !fired($0.ledgerKey) }
            plan.alreadySent += occurrences.count - kept.count
            return (workflow, kept)
        }
    }

    /// When: the workflow's conditions, on the facts of §4 at `now` (recent visit counts were read in one batch
    /// beforehand, only for the workflows whose conditions or templates read them).
    func when(_ workflow: Workflow, holdsFor facts: CustomerFacts) -> Bool {
        workflow.conditions.allSatisfy { $0.holds(for: facts) }
    }

    /// The day counts of `visits_30d` and `visits_90d`.
    static let recentVisitWindows = [30, 90]

    /// Each customer's visits in the last 30 and 90 days before `now` (in `recentVisitWindows` order).
    func recentVisitCounts(customerIDs: [String], now: Date) async throws -> [String: [Int]] {
        guard !customerIDs.isEmpty else { return [:] }
        return try await store.visitCounts(
            customerIDs: customerIDs, since: Self.recentVisitWindows.map { now.addingTimeInterval(-Double($0) * 86_400) })
    }

    /// Whether the workflow's conditions or templates read `visits_30d` or `visits_90d`, themselves or through
    /// the segments `customer.segments` shows.
    func readsRecentVisits(_ workflow: Workflow, book: SegmentBook?) -> Bool {
        let fields: Set<Field> = [.customer(.visits_30d), .customer(.visits_90d)]
        if readsAnyField(workflow, fields.union(Self.engagementFields)) { return true }
        guard let book, readsSegments(workflow) else { return false }
        return book.segments.contains { !$0.fieldsRead.isDisjoint(with: fields) }
    }

    /// The planned messages of `parts` (as the slices made them) in one array, by due time, workflow, customer,
    /// occurrence and action: positions are sorted, not the messages, and each message is copied once, into its place.
    static func sorted(_ parts: [[PlannedMessage]]) async -> [PlannedMessage] {
        // Each part is sorted on a core of its own, then the parts are merged: `precedes` is a total order (no two
        // messages share a key), so the plan comes out the same however it was cut. A broadcast's 100,000 messages
        // sort in half the time.
        let orders = await withTaskGroup(of: (Int, [Int]).self) { group in
            for part in parts.indices {
                group.addTask { (part, parts[part].indices.sorted { precedes(parts[part][$0], parts[part][$1]) }) }
            }
            var orders = Array(repeating: [Int](), count: parts.count)
            for await (part, order) in group { orders[part] = order }
            return orders
        }
        var merged: [PlannedMessage] = []
        merged.reserveCapacity(orders.reduce(0) { $0 + $1.count })
        var heads = Array(repeating: 0, count: parts.count)
        while true {
            var best: Int?
            for part in parts.indices where heads[part] < orders[part].count {
                guard let chosen = best else {
                    best = part
                    continue
                }
                if precedes(parts[part][orders[part][heads[part]]], parts[chosen][orders[chosen][heads[chosen]]]) {
                    best = part
                }
            }
            guard let chosen = best else { return merged }
            merged.append(parts[chosen][orders[chosen][heads[chosen]]])
            heads[chosen] += 1
        }
    }

    /// Whether `x` comes before `y` in a plan (the messages are lent, not copied: a sort compares them a million
    /// times).
    static func precedes(_ x: borrowing PlannedMessage, _ y: borrowing PlannedMessage) -> Bool {
        if x.due != y.due { return x.due < y.due }
        if x.workflowID != y.workflowID { return x.workflowID < y.workflowID }
        if x.customerID != y.customerID { return x.customerID < y.customerID }
        if x.occurrence != y.occurrence { return x.occurrence < y.occurrence }
        return x.actionIndex < y.actionIndex
    }

    /// Policy: the first channel of the action that the customer can receive (consent and address, decided by
    /// `ChannelPolicy` alone), or suppressed with every channel's reason. Frequency caps and quiet hours go here.
    func policy(_ action: SendAction, index: Int, facts: CustomerFacts) -> PlannedMessage {
        let occurrence = facts.occurrence
        var message = PlannedMessage(
            workflowID: facts.workflow.id, customerID: occurrence.customer.id,
            occurrence: occurrence.key, actionIndex: index, channel: nil,
            template: action.template, due: occurrence.due, status: .suppressed, reason: nil, recipient: nil,
            rendered: nil, timeZone: facts.zone.identifier)
        var reasons: [String] = []
        for channel in action.channels {
            let platforms = project.config.channels[channel]?.platforms
            switch ChannelPolicy.recipient(on: channel, for: occurrence.customer, platforms: platforms) {
            case .success(let (recipient, platform)):
                message.channel = channel
                message.recipient = recipient
                message.platform = platform
                message.status = .send
                return message
            case .failure(let reason):
                reasons.append(action.channels.count > 1 ? "\(channel.rawValue): \(reason.text)" : reason.text)
            }
        }
        message.reason = reasons.joined(separator: "; ")
        return message
    }

    /// A holdout's one row of the plan: nothing is sent, and the customer's variant is recorded (`holdout`), so that
    /// analytics can compare the variants against those who got nothing.
    func holdout(_ variant: String, facts: CustomerFacts) -> PlannedMessage {
        let occurrence = facts.occurrence
        var message = PlannedMessage(
            workflowID: facts.workflow.id, customerID: occurrence.customer.id, occurrence: occurrence.key, actionIndex: 0,
            channel: nil, template: "", due: occurrence.due, status: .suppressed, reason: Self.holdoutReason, recipient: nil,
            rendered: nil, timeZone: facts.zone.identifier)
        message.variant = variant
        return message
    }

    /// The reason of a holdout's row.
    public static let holdoutReason = "holdout"

    /// Render: the message in full (`full`, as run and `dry-run --render` need it), else only what dry-run shows
    /// of it (an SMS's segment count).
    func render(_ message: inout PlannedMessage, facts: CustomerFacts, full: Bool, memo: RenderMemo? = nil) {
        guard let channel = message.channel,
            let template = project.templates[TemplateKey(name: message.template, channel: channel)]
        else { return }
        if full {
            message.rendered = render(template, on: channel, facts: facts, memo: memo)
            if channel == .sms, let body = message.rendered?.body { message.segments = SMSSegments(body) }
        } else if channel == .sms {
            let context = facts.renderContext
            message.segments = SMSSegments(memo.map { $0.body(of: template, context: context) } ?? template.render(context).body)
        }
    }
}

extension Planner {
    /// The fields of `occurrence` at `now`; `counts` are the customer's recent visit counts, in the order of
    /// `recentVisitWindows` (nil: no recent visits).
    func facts(
        for occurrence: Occurrence, of workflow: Workflow, now: Date, counts: [Int]?, book: SegmentBook?,
        history: CustomerHistory? = nil
    ) -> CustomerFacts {
        CustomerFacts(
            occurrence: occurrence, workflow: workflow, config: project.config, now: now, recentVisits: counts,
            segmentBook: book, history: history)
    }

    /// Renders `template` for the occurrence, with the plain-text alternative of an email when the project has one;
    /// with `memo`, bodies rendered before with the same values are taken from it.
    func render(_ template: MessageTemplate, on channel: Channel, facts: CustomerFacts, memo: RenderMemo? = nil)
        -> RenderedMessage
    {
        let context = context(for: channel, facts: facts)
        let heading = fixedHeadings[TemplateKey(name: template.name, channel: channel)]
        guard let memo else {
            var rendered = template.render(context, renderedHeading: heading)
            if channel == .email, let text = project.textTemplates[template.name] {
                rendered.text = text.render(context).body
            }
            return rendered
        }
        var rendered = template.render(context, renderedHeading: heading, memo: memo)
        if channel == .email, let text = project.textTemplates[template.name] {
            rendered.text = memo.body(of: text, context: context)
        }
        return rendered
    }

    /// The rendering context of a message on `channel`: the fields of §4, and `unsubscribe_url` in emails.
    func context(for channel: Channel, facts: CustomerFacts) -> LazyContext {
        let base = facts.renderContext
        guard channel == .email else { return base }
        // The link (an HMAC) is made only when the template shows it. The closure holds the links, not the planner
        // (a copy of the planner per message).
        let unsubscribe = self.unsubscribe
        return LazyContext { name in
            name == UnsubscribeLinks.variable
                ? unsubscribe?.url(customerID: facts.occurrence.customer.id) ?? "" : base.child(named: name)
        }
    }
}

/// How long each stage of a plan took, logged at debug level (`--verbose`): where a slow plan spends its time.
public struct StageClock {
    let logger: Logger
    private var last = ContinuousClock.now

    public init(logger: Logger) { self.logger = logger }

    /// Logs the time since the previous lap (or since the clock was made) as `stage`'s.
    public mutating func lap(_ stage: String) {
        let now = ContinuousClock.now
        guard logger.logLevel <= .debug else { return last = now }
        let elapsed = last.duration(to: now)
        last = now
        let milliseconds = Double(elapsed.components.seconds) * 1e3 + Double(elapsed.components.attoseconds) / 1e15
        logger.debug("stage done", metadata: ["stage": "\(stage)", "ms": "\((milliseconds * 10).rounded() / 10)"])
    }
}
