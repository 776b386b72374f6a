import Foundation
import NudgeCore
import NudgeStore
import Synchronization

/// A store that reads another and keeps its own writes in memory: what `nudge forecast` commits its simulated runs
/// to, on either store, leaving the database as it was.
///
/// The plan reads back what earlier runs committed through the ledger (dedup, journeys), the outbox (caps, a
/// provider's limit per recipient, the steps journeys sent) and the recorded segment members; those answers join
/// the stored rows with the committed ones. A committed message counts as sent at its next attempt (its
/// `send_after`, else when it was committed), as a delivered one counts at its delivery.
final class SimulatedStore: PlanningStore {
    let base: any PlanningStore

    private struct State {
        var ledger: Set<LedgerKey> = []
        /// The first message committed for each occurrence: its journey's step, due time and variant.
        var occurrences: [OutboxMessage] = []
        var messages: [OutboxMessage] = []
        /// The pending messages by customer: what caps and per-recipient limits count, asked for a few customers at a
        /// time on every run.
        var pendingByCustomer: [String: [OutboxMessage]] = [:]
        var segmentMembers: [String: [String: String]] = [:]
        var modelFit: ModelFitRecord?
    }

    private let state = Mutex(State())

    init(base: any PlanningStore) {
        self.base = base
    }

    /// The messages committed so far.
    var committed: [OutboxMessage] { state.withLock { $0.messages } }

    // MARK: What the simulation writes

    func commit(_ messages: [OutboxMessage]) async throws -> Set<String> {
        let stored = try await base.ledgerHits(Array(Set(messages.map(\.ledgerKey))))
        return state.withLock { state in
            var committed = Set<String>()
            var new = Set<LedgerKey>()
            for message in messages {
                let key = message.ledgerKey
                guard !stored.contains(key), !state.ledger.contains(key) || new.contains(key) else { continue }
                if new.insert(key).inserted { state.occurrences.append(message) }
                state.messages.append(message)
                if message.status == .pending { state.pendingByCustomer[message.customerId, default: []].append(message) }
                committed.insert(message.id)
            }
            state.ledger.formUnion(new)
            return committed
        }
    }

    func recordSegmentEntries(segment: String, entries: [String: String]) async throws {
        state.withLock { $0.segmentMembers[segment] = entries }
    }

    func saveModelFit(_ fit: ModelFitRecord) async throws {
        state.withLock { $0.modelFit = fit }
    }

    func recordWalletPoints(_ points: [WalletPoints], at: Date) async throws {}

    func withPlanningLock<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        try await body()
    }

    // MARK: Reads that see the simulation's writes

    func ledgerHits(_ keys: [LedgerKey]) async throws -> Set<LedgerKey> {
        let simulated = state.withLock { state in Set(keys.filter { state.ledger.contains($0) }) }
        return try await base.ledgerHits(keys).union(simulated)
    }

    func segmentEntries(segment: String) async throws -> [String: String] {
        if let members = state.withLock({ $0.segmentMembers[segment] }) { return members }
        return try await base.segmentEntries(segment: segment)
    }

    func latestModelFit() async throws -> ModelFitRecord? {
        if let fit = state.withLock({ $0.modelFit }) { return fit }
        return try await base.latestModelFit()
    }

    /// When a committed message counts as sent: its next attempt.
    private static func sentAt(_ message: OutboxMessage) -> Date { StoredInstant.date(message.nextAttemptAt) }

    /// The pending messages the simulation committed for `customerIDs`.
    private func pending(of customerIDs: [String]) -> [OutboxMessage] {
        state.withLock { state in Set(customerIDs).flatMap { state.pendingByCustomer[$0] ?? [] } }
    }

    func capCounted(customerIDs: [String], after: Date) async throws -> [String: [CountedMessage]] {
        var counted = try await base.capCounted(customerIDs: customerIDs, after: after)
        for message in pending(of: customerIDs)
        where (message.category ?? "marketing") == "marketing" && Self.sentAt(message) > after {
            counted[message.customerId, default: []].append(CountedMessage(channel: message.channel, at: Self.sentAt(message)))
        }
        return counted.mapValues { $0.sorted { $0.at < $1.at } }
    }

    func notifiedTimes(customerIDs: [String], channel: Channel, platform: String?, after: Date) async throws -> [String: [Date]] {
        var times = try await base.notifiedTimes(customerIDs: customerIDs, channel: channel, platform: platform, after: after)
        for message in pending(of: customerIDs)
        where message.channel == channel.rawValue && (platform == nil || message.platform == platform) && Self.sentAt(message) > after {
            times[message.customerId, default: []].append(Self.sentAt(message))
        }
        return times.mapValues { $0.sorted() }
    }

    func journeySteps(workflowID: String, step: Int, dueAfter: Date, dueThrough: Date) async throws -> [JourneyStep] {
        var steps = try await base.journeySteps(workflowID: workflowID, step: step, dueAfter: dueAfter, dueThrough: dueThrough)
        let (after, through) = (StoredInstant.millis(dueAfter), StoredInstant.millis(dueThrough))
        let found = state.withLock { state in
            state.occurrences.filter { $0.workflowId == workflowID && $0.step == step && $0.dueAt > after && $0.dueAt <= through }
        }
        for message in found {
            guard let customer = try await base.customer(id: message.customerId) else { continue }
            steps.append(
                JourneyStep(customer: customer, occurrence: message.occurrence, due: StoredInstant.date(message.dueAt), variant: message.variant))
        }
        return steps
    }

    func stepsSent(since: Date) async throws -> [StepSent] {
        var latest: [String: StepSent] = [:]
        for sent in try await base.stepsSent(since: since) {
            latest["\(sent.workflowID)\u{0}\(sent.step)\u{0}\(sent.template)"] = sent
        }
        let from = StoredInstant.millis(since)
        for message in committed where message.createdAt > from && !message.template.isEmpty {
            let key = "\(message.workflowId)\u{0}\(message.step)\u{0}\(message.template)"
            let at = StoredInstant.date(message.createdAt)
            if let known = latest[key], known.lastAt >= at { continue }
            latest[key] = StepSent(workflowID: message.workflowId, step: message.step, template: message.template, lastAt: at)
        }
        return latest.values.sorted { ($0.workflowID, $0.step, $0.template) < ($1.workflowID, $1.step, $1.template) }
    }

    // MARK: Reads of the stored state alone

    func zonesInUse() async throws -> [String] { try await base.zonesInUse() }
    func candidates(_ query: CandidateQuery) async throws -> [Candidate] { try await base.candidates(query) }
    func erasureKeyChecks() async throws -> Set<String> { try await base.erasureKeyChecks() }
    func erasedPseudonyms() async throws -> Set<String> { try await base.erasedPseudonyms() }
    func storedErasureKey() async throws -> String? { try await base.storedErasureKey() }
    func visitCounts(customerIDs: [String], since: [Date]) async throws -> [String: [Int]] {
        try await base.visitCounts(customerIDs: customerIDs, since: since)
    }
    func customer(id: String) async throws -> CustomerState? { try await base.customer(id: id) }
    func customerPage(after: String?, limit: Int) async throws -> [CustomerState] {
        try await base.customerPage(after: after, limit: limit)
    }
    func visitorZones(after: String?, limit: Int) async throws -> [(id: String, zone: String?)] {
        try await base.visitorZones(after: after, limit: limit)
    }
    func storedNumbers(_ column: StoredNumber) async throws -> [Int] { try await base.storedNumbers(column) }
    func visitCounts(since: [Date]) async throws -> [String: [Int]] { try await base.visitCounts(since: since) }
    func visits(after: String?, through: String) async throws -> [VisitRecord] { try await base.visits(after: after, through: through) }
    func visits(customerIDs: [String]) async throws -> [VisitRecord] { try await base.visits(customerIDs: customerIDs) }
    func messageResponses(customerIDs: [String], since: Date) async throws -> [String: MessageResponse] {
        try await base.messageResponses(customerIDs: customerIDs, since: since)
    }
    func progress(customerIDs: [String]) async throws -> [String: [ProgressState]] { try await base.progress(customerIDs: customerIDs) }
    func progress(customerID: String, offer: String?) async throws -> [ProgressState] {
        try await base.progress(customerID: customerID, offer: offer)
    }
    func walletPointsToSync(platform: String?, offer: String?) async throws -> [WalletPoints] {
        try await base.walletPointsToSync(platform: platform, offer: offer)
    }
    func passDevices(passTypeID: String, serials: [String]) async throws -> [String: [String]] {
        try await base.passDevices(passTypeID: passTypeID, serials: serials)
    }
    func publishedOffers(after: Date, through: Date) async throws -> [OfferState] {
        try await base.publishedOffers(after: after, through: through)
    }
}
