public import Foundation
import NudgeCore
public import NudgeLanguage
import NudgeStore

extension Planner {
    /// The follow-up steps of `workflow` that fall due in its window `(now − catch_up, now]`: for each step k ≥ 1 of
    /// its journeys (of each variant, with a split), the journeys whose step k − 1 is in the ledger (sent or
    /// suppressed), due at that step's due time plus the wait between them, keyed `KEY/k`. The ledger is the
    /// journey's state, so a run that was down catches up within `catch_up` as for any occurrence; the step's own
    /// `when` and `exit_when` are checked with the other conditions.
    func followUps(of workflow: Workflow, now: Date) async throws -> [Occurrence] {
        let journeys = workflow.journeys
        let deepest = journeys.map(\.steps.count).max() ?? 0
        guard deepest > 1 else { return [] }
        let start = now.addingTimeInterval(-Double(workflow.catchUp.seconds))
        var result: [Occurrence] = []
        for k in 1..<deepest {
            // By variant name ("" without a split: a variant has a name).
            var gaps: [String: Int] = [:]
            for journey in journeys where journey.steps.count > k {
                gaps[journey.variant ?? ""] = journey.steps[k].offset - journey.steps[k - 1].offset
            }
            guard let shortest = gaps.values.min(), let longest = gaps.values.max() else { continue }
            let rows = try await store.journeySteps(
                workflowID: workflow.id, step: k - 1, dueAfter: start.addingTimeInterval(-Double(longest)),
                dueThrough: now.addingTimeInterval(-Double(shortest)))
            for row in rows {
                let variant = workflow.split?.variant(
                    recorded: row.variant, workflowID: workflow.id, customerID: row.customer.id)
                guard let gap = gaps[variant?.name ?? ""] else { continue }
                let due = row.due.addingTimeInterval(Double(gap))
                guard start < due, due <= now else { continue }
                let base = k == 1 ? row.occurrence : String(Self.base(of: row.occurrence))
                var occurrence = Occurrence(
                    workflowID: workflow.id, customer: row.customer, key: "\(base)/\(k)", due: due,
                    zone: TriggerScan.zone(of: row.customer, config: project.config))
                occurrence.step = k
                occurrence.recordedVariant = row.variant
                occurrence.parameter = Self.parameter(ofKey: base, trigger: workflow.trigger)
                result.append(occurrence)
            }
        }
        try await attachOffers(to: &result, trigger: workflow.trigger)
        return result
    }

    /// A follow-up step's key without its `/k`.
    static func base(of key: String) -> Substring {
        key.lastIndex(of: "/").map { key[..<$0] } ?? key[...]
    }

    /// The trigger parameter an occurrence key carries: inactivity days (`inactivity:DATE:N`) or the milestone
    /// percent (`milestone:OFFER:R:P`).
    static func parameter(ofKey key: String, trigger: Trigger) -> Int? {
        switch trigger {
        case .inactivity, .milestone: return key.split(separator: ":").last.flatMap { Int($0) }
        default: return nil
        }
    }

    /// A follow-up step of a stamp-card or new-offer journey reads the card (as it is now) or the offer its key
    /// names.
    func attachOffers(to occurrences: inout [Occurrence], trigger: Trigger) async throws {
        guard !occurrences.isEmpty else { return }
        switch trigger {
        case .milestone, .reward:
            let cards = try await store.progress(customerIDs: Array(Set(occurrences.map(\.customer.id))))
            for index in occurrences.indices {
                // milestone:OFFER:R:P and reward:OFFER:N: the offer id is what lies between the kind and the numbers.
                var parts = Self.base(of: occurrences[index].key).split(separator: ":", omittingEmptySubsequences: false)
                guard parts.count >= 3 else { continue }
                parts.removeFirst()
                parts.removeLast(trigger.kind == .milestone ? 2 : 1)
                let offer = parts.joined(separator: ":")
                occurrences[index].progress = cards[occurrences[index].customer.id]?.first { $0.offerID == offer }
            }
        case .newOffer:
            let offers = try await store.publishedOffers(after: .distantPast, through: .distantFuture)
            for index in occurrences.indices {
                let base = Self.base(of: occurrences[index].key)
                occurrences[index].offer = offers.first { "new_offer:\($0.id)" == base }
            }
        default:
            break
        }
    }

    /// `check --db`'s warnings about journeys in flight: a template that a workflow's step k sent to journeys still
    /// in flight (within the journey's total wait and catch-up before `now`) that the workflow now sends as another
    /// step. Steps are numbered by the waits before them, so inserting or removing a step moves the later ones to
    /// other keys: those journeys would take the steps by their new numbers.
    public func renumberedSteps(now: Date) async throws -> [Diagnostic] {
        let horizons = project.workflows.map { workflow in
            Double((workflow.journeys.flatMap(\.steps).map(\.offset).max() ?? 0) + workflow.catchUp.seconds)
        }
        guard let longest = horizons.max() else { return [] }
        let sent = try await store.stepsSent(since: now.addingTimeInterval(-longest))
        var diagnostics: [Diagnostic] = []
        for (workflow, horizon) in zip(project.workflows, horizons) {
            var stepsByTemplate: [String: Set<Int>] = [:]
            var location: [String: SourceLocation] = [:]
            for step in workflow.journeys.flatMap(\.steps) {
                for action in step.actions.map({ workflow.actions[$0] }) {
                    stepsByTemplate[action.template, default: []].insert(step.index)
                    location[action.template] = location[action.template] ?? action.location
                }
            }
            for row in sent where row.workflowID == workflow.id && row.lastAt > now.addingTimeInterval(-horizon) {
                guard let steps = stepsByTemplate[row.template], !steps.contains(row.step), let at = location[row.template]
                else { continue }
                let moved = steps.sorted().map(String.init).joined(separator: " and ")
                diagnostics.append(
                    Diagnostic(
                        .warning,
                        "journeys in flight had template '\(row.template)' as step \(row.step) of '\(workflow.id)', which now sends it as step \(moved): they take the steps by their new numbers, so one may be skipped or sent again",
                        at: at, suggestion: "while journeys are in flight, keep the steps in order and add new ones at the end"))
            }
        }
        return diagnostics
    }
}
