import Foundation
public import NudgeLanguage
import NudgeStore
import NudgeCore

/// A project's segments ready to evaluate at one instant: in an order where each follows the segments it tests,
/// with the populations their `percent_rank(…)` reads (and those of the workflows' conditions).
public struct SegmentBook: Sendable {
    /// The segments, in the order `nudge segments` lists them.
    public let segments: [Segment]
    /// Indices of `segments`, each after the segments it tests.
    let order: [Int]
    /// Each `percent_rank(…)` population, sorted ascending.
    let populations: [RankKey: [Double]]
    /// The stored fit of the customer model, when a segment reads one of its fields.
    let model: CustomerModel?

    init(segments: [Segment], populations: [RankKey: [Double]], model: CustomerModel? = nil) {
        self.segments = segments
        // A project with a cycle does not load, so the order always exists.
        self.order = (try? Segment.evaluationOrder(segments).get()) ?? Array(segments.indices)
        self.populations = populations
        self.model = model
    }

    /// The model, when `fields` include one of its.
    func model(for fields: Set<Field>) -> CustomerModel? {
        fields.isDisjoint(with: Planner.modelFields) ? nil : model
    }

    /// The indices of `names` and of every segment they test, in evaluation order.
    func closure(of names: Set<String>) -> [Int] {
        var needed = Set<String>()
        var pending = Array(names)
        while let name = pending.popLast() {
            guard needed.insert(name).inserted, let segment = segments.first(where: { $0.name == name }) else { continue }
            pending.append(contentsOf: segment.dependencies)
        }
        return order.filter { needed.contains(segments[$0].name) }
    }

    /// The names of the segments the customer is in, in listing order (of `among` only, when given: indices from
    /// `closure(of:)`).
    func segments(of view: CustomerView, among: [Int]? = nil) -> [String] {
        let source = SegmentSource(view: view, book: self)
        var isMember = [Bool](repeating: false, count: segments.count)
        for index in among ?? order where segments[index].conditions.allSatisfy({ $0.holds(for: source) }) {
            isMember[index] = true
            source.members.append(segments[index].name)
        }
        return segments.indices.filter { isMember[$0] }.map { segments[$0].name }
    }

    /// `percent_rank(…)` of `value` in its population.
    func percentRank(_ rank: RankKey, of value: Value) -> Value {
        rank.rank(of: value, in: populations[rank] ?? [])
    }

    /// The percent-rank populations that `segments` (all of them) and `conditions` read.
    static func ranks(segments: [Segment], conditions: [Condition]) -> Set<RankKey> {
        segments.reduce(into: Set<RankKey>()) { $0.formUnion($1.ranks) }
            .union(conditions.reduce(into: Set<RankKey>()) { $0.formUnion($1.ranks) })
    }

    /// Whether computing `fields` for a customer needs the recent visit counts.
    static func needsRecentVisits(_ fields: Set<Field>) -> Bool {
        fields.contains(.customer(.visits_30d)) || fields.contains(.customer(.visits_90d))
    }

    /// A book for `segments` at `now`, its populations `ranks` read in one sweep of the customers.
    static func load(
        segments: [Segment], ranks: Set<RankKey>, store: any PlanningStore, config: ProjectConfig, now: Date
    ) async throws -> SegmentBook {
        let readsModel = segments.contains { !$0.fieldsRead.isDisjoint(with: Planner.modelFields) }
            || ranks.contains { Planner.modelFields.contains($0.field) }
        let model = try await readsModel
            ? store.latestModelFit().map { CustomerModel(fit: $0, intelligence: config.intelligence) } : nil
        var values = [RankKey: [Double]]()
        // Fields every customer row stores are read as one column; the others need every customer's facts.
        var swept = Set<RankKey>()
        for rank in ranks {
            let (column, scale): (StoredNumber?, Double) =
                switch rank.field {
                case .customer(.lifetime_value): (.lifetimeValueCents, 100)
                case .customer(.visits_total): (.visitsTotal, 1)
                default: (nil, 1)
                }
            guard let column else {
                swept.insert(rank)
                continue
            }
            values[rank] = try await store.storedNumbers(column).compactMap { rank.member(.number(Double($0) / scale)) }
        }
        if !swept.isEmpty {
            for rank in swept { values[rank] = [] }
            let fields = Set(swept.map(\.field))
            let sweep = CustomerSweep(
                store: store, config: config, now: now, readsRecentVisits: needsRecentVisits(fields),
                model: fields.isDisjoint(with: Planner.modelFields) ? nil : model)
            try await sweep.forEach { view in
                for rank in swept {
                    if let number = rank.member(view.value(of: rank.field)) { values[rank]!.append(number) }
                }
            }
        }
        for rank in ranks { values[rank]!.sort() }
        return SegmentBook(segments: segments, populations: values, model: model)
    }

    /// The members of the segments named `names` at `now` (one sweep of every customer): for each name, its
    /// customers in id order.
    func members(
        of names: Set<String>, store: any PlanningStore, config: ProjectConfig, now: Date
    ) async throws -> [String: [CustomerState]] {
        var result = [String: [CustomerState]](uniqueKeysWithValues: names.map { ($0, []) })
        try await sweep(names, store: store, config: config, now: now) { view, found in
            for name in found where names.contains(name) { result[name]!.append(view.customer) }
        }
        return result
    }

    /// Calls `body` for every customer, in id order, with the segments among `names` (and those they test) that
    /// the customer is in.
    func sweep(
        _ names: Set<String>, store: any PlanningStore, config: ProjectConfig, now: Date,
        _ body: (CustomerView, [String]) throws -> Void
    ) async throws {
        let among = closure(of: names)
        let fields = among.reduce(into: Set<Field>()) { $0.formUnion(segments[$1].fieldsRead) }
        let sweep = CustomerSweep(
            store: store, config: config, now: now, readsRecentVisits: Self.needsRecentVisits(fields), model: model(for: fields))
        try await sweep.forEach { view in try body(view, segments(of: view, among: among)) }
    }
}

/// What a segment's conditions read: the customer's fields and the segments found so far.
///
/// A class: conditions take their source as `any FieldSource`, and a struct this size would be boxed (allocated and
/// copied) for every condition of every customer of a sweep.
final class SegmentSource: FieldSource {
    let view: CustomerView
    let book: SegmentBook
    /// The segments the customer is in among those evaluated already.
    var members: [String] = []

    init(view: CustomerView, book: SegmentBook) {
        self.view = view
        self.book = book
    }

    var now: Date { view.now }
    var zone: TimeZone { view.zone }

    func value(of field: Field) -> Value {
        field == .customer(.segments) ? .list(members.map(Value.string)) : view.value(of: field)
    }

    func percentRank(_ rank: RankKey, of value: Value) -> Value {
        book.percentRank(rank, of: value)
    }
}

/// Reads every customer once, a page at a time in id order, with what their fields need.
struct CustomerSweep {
    let store: any PlanningStore
    let config: ProjectConfig
    let now: Date
    /// Whether `visits_30d`/`visits_90d` are read (one grouped query over the recent visits, before the pages).
    let readsRecentVisits: Bool
    /// The customer model, when its fields are read (each page's visits are read with the page).
    var model: CustomerModel? = nil
    /// Whether each page's visits (transactions), messages and stamp cards are read too, whatever the model: for
    /// `lifecycle`, `engagement_score` and `next_action`.
    var readsHistory = false

    /// Customers to leave out before their visits, messages and stamp cards are read (a search): only the
    /// customers kept are passed on.
    var keep: (@Sendable (CustomerState) -> Bool)? = nil

    /// Customers per page: one query each, in primary-key order.
    static let pageSize = 5_000

    func forEach(_ body: (CustomerView) throws -> Void) async throws {
        let windows = Planner.recentVisitWindows
        let counts =
            readsRecentVisits
            ? try await store.visitCounts(since: windows.map { now.addingTimeInterval(-Double($0) * 86_400) }) : [:]
        var after: String?
        while true {
            let all = try await store.customerPage(after: after, limit: Self.pageSize)
            let page = keep.map { all.filter($0) } ?? all
            var histories: [String: CustomerHistory] = [:]
            if model != nil || readsHistory, let last = page.last {
                // The visits of the page's range, or of the few customers a search kept.
                let visits =
                    keep == nil
                    ? try await store.visits(after: after, through: last.id)
                    : try await store.visits(customerIDs: page.map(\.id))
                histories = Self.histories(model: model, visits: visits, page: page, config: config, now: now)
            }
            if readsHistory, !page.isEmpty {
                try await CustomerHistory.addMessagesAndCards(to: &histories, of: page.map(\.id), store: store, now: now)
            }
            for customer in page {
                try body(
                    CustomerView(
                        customer: customer, config: config, now: now, zone: TriggerScan.zone(of: customer, config: config),
                        recentVisits: counts[customer.id], history: histories[customer.id]))
            }
            guard all.count == Self.pageSize, let last = all.last else { return }
            after = last.id
        }
    }

    /// What the visits and the model say of the page's customers with visits (`visits` by customer, as the page).
    static func histories(
        model: CustomerModel?, visits: [VisitRecord], page: [CustomerState], config: ProjectConfig, now: Date
    ) -> [String: CustomerHistory] {
        var result: [String: CustomerHistory] = [:]
        var index = visits.startIndex
        for customer in page {
            let start = index
            while index < visits.endIndex, visits[index].customerID == customer.id { index += 1 }
            let zone = TriggerScan.zone(of: customer, config: config)
            if start < index {
                let summary = CustomerModel.summary(of: visits[start..<index], zone: zone, now: now)
                result[customer.id] = CustomerHistory(summary: summary, model: model)
            }
        }
        return result
    }
}
