import Foundation
import Logging
import NudgeCore
import NudgeLanguage
import NudgeStore

extension Planner {
    /// The customer model's fields as `Field`s.
    static let modelFields = Set(Field.CustomerField.modelFields.map(Field.customer))

    /// The fields that read the visit history (`lifecycle`) or the model (its fields and `status`).
    static let historyFields = modelFields.union([.customer(.status), .customer(.lifecycle)]).union(engagementFields)

    /// Whether the workflow reads a field of `fields`, itself or through the segments it reads.
    func reads(_ fields: Set<Field>, _ workflow: Workflow, book: SegmentBook?) -> Bool {
        if readsAnyField(workflow, fields) { return true }
        guard let book, readsSegments(workflow) else { return false }
        return book.segments.contains { !$0.fieldsRead.isDisjoint(with: fields) }
    }

    /// Histories: what the visits (one batch for all) and the stored fit say of the customers of the workflows that
    /// read the model's fields, `status` or `lifecycle`; with a note on the plan before the first fit.
    func histories(
        for fresh: [(Workflow, [Occurrence])], book: SegmentBook?, now: Date, plan: inout Plan
    ) async throws -> [String: CustomerHistory] {
        let readers = fresh.filter { reads(Self.historyFields, $0.0, book: book) }
        guard !readers.isEmpty else { return [:] }
        // The segment book read the fit already when a segment reads the model.
        var model = book?.model
        if model == nil { model = try await customerModel() }
        let modelFields = Self.modelFields.union([.customer(.status)])
        if model == nil, readers.contains(where: { reads(modelFields, $0.0, book: book) }) {
            plan.notes.append("no customer model fitted yet: the model's fields are null (run 'nudge model fit')")
        }
        var zones: [String: TimeZone] = [:]
        for (_, occurrences) in readers {
            for occurrence in occurrences { zones[occurrence.customer.id] = occurrence.zone }
        }
        var histories = try await Self.histories(model: model, zones: zones, store: store, now: now)
        // The messages and stamp cards of the customers of the workflows that read the engagement score or the
        // next action, in one batch each.
        let engaged = readers.filter { readsAnyField($0.0, Self.engagementFields) }
        let ids = Array(Set(engaged.flatMap { $0.1.map(\.customer.id) }))
        try await CustomerHistory.addMessagesAndCards(to: &histories, of: ids, store: store, now: now)
        return histories
    }

    /// The stored fit, ready to use, if any.
    func customerModel() async throws -> CustomerModel? {
        try await store.latestModelFit().map { CustomerModel(fit: $0, intelligence: project.config.intelligence) }
    }

    /// The histories of the customers of `zones` (id → zone) with visits.
    static func histories(
        model: CustomerModel?, zones: [String: TimeZone], store: any PlanningStore, now: Date
    ) async throws -> [String: CustomerHistory] {
        var result: [String: CustomerHistory] = [:]
        let ids = zones.keys.sorted()
        for start in stride(from: 0, to: ids.count, by: 10_000) {
            let visits = try await store.visits(customerIDs: Array(ids[start..<min(start + 10_000, ids.count)]))
            var index = visits.startIndex
            while index < visits.endIndex {
                let id = visits[index].customerID
                let first = index
                while index < visits.endIndex, visits[index].customerID == id { index += 1 }
                if let zone = zones[id] {
                    let summary = CustomerModel.summary(of: visits[first..<index], zone: zone, now: now)
                    result[id] = CustomerHistory(summary: summary, model: model)
                }
            }
        }
        return result
    }
}
