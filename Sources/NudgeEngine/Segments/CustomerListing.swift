public import Foundation
public import NudgeCore
public import NudgeLanguage
public import NudgeStore

/// Every customer with every field, a page at a time: `nudge customers list` and `nudge export customers`.
public struct CustomerListing: Sendable {
    public let project: Project
    public let store: any Store
    public let now: Date

    public init(project: Project, store: any Store, now: Date) {
        self.project = project
        self.store = store
        self.now = now
    }

    /// Which customers: in a segment, of a status, matching a text in id, name, email or phone (case-insensitive).
    public struct Filter: Sendable {
        public var segment: String?
        public var status: String?
        public var search: String?

        public init(segment: String? = nil, status: String? = nil, search: String? = nil) {
            self.segment = segment
            self.status = status
            self.search = search
        }
    }

    /// Calls `body` for each customer `filter` keeps, in id order, with the values of `fields`.
    public func forEach(
        fields: [Field], filter: Filter, _ body: (CustomerState, [Value]) throws -> Void
    ) async throws {
        let config = project.config
        let customerFields = Set(fields).union(filter.status == nil ? [] : [.customer(.status)])
        let needsSegments = filter.segment != nil || !customerFields.isDisjoint(
            with: [.customer(.segments), .customer(.status), .customer(.lifecycle), .customer(.next_action)])
        var ranks = needsSegments ? SegmentBook.ranks(segments: config.segments, conditions: []) : []
        if customerFields.contains(.customer(.engagement_score)) {
            ranks.insert(RankKey(field: .customer(.lifetime_value), isPositiveOnly: true))
        }
        let book = try await SegmentBook.load(segments: config.segments, ranks: ranks, store: store, config: config, now: now)
        let modelFields = Planner.modelFields.union([.customer(.status), .customer(.next_action)])
        let model =
            customerFields.isDisjoint(with: modelFields)
            ? nil : try await store.latestModelFit().map { CustomerModel(fit: $0, intelligence: config.intelligence) }
        // Recent visits for the fields that show them, the engagement score, and the segments (which may read them).
        let readsRecentVisits =
            needsSegments || SegmentBook.needsRecentVisits(customerFields)
            || customerFields.contains(.customer(.engagement_score))
        var sweep = CustomerSweep(
            store: store, config: config, now: now, readsRecentVisits: readsRecentVisits, model: model)
        sweep.readsHistory = !customerFields.isDisjoint(
            with: [.customer(.lifecycle), .customer(.engagement_score), .customer(.next_action)])
        if let search = filter.search?.lowercased() {
            // Before anything else is read of a page's customers.
            sweep.keep = { customer in
                [customer.id, customer.name, customer.email, customer.phone].contains { $0?.lowercased().contains(search) == true }
            }
        }
        let scope = FactsScope(workflow: .none(), config: config)
        try await sweep.forEach { view in
            let customer = view.customer
            let facts = CustomerFacts(
                occurrence: Occurrence(workflowID: "", customer: customer, key: "", due: now, zone: view.zone),
                scope: scope, now: now, recentVisits: view.recentVisits,
                segmentBook: needsSegments || !ranks.isEmpty ? book : nil, history: view.history)
            if let segment = filter.segment, !facts.segmentNames.contains(segment) { return }
            if let status = filter.status, facts.status != status { return }
            try body(customer, fields.map { facts.value(of: $0) })
        }
    }
}
