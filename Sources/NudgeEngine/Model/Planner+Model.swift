import Foundation
import Logging
import NudgeCore
import NudgeLanguage
import NudgeStore

extension Planner {
    /// The customer model's fields as `Field`s.
    static let modelFields = Set(Field.CustomerField.modelFields.map(Field.customer))

    /// Whether the workflow reads a field of the customer model, itself or through the segments it reads.
    func readsModel(_ workflow: Workflow, book: SegmentBook?) -> Bool {
        if readsAnyField(workflow, Self.modelFields) { return true }
        guard let book, readsField(workflow, .customer(.segments)) else { return false }
        return book.segments.contains { !$0.fieldsRead.isDisjoint(with: Self.modelFields) }
    }

    /// Model: what the stored fit says of the customers of the workflows that read it (their visits read in one
    /// batch); none, with a note on the plan, before the first fit.
    func predictions(
        for fresh: [(Workflow, [Occurrence])], book: SegmentBook?, now: Date, plan: inout Plan
    ) async throws -> [String: CustomerModel.Prediction] {
        let readers = fresh.filter { readsModel($0.0, book: book) }
        guard !readers.isEmpty else { return [:] }
        guard let model = try await customerModel() else {
            plan.notes.append("no customer model fitted yet: the model's fields are null (run 'nudge model fit')")
            return [:]
        }
        var zones: [String: TimeZone] = [:]
        for (_, occurrences) in readers {
            for occurrence in occurrences { zones[occurrence.customer.id] = occurrence.zone }
        }
        return try await Self.predictions(model: model, zones: zones, store: store, now: now)
    }

    /// The stored fit, ready to use, if any.
    func customerModel() async throws -> CustomerModel? {
        try await store.latestModelFit().map { CustomerModel(fit: $0, intelligence: project.config.intelligence) }
    }

    /// Predictions for the customers of `zones` (id → zone) with visits.
    static func predictions(
        model: CustomerModel, zones: [String: TimeZone], store: any PlanningStore, now: Date
    ) async throws -> [String: CustomerModel.Prediction] {
        var result: [String: CustomerModel.Prediction] = [:]
        let ids = zones.keys.sorted()
        for start in stride(from: 0, to: ids.count, by: 10_000) {
            let visits = try await store.visits(customerIDs: Array(ids[start..<min(start + 10_000, ids.count)]))
            var index = visits.startIndex
            while index < visits.endIndex {
                let id = visits[index].customerID
                let first = index
                while index < visits.endIndex, visits[index].customerID == id { index += 1 }
                if let zone = zones[id], let summary = CustomerModel.summary(of: visits[first..<index], zone: zone, now: now) {
                    result[id] = model.predict(summary)
                }
            }
        }
        return result
    }
}
