public import Foundation
import NudgeCore
import NudgeLanguage
import NudgeStore

/// Why a customer gets, or does not get, each workflow's message at an instant (`nudge explain`).
public struct Explanation: Sendable {
    public var customerID: String
    public var customerName: String?
    public var now: Date
    /// The customer's zone (their own, else the business zone).
    public var zone: String
    public var workflows: [WorkflowExplanation]
}

/// One workflow's part of an explanation.
public struct WorkflowExplanation: Sendable {
    public var id: String
    public var name: String
    /// The trigger as written (`inactivity: { days: [30, 60, 90] }`).
    public var trigger: String
    public var catchUp: String
    public var isEnabled: Bool
    /// The trigger's occurrences for the customer near `now`: the latest due and the next, with journey steps.
    public var occurrences: [OccurrenceExplanation]
    /// Why there is no occurrence at all, when there is none (no birth date, no stamp card…).
    public var note: String?
    /// The policy that applies to the workflow's messages (caps with what they count now, quiet hours), or why none.
    public var policy: [String]
}

/// One occurrence: its window, the ledger, the conditions, the split, the channels and the plan's answer.
public struct OccurrenceExplanation: Sendable {
    public var key: String
    public var due: Date
    public var step: Int
    /// Whether `due ≤ now < due + catch_up`.
    public var isInWindow: Bool
    /// The window in words: "inside its window (until …)", "not due yet (in 3 days)", "too late: …".
    public var window: String
    /// Whether the ledger holds it (it is then never planned again).
    public var isInLedger: Bool
    public var conditions: [ConditionExplanation]
    /// The split's variant for the customer (a workflow with a split only).
    public var variant: String?
    public var channels: [ChannelExplanation]
    /// What the plan at `now` does with it: "send by email to …", "suppressed: REASON" (dry-run's words), or why it
    /// is not planned.
    public var result: String
    /// `send` or `suppressed` when the plan holds it, else nil.
    public var status: String?
}

/// A `when`, `exit_when` or step condition with its value and the values of the fields it read.
public struct ConditionExplanation: Sendable {
    /// `when`, `exit_when` or `step when`.
    public var kind: String
    public var text: String
    public var holds: Bool
    public var value: String
    public var fields: [(name: String, value: String)]
}

/// One channel of a send action: whether the customer can receive it, and the address or why not.
public struct ChannelExplanation: Sendable {
    public var action: Int
    public var channel: String
    public var receives: Bool
    /// The address, or the reason (consent, address).
    public var detail: String
    /// Whether the plan picks this channel for the action (the first the customer can receive).
    public var isChosen: Bool
}

extension Planner {
    /// Explains, for the customer `customerID`, each workflow (those in `workflowIDs`, else all) at `now`. Returns nil
    /// when there is no such customer.
    public func explain(customerID: String, workflowIDs: Set<String>?, now: Date) async throws -> Explanation? {
        guard let customer = try await store.customer(id: customerID) else { return nil }
        let workflows = project.workflows.filter { workflowIDs?.contains($0.id) ?? true }
        let zone = TriggerScan.zone(of: customer, config: project.config)
        // The plan's own answer, in dry-run's words.
        let plan = try await plan(now: now, workflowIDs: Set(workflows.filter(\.isEnabled).map(\.id)), render: false)
        let planned = plan.messages.filter { $0.customerID == customerID }
        let counts = try await recentVisitCounts(customerIDs: [customerID], now: now)[customerID]
        let counted = try await store.capCounted(
            customerIDs: [customerID],
            after: now.addingTimeInterval(-Double(project.config.policy.caps.map(\.per.seconds).max() ?? 0)))[customerID] ?? []

        var result: [WorkflowExplanation] = []
        for workflow in workflows {
            var part = WorkflowExplanation(
                id: workflow.id, name: workflow.name, trigger: workflow.trigger.summary, catchUp: workflow.catchUp.text,
                isEnabled: workflow.isEnabled, occurrences: [], note: nil,
                policy: policyLines(workflow, counted: counted, now: now, zone: zone))
            let segments = try await self.segments(for: [workflow], now: now, record: false)
            var (occurrences, note) = try await nearby(workflow, customer: customer, zone: zone, now: now, segments: segments)
            occurrences += try await followUps(of: workflow, now: now).filter { $0.customer.id == customerID }
            try await attachOffers(to: &occurrences, trigger: workflow.trigger)
            part.note = occurrences.isEmpty ? note : nil
            var ignored = Plan(now: now, messages: [], candidates: 0, alreadySent: 0, filteredOut: 0, workflowIDs: [])
            let histories = try await histories(for: [(workflow, occurrences)], book: segments.book, now: now, plan: &ignored)
            let sent = try await store.ledgerHits(occurrences.map(\.ledgerKey))
            for occurrence in occurrences.sorted(by: { ($0.due, $0.key) < ($1.due, $1.key) }) {
                let facts = facts(
                    for: occurrence, of: workflow, now: now, counts: counts, book: segments.book, history: histories[customerID])
                part.occurrences.append(
                    explain(
                        occurrence, of: workflow, facts: facts, now: now,
                        isInLedger: sent.contains(occurrence.ledgerKey),
                        planned: planned.filter { $0.workflowID == workflow.id && $0.occurrence == occurrence.key }))
            }
            result.append(part)
        }
        return Explanation(
            customerID: customerID, customerName: customer.name, now: now, zone: zone.identifier, workflows: result)
    }

    private func explain(
        _ occurrence: Occurrence, of workflow: Workflow, facts: CustomerFacts, now: Date, isInLedger: Bool,
        planned: [PlannedMessage]
    ) -> OccurrenceExplanation {
        let catchUp = Double(workflow.catchUp.seconds)
        let isInWindow = occurrence.due <= now && now.addingTimeInterval(-catchUp) < occurrence.due
        let window: String
        if occurrence.due > now {
            window = "not due yet (in \(Self.span(occurrence.due.timeIntervalSince(now))))"
        } else if isInWindow {
            window = "inside its window (catch_up \(workflow.catchUp.text): until \(ISO8601.format(occurrence.due.addingTimeInterval(catchUp), in: facts.zone)))"
        } else {
            window = "too late: its window (catch_up \(workflow.catchUp.text)) closed at \(ISO8601.format(occurrence.due.addingTimeInterval(catchUp), in: facts.zone))"
        }
        var conditions: [ConditionExplanation] = []
        func add(_ kind: String, _ condition: Condition) {
            conditions.append(
                ConditionExplanation(
                    kind: kind, text: condition.text, holds: condition.holds(for: facts),
                    value: Self.show(condition.value(for: facts)),
                    fields: condition.fields.map { ($0.description, Self.show(facts.value(of: $0))) }.sorted { $0.name < $1.name }))
        }
        if occurrence.step == 0 { workflow.conditions.forEach { add("when", $0) } }
        workflow.exitConditions.forEach { add("exit_when", $0) }
        let variant = workflow.split?.variant(
            recorded: occurrence.recordedVariant, workflowID: workflow.id, customerID: occurrence.customer.id)
        var channels: [ChannelExplanation] = []
        if variant?.isHoldout != true, let step = workflow.steps(of: variant).first(where: { $0.index == occurrence.step }) {
            step.conditions.forEach { add("step when", $0) }
            for index in step.actions {
                var chosen = false
                for channel in workflow.actions[index].channels {
                    let platforms = project.config.channels[channel]?.platforms
                    switch ChannelPolicy.recipient(on: channel, for: occurrence.customer, platforms: platforms) {
                    case .success(let (recipient, _)):
                        channels.append(
                            ChannelExplanation(action: index, channel: channel.rawValue, receives: true, detail: recipient, isChosen: !chosen))
                        chosen = true
                    case .failure(let reason):
                        channels.append(
                            ChannelExplanation(action: index, channel: channel.rawValue, receives: false, detail: reason.text, isChosen: false))
                    }
                }
            }
        }

        // The answer: the plan's rows for it, else why it is not planned.
        var status: String?
        let result: String
        if !planned.isEmpty {
            status = planned.contains { $0.status == .send } ? "send" : "suppressed"
            result = planned.map { message in
                guard message.status == .send, let channel = message.channel else {
                    return "suppressed: \(message.reason ?? "")"
                }
                var text = "send by \(channel.rawValue)" + (message.recipient.map { " to \($0)" } ?? "")
                if let after = message.sendAfter {
                    text += " after \(ISO8601.format(after, in: facts.zone))" + (message.reason.map { " (\($0))" } ?? "")
                }
                return text
            }.joined(separator: "; ")
        } else if isInLedger {
            result = "not planned: already in the ledger (an occurrence fires once)"
        } else if !isInWindow {
            result = "not planned: " + (occurrence.due > now ? "not due yet" : "its window has closed")
        } else if !workflow.isEnabled {
            result = "not planned: the workflow is paused (enabled: false)"
        } else if let failed = conditions.first(where: { $0.kind != "exit_when" && !$0.holds }) {
            result = "not planned: filtered out by \(failed.kind) (\(failed.text) is \(failed.value))"
        } else if let exit = conditions.first(where: { $0.kind == "exit_when" && $0.holds }) {
            result = "not planned: exit_when holds (\(exit.text))"
        } else {
            result = "not planned"
        }
        return OccurrenceExplanation(
            key: occurrence.key, due: occurrence.due, step: occurrence.step, isInWindow: isInWindow, window: window,
            isInLedger: isInLedger, conditions: conditions, variant: variant?.name, channels: channels, result: result,
            status: status)
    }

    /// The trigger's occurrences for `customer` near `now`: for each key the trigger can give them, the latest due
    /// at or before `now` and the next after it (journey steps come from the ledger, as the plan finds them).
    private func nearby(
        _ workflow: Workflow, customer: CustomerState, zone: TimeZone, now: Date, segments stage: SegmentStage
    ) async throws -> ([Occurrence], String?) {
        let sendAt = (workflow.sendAt ?? project.config.sendAt).secondsIntoDay
        func occurrence(_ key: String, _ due: Date, parameter: Int? = nil) -> Occurrence {
            Occurrence(workflowID: workflow.id, customer: customer, key: key, due: due, zone: zone, parameter: parameter)
        }
        /// The last of `items` due at or before `now`, and the first after.
        func around(_ items: [Occurrence]) -> [Occurrence] {
            let sorted = items.sorted { $0.due < $1.due }
            return [sorted.last { $0.due <= now }, sorted.first { $0.due > now }].compactMap { $0 }
        }
        switch workflow.trigger {
        case .birthday(let daysBefore):
            guard let monthDay = customer.birthMonthDay else { return ([], "no birth date") }
            let month = Int(monthDay.prefix(2)) ?? 0
            let day = Int(monthDay.suffix(2)) ?? 0
            let year = zone.localDate(of: now).year
            return (
                around(
                    (year - 1...year + 1).map { year in
                        var birthday = LocalDate(year: year, month: month, day: day)
                        if month == 2, day == 29, !LocalDate.isLeapYear(year) { birthday.day = 28 }
                        return occurrence(
                            "birthday:\(year)", zone.instant(at: birthday.adding(days: -daysBefore), secondsIntoDay: sendAt))
                    }), nil)
        case .inactivity(let days):
            let last = zone.localDate(of: customer.lastActivityAt)
            return (
                days.map { occurrence("inactivity:\(last):\($0)", zone.instant(at: last.adding(days: $0), secondsIntoDay: sendAt), parameter: $0) },
                nil)
        case .signup(let daysAfter):
            return ([occurrence("signup", customer.signedUpAt.addingTimeInterval(Double(daysAfter) * 86_400))], nil)
        case .milestone(let offer, let percents):
            let cards = try await store.progress(customerID: customer.id, offer: offer)
            guard !cards.isEmpty else { return ([], "no stamp card" + (offer.map { " of offer '\($0)'" } ?? "")) }
            var found: [Occurrence] = []
            for card in cards {
                guard let reached = percents.filter({ Double($0) <= card.percent }).max() else { continue }
                var item = occurrence("milestone:\(card.offerID):\(card.rewardsEarned):\(reached)", card.updatedAt, parameter: reached)
                item.progress = card
                found.append(item)
            }
            return (
                found,
                "no card has reached \(percents.min() ?? 0)% (" + cards.map { "\($0.offerID): \(Value.format($0.percent))%" }.joined(separator: ", ") + ")")
        case .reward(let offer):
            let cards = try await store.progress(customerID: customer.id, offer: offer).filter { $0.rewardsEarned >= 1 }
            return (
                cards.map {
                    var item = occurrence("reward:\($0.offerID):\($0.rewardsEarned)", $0.updatedAt)
                    item.progress = $0
                    return item
                }, "no reward earned yet")
        case .visit(let delay):
            let visits = try await store.visits(customerIDs: [customer.id]).sorted { $0.visitedAt < $1.visitedAt }
            return (
                around(visits.map { occurrence("visit:\(ISO8601.format($0.visitedAt))", $0.visitedAt.addingTimeInterval(Double(delay))) }),
                "no visit recorded")
        case .once:
            guard let due = workflow.trigger.onceInstant(in: project.config.timeZone) else { return ([], nil) }
            return ([occurrence("once", due)], nil)
        case .schedule(let cron):
            let times = cron.times(in: project.config.timeZone, after: now.addingTimeInterval(-35 * 86_400), through: now.addingTimeInterval(35 * 86_400))
            return (around(times.map { occurrence("schedule:\($0.local)", $0.due) }), "no time of the schedule within 35 days")
        case .newOffer:
            let offers = try await store.publishedOffers(after: now.addingTimeInterval(-35 * 86_400), through: now.addingTimeInterval(35 * 86_400))
            return (
                offers.compactMap { offer in
                    offer.publishedAt.map {
                        var item = occurrence("new_offer:\(offer.id)", $0)
                        item.offer = offer
                        return item
                    }
                }, "no offer published within 35 days")
        case .segment(let name):
            let scan = TriggerScan(workflow: workflow, config: project.config, now: now, zones: [])
            let entries = (stage.entries[name] ?? []).filter { $0.customer.id == customer.id }
            return (
                entries.map { occurrence("segment:\(name):\($0.enteredOn)", $0.zone.instant(at: $0.enteredOn, secondsIntoDay: scan.sendAtSeconds)) },
                "not in segment '\(name)' now")
        }
    }

    /// The policy for the workflow's messages: the caps with what they count before `now`, and quiet hours.
    private func policyLines(_ workflow: Workflow, counted: [CountedMessage], now: Date, zone: TimeZone) -> [String] {
        let policy = project.config.policy
        guard !policy.isEmpty else { return [] }
        guard workflow.category == .marketing else { return ["exempt from caps and quiet hours (category: \(workflow.category.rawValue))"] }
        var lines = policy.caps.map { cap in
            let since = now.addingTimeInterval(-Double(cap.per.seconds))
            let count = counted.count { $0.at > since && $0.at <= now && (cap.channel == nil || $0.channel == cap.channel?.rawValue) }
            return "cap \(cap): \(count) counted now"
        }
        if let quiet = policy.quietHours {
            let local = zone.localDate(of: now)
            let seconds = Int(now.timeIntervalSince(zone.startOfDay(local)))
            lines.append(
                "quiet hours \(quiet.from)–\(quiet.to) (\(zone.identifier)): now is "
                    + (quiet.contains(secondsIntoDay: seconds) ? "inside them" : "outside them"))
        }
        return lines
    }

    static func show(_ value: Value) -> String {
        switch value {
        case .null: return "null"
        case .string(let text): return "\"\(text)\""
        case .list(let items): return "[" + items.map(show).joined(separator: ", ") + "]"
        default: return value.description
        }
    }

    /// "3 days 4 h", "5 h", "20 min".
    static func span(_ seconds: TimeInterval) -> String {
        if seconds >= 2 * 86_400 {
            let hours = Int(seconds.truncatingRemainder(dividingBy: 86_400) / 3_600)
            return "\(Int(seconds / 86_400)) days" + (hours > 0 ? " \(hours) h" : "")
        }
        if seconds >= 3_600 { return "\(Int(seconds / 3_600)) h" }
        return "\(max(1, Int(seconds / 60))) min"
    }
}
