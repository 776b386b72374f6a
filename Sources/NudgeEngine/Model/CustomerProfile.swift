public import Foundation
public import NudgeCore
public import NudgeLanguage
public import NudgeStore

/// Everything `nudge customers show ID` tells of one customer: every field, the segments, the parts of the
/// engagement score, the stamp cards, consent and its changes, the last messages and delivery events.
public struct CustomerProfile: Sendable {
    public var customer: CustomerState
    /// Every field of `customer.` (but `attributes`, listed apart), in the order of the field list.
    public var fields: [(name: String, value: Value)]
    public var attributes: [String: String]
    public var segments: [String]
    /// The engagement score's parts, each 0–1, and the score.
    public var engagement: (recency: Double, frequency: Double, spend: Double, response: Double, score: Int)
    public var cards: [ProgressState]
    public var consentChanges: [(change: ConsentChange, at: Date)]
    /// The newest messages first, at most `limit` of them.
    public var messages: [(message: OutboxMessage, attempts: [DeliveryAttempt])]
    public var events: [DeliveryEvent]
    /// Whether the model's fields come from a stored fit.
    public var hasModel: Bool

    /// The profile of customer `id` at `now`; nil when there is no such customer.
    public static func load(
        id: String, project: Project, store: any Store, now: Date, limit: Int = 10
    ) async throws -> CustomerProfile? {
        guard let customer = try await store.customer(id: id) else { return nil }
        let planner = Planner(project: project, store: store)
        let zone = TriggerScan.zone(of: customer, config: project.config)
        let occurrence = Occurrence(workflowID: "", customer: customer, key: "", due: now, zone: zone)
        // The book with every segment's populations and the engagement score's spend rank.
        var ranks = SegmentBook.ranks(segments: project.config.segments, conditions: [])
        ranks.insert(RankKey(field: .customer(.lifetime_value), isPositiveOnly: true))
        let book = try await SegmentBook.load(
            segments: project.config.segments, ranks: ranks, store: store, config: project.config, now: now)
        let counts = try await planner.recentVisitCounts(customerIDs: [id], now: now)
        let model = try await planner.customerModel()
        var histories = try await Planner.histories(model: model, zones: [id: zone], store: store, now: now)
        try await CustomerHistory.addMessagesAndCards(to: &histories, of: [id], store: store, now: now)
        let history = histories[id] ?? CustomerHistory(transactions: 0, prediction: nil)
        let facts = CustomerFacts(
            occurrence: occurrence, workflow: .none(), config: project.config, now: now, recentVisits: counts[id],
            segmentBook: book, history: history)
        let parts = facts.engagementParts
        return CustomerProfile(
            customer: customer,
            fields: Field.CustomerField.allCases.filter { $0 != .attributes }.map {
                ($0.rawValue, facts.value(of: .customer($0)))
            },
            attributes: customer.attributes,
            segments: book.segments(of: facts.view),
            engagement: (parts.recency, parts.frequency, parts.spend, parts.response, facts.engagementScore),
            cards: history.cards ?? [],
            consentChanges: try await store.consentChanges(customerID: id),
            messages: Array(try await store.history(customerID: id).prefix(limit)),
            events: Array(try await store.deliveryEvents(customerID: id).prefix(limit)),
            hasModel: model != nil)
    }
}
