import Foundation
import Logging
import NudgeLanguage
import NudgeRender
import NudgeStore
import NudgeCore

/// A member of a watched segment, with the local date a run first saw them in it.
struct SegmentEntry: Sendable {
    var customer: CustomerState
    var enteredOn: LocalDate
    var zone: TimeZone
}

/// What the segment stage gives the rest of the plan.
struct SegmentStage: Sendable {
    /// The segments, when a condition or template reads `customer.segments` or `percent_rank(…)`, or a trigger
    /// watches a segment.
    var book: SegmentBook?
    /// The members of each segment a `segment: { enter: }` trigger of the plan watches.
    var entries: [String: [SegmentEntry]] = [:]
}

extension Planner {
    /// Segments: the project's segment book, when the plan's workflows read segments or ranks, and the members of
    /// the segments their triggers watch (one sweep of the customers), with the date each entered: the recorded
    /// one, else the local date of `now`. With `record` (a run), the members are recorded, so that a later run
    /// knows since when; those who left are forgotten, and enter anew when they come back.
    func segments(for workflows: [Workflow], now: Date, record: Bool) async throws -> SegmentStage {
        let watched = Set(workflows.compactMap(\.trigger.enteredSegment))
        let readsSegments = workflows.contains(where: readsSegments)
        var ranks = SegmentBook.ranks(
            segments: readsSegments || !watched.isEmpty ? project.config.segments : [],
            conditions: workflows.flatMap(\.conditions))
        // The engagement score's spend part is a rank of lifetime value.
        if workflows.contains(where: { readsAnyField($0, Self.engagementFields) }) {
            ranks.insert(RankKey(field: .customer(.lifetime_value), isPositiveOnly: true))
        }
        guard readsSegments || !watched.isEmpty || !ranks.isEmpty else { return SegmentStage() }
        let book = try await SegmentBook.load(
            segments: project.config.segments, ranks: ranks, store: store, config: project.config, now: now)
        var stage = SegmentStage(book: book)
        guard !watched.isEmpty else { return stage }
        let members = try await book.members(of: watched, store: store, config: project.config, now: now)
        for name in watched.sorted() {
            let recorded = try await store.segmentEntries(segment: name)
            var entries: [SegmentEntry] = []
            var dates: [String: String] = [:]
            for customer in members[name] ?? [] {
                let zone = TriggerScan.zone(of: customer, config: project.config)
                let date = recorded[customer.id].flatMap(LocalDate.init(parsing:)) ?? zone.localDate(of: now)
                entries.append(SegmentEntry(customer: customer, enteredOn: date, zone: zone))
                dates[customer.id] = "\(date)"
            }
            if record, dates != recorded { try await store.recordSegmentEntries(segment: name, entries: dates) }
            stage.entries[name] = entries
            logger.debug("segment swept", metadata: ["segment": "\(name)", "members": "\(entries.count)"])
        }
        return stage
    }

    /// Whether the workflow reads the segments: `customer.segments`, or `status`, `lifecycle` and `next_action`
    /// (which read vip).
    func readsSegments(_ workflow: Workflow) -> Bool {
        readsAnyField(workflow, [.customer(.segments), .customer(.status), .customer(.lifecycle), .customer(.next_action)])
    }

    /// The fields that read the messages a customer was sent.
    static let engagementFields: Set<Field> = [.customer(.engagement_score), .customer(.next_action)]

    /// Whether the workflow's conditions or any of its templates read `field` (a template variable is matched by
    /// its last name, so one read inside a `{{#customer}}` section counts too).
    func readsField(_ workflow: Workflow, _ field: Field) -> Bool {
        readsAnyField(workflow, [field])
    }

    /// Whether the workflow's conditions or any of its templates read one of `fields`.
    func readsAnyField(_ workflow: Workflow, _ fields: Set<Field>) -> Bool {
        if !workflow.fieldsRead.isDisjoint(with: fields) { return true }
        let names = Set(fields.map { Substring($0.description.split(separator: ".").last ?? "") })
        for action in workflow.actions {
            var templates = action.channels.compactMap { project.templates[TemplateKey(name: action.template, channel: $0)] }
            if let text = project.textTemplates[action.template] { templates.append(text) }
            for template in templates
            where template.variables.contains(where: { names.contains($0.name.split(separator: ".").last ?? "") }) {
                return true
            }
        }
        return false
    }
}

extension TriggerScan {
    /// The members of the watched segment whose entry date's send_at falls inside the window.
    func segmentEntries(_ name: String, entries: [SegmentEntry]) -> [Occurrence] {
        var result: [Occurrence] = []
        for entry in entries {
            let due = entry.zone.instant(at: entry.enteredOn, secondsIntoDay: sendAtSeconds)
            guard isInWindow(due) else { continue }
            result.append(
                Occurrence(
                    workflowID: workflow.id, customer: entry.customer, key: "segment:\(name):\(entry.enteredOn)", due: due,
                    zone: entry.zone))
        }
        return result
    }
}
