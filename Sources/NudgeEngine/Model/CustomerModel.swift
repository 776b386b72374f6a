public import Foundation
public import NudgeCore
public import NudgeModel
public import NudgeLanguage
import NudgeStore

/// The fitted customer model at work: what it says of one customer (design: issue 11's model fields).
public struct CustomerModel: Sendable {
    public let fit: ModelFitRecord
    public let bgnbd: BGNBD
    /// Nil when no repeat customer had spent anything to fit it on.
    public let gammaGamma: GammaGamma?
    let clvMonths: Int
    let monthlyDiscount: Double

    public init(fit: ModelFitRecord, intelligence: IntelligenceConfig) {
        self.fit = fit
        bgnbd = BGNBD(r: fit.r, alpha: fit.alpha, a: fit.a, b: fit.b)
        if let p = fit.p, let q = fit.q, let v = fit.v {
            gammaGamma = GammaGamma(p: p, q: q, v: v)
        } else {
            gammaGamma = nil
        }
        clvMonths = intelligence.clvMonths
        monthlyDiscount = intelligence.monthlyDiscount
    }

    /// Weeks in a month, for lifetime value.
    public static let weeksPerMonth = 4.345
    /// Weeks of `expected_visits_90d`.
    public static let ninetyDays = 90.0 / 7

    /// What the model says of a customer with this history, each figure computed when read: a list of a million
    /// customers that shows the churn risk need not compute twelve months of expected visits for each one's CLV.
    public struct Prediction: Sendable, Hashable {
        let model: CustomerModel
        let summary: RepeatSummary

        public var pAlive: Double { model.bgnbd.probabilityAlive(summary) }
        public var churnRisk: Double { 1 - pAlive }
        public var expectedVisits90d: Double {
            model.bgnbd.expectedTransactions(in: CustomerModel.ninetyDays, after: summary)
        }
        /// Nil without a Gamma-Gamma fit.
        public var avgSpend: Double? {
            model.gammaGamma.map { spend in
                if summary.x > 0, let mean = summary.repeatSpend, mean > 0 { return spend.expectedSpend(x: summary.x, mean: mean) }
                return spend.populationMean
            }
        }
        public var clv: Double? {
            guard let avgSpend else { return nil }
            var total = 0.0
            var before = 0.0
            for month in 1...max(1, model.clvMonths) {
                let by = model.bgnbd.expectedTransactions(in: CustomerModel.weeksPerMonth * Double(month), after: summary)
                total += (by - before) * avgSpend / pow(1 + model.monthlyDiscount, Double(month))
                before = by
            }
            return total
        }

        public static func == (l: Prediction, r: Prediction) -> Bool {
            l.summary == r.summary && l.model.fit == r.model.fit && l.model.clvMonths == r.model.clvMonths
                && l.model.monthlyDiscount == r.model.monthlyDiscount
        }

        public func hash(into hasher: inout Hasher) {
            hasher.combine(summary)
            hasher.combine(model.fit.fittedAt)
        }
    }

    public func predict(_ s: RepeatSummary) -> Prediction {
        Prediction(model: self, summary: s)
    }

    /// A customer's summary from their stored visits, observed until `now` (local dates in `zone`).
    public static func summary(of visits: some Collection<VisitRecord>, zone: TimeZone, now: Date) -> RepeatSummary? {
        let days = LocalDays.shared(zone)
        return RepeatSummary(visits: Self.visits(visits) { days.daysSinceEpoch(of: $0) }, end: now.timeIntervalSince1970)
    }

    /// Stored visits as the model reads them: instants, local dates (`day` gives days since 1970 of an instant in
    /// the customer's zone), amounts in money.
    static func visits(_ records: some Collection<VisitRecord>, day: (Date) -> Int) -> [RepeatSummary.Visit] {
        records.map { visit in
            RepeatSummary.Visit(
                at: visit.visitedAt.timeIntervalSince1970, day: day(visit.visitedAt),
                amount: Double(visit.amountCents ?? 0) / 100)
        }
    }
}

/// What a customer's visit history says: transactions (local dates with visits) and the model's prediction.
public struct CustomerHistory: Sendable, Hashable {
    /// Local dates with visits (0 for a customer who never came).
    public var transactions: Int
    /// Nil before the first fit.
    public var prediction: CustomerModel.Prediction?
    /// How the customer answered messages in the last 90 days (read for `engagement_score` and `next_action`).
    public var response: MessageResponse?
    /// The customer's stamp cards (read for `next_action`).
    public var cards: [ProgressState]?

    public init(transactions: Int, prediction: CustomerModel.Prediction?) {
        self.transactions = transactions
        self.prediction = prediction
    }

    /// Adds to `histories` how each of `ids` answered the messages of the 90 days before `now`, and their stamp
    /// cards (one batch each).
    static func addMessagesAndCards(
        to histories: inout [String: CustomerHistory], of ids: [String], store: any PlanningStore, now: Date
    ) async throws {
        guard !ids.isEmpty else { return }
        let responses = try await store.messageResponses(customerIDs: ids, since: now.addingTimeInterval(-90 * 86_400))
        let cards = try await store.progress(customerIDs: ids)
        for id in ids {
            var history = histories[id] ?? CustomerHistory(transactions: 0, prediction: nil)
            history.response = responses[id] ?? MessageResponse()
            history.cards = cards[id] ?? []
            histories[id] = history
        }
    }

    /// The history of a customer with `summary` (nil: no visits) under `model`.
    init(summary: RepeatSummary?, model: CustomerModel?) {
        transactions = summary.map { $0.x + 1 } ?? 0
        prediction = summary.flatMap { s in model?.predict(s) }
    }
}

extension Field.CustomerField {
    /// The fields the customer model answers.
    public static let modelFields: Set<Field.CustomerField> = [.p_alive, .churn_risk, .expected_visits_90d, .avg_spend, .clv]
}
