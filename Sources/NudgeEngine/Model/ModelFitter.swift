public import Foundation
public import Logging
public import NudgeCore
public import NudgeLanguage
import NudgeModel
public import NudgeStore

/// Fits the customer model on every customer's visits up to `now` and stores the fit (`nudge model fit`, and
/// `nudge run` when the stored fit is older than `intelligence.refit`).
public struct ModelFitter: Sendable {
    public let store: any PlanningStore
    public let config: ProjectConfig
    /// Each stage's time and size, at debug level.
    public let logger: Logger

    public init(store: any PlanningStore, config: ProjectConfig, logger: Logger = Logger(label: "nudge.model")) {
        self.store = store
        self.config = config
        self.logger = logger
    }

    /// Whether `nudge run` at `now` refits: no fit yet, or the latest is older than `intelligence.refit`.
    public func isDue(at now: Date) async throws -> Bool {
        guard let latest = try await store.latestModelFit() else { return true }
        return now.timeIntervalSince(latest.fittedAt) >= Double(config.intelligence.refit.seconds)
    }

    /// Fits both models on the visits up to `now`, stores and returns the fit; nil (nothing stored) when no
    /// customer has visits yet.
    public func fit(now: Date) async throws -> ModelFitRecord? {
        var summaries: [RepeatSummary] = []
        var transactions = Calibration.Transactions()
        let end = now.timeIntervalSince1970
        var clock = Date()
        try await forEachHistory(until: now) { records, zone in
            // A table of offsets per zone: a million visits are dated without asking ICU for each.
            let calendar = LocalDays.shared(zone)
            let visits = CustomerModel.visits(records) { calendar.daysSinceEpoch(of: $0) }
            guard let summary = RepeatSummary(visits: visits, end: end) else { return }
            summaries.append(summary)
            // The instants of the transactions, for the tracking chart: the first visit of each local date.
            var lastDay: Int?
            for visit in visits where visit.at <= end {
                if lastDay == nil {
                    transactions.addFirst(at: visit.at)
                } else if visit.day != lastDay {
                    transactions.addRepeat(at: visit.at)
                }
                lastDay = visit.day
            }
        }
        guard !summaries.isEmpty else { return nil }
        func stage(_ name: String, _ metadata: Logger.Metadata) {
            var metadata = metadata
            metadata["seconds"] = "\(String(format: "%.3f", Date().timeIntervalSince(clock)))"
            logger.debug("model \(name)", metadata: metadata)
            clock = Date()
        }
        stage("histories read", ["customers": "\(summaries.count)"])
        let data = BGNBD.Data(summaries)
        let (bgnbd, bgnbdLogLikelihood, bgnbdEvaluations) = BGNBD.fit(data)
        stage("bgnbd fitted", ["groups": "\(data.groups)", "evaluations": "\(bgnbdEvaluations)"])
        let spend = GammaGamma.Data(summaries)
        let gammaGamma = spend.customers > 0 ? GammaGamma.fit(spend) : nil
        stage("gamma-gamma fitted", ["customers": "\(spend.customers)", "evaluations": "\(gammaGamma?.evaluations ?? 0)"])
        let calibration = Calibration(
            model: bgnbd, summaries: summaries, transactions: transactions, end: now.timeIntervalSince1970)
        stage("calibration charted", ["points": "\(calibration.actual.count)"])
        let record = ModelFitRecord(
            fittedAt: now, customers: data.customers, repeatCustomers: data.repeatCustomers, r: bgnbd.r,
            alpha: bgnbd.alpha, a: bgnbd.a, b: bgnbd.b, bgnbdLogLikelihood: bgnbdLogLikelihood, p: gammaGamma?.model.p,
            q: gammaGamma?.model.q, v: gammaGamma?.model.v, gammaGammaLogLikelihood: gammaGamma?.logLikelihood,
            details: calibration.json)
        try await store.saveModelFit(record)
        stage("fit stored", [:])
        return record
    }

    /// Calls `body` with each customer's visits (by time; any after `now` too, which summaries leave out) and
    /// zone, a page of customers at a time.
    func forEachHistory(until now: Date, _ body: (ArraySlice<VisitRecord>, TimeZone) throws -> Void) async throws {
        var after: String?
        while true {
            let page = try await store.visitorZones(after: after, limit: CustomerSweep.pageSize)
            guard let last = page.last else { return }
            let visits = try await store.visits(after: after, through: last.id)
            var index = visits.startIndex
            for customer in page {
                // Visits come by customer id, as the page does.
                let start = index
                while index < visits.endIndex, visits[index].customerID == customer.id { index += 1 }
                guard start < index else { continue }
                try body(visits[start..<index], TriggerScan.zone(named: customer.zone, config: config))
            }
            guard page.count == CustomerSweep.pageSize else { return }
            after = last.id
        }
    }
}

/// What `nudge model show --html` charts: the paper's tracking plot (expected and actual cumulative repeat
/// transactions, week by week since the first visit on record) and the distribution of P(alive).
public struct Calibration: Sendable, Hashable {
    /// The start of the first week.
    public var origin: Date
    /// Weeks per point (1, more for a history longer than ten years).
    public var stepWeeks: Int
    public var actual: [Int]
    public var expected: [Double]
    /// Customers by P(alive) in ten bins: [0, 0.1), [0.1, 0.2), … [0.9, 1].
    public var pAlive: [Int]

    /// The transactions the chart counts, by UTC day: a million customers' first and repeat transactions as a few
    /// thousand counters rather than arrays of instants. Points fall on day boundaries (the origin is one, and
    /// points are whole weeks apart), so counts by day give the same curve.
    struct Transactions {
        /// First transactions by the UTC day they fall in (days since 1970).
        var firsts: [Int: Int] = [:]
        /// Repeat transactions by the first UTC midnight at or after them: one at a point's instant counts there.
        var repeats: [Int: Int] = [:]

        static let day = 86_400.0

        mutating func addFirst(at instant: Double) {
            firsts[Int((instant / Self.day).rounded(.down)), default: 0] += 1
        }

        mutating func addRepeat(at instant: Double) {
            repeats[Int((instant / Self.day).rounded(.up)), default: 0] += 1
        }
    }

    init(model: BGNBD, summaries: [RepeatSummary], transactions: Transactions, end: Double) {
        // Whole days from the day of the first visit on record: customers who started on one day share one curve,
        // and the curve is needed only at whole-day ages (₂F₁ converges slowly for old customers, so each age is
        // computed once).
        let day = Transactions.day
        let originDay = transactions.firsts.keys.min() ?? Int((end / day).rounded(.down))
        let origin = Double(originDay) * day
        let span = max(1, Int(((end - origin) / RepeatSummary.week).rounded(.up)))
        let step = max(1, (span + 519) / 520)
        let points = (span + step - 1) / step
        // Every repeat counted is at or before `end`.
        let repeatsByDay = transactions.repeats.sorted { $0.key < $1.key }
        let starts = transactions.firsts.map { (key: $0.key - originDay, value: $0.value) }.sorted { $0.key < $1.key }
        var curve: [Int: Double] = [:]
        func expectation(ageDays: Int) -> Double {
            if let known = curve[ageDays] { return known }
            let value = model.expectedTransactions(firstWeeks: Double(ageDays) / 7)
            curve[ageDays] = value
            return value
        }
        var actual: [Int] = []
        var expected: [Double] = []
        var seen = 0
        var next = 0
        for point in 1...points {
            let at = min(end, origin + Double(point * step) * RepeatSummary.week)
            let atDays = (at - origin) / day
            // A repeat before a point's midnight (or at it) counts there; at `end`, every repeat does.
            let lastDay = at == end ? Int.max : originDay + Int(atDays.rounded())
            while next < repeatsByDay.count, repeatsByDay[next].key <= lastDay {
                seen += repeatsByDay[next].value
                next += 1
            }
            actual.append(seen)
            var sum = 0.0
            for (startDay, count) in starts where Double(startDay) < atDays {
                let age = atDays - Double(startDay)
                // The last point may fall inside a day (at `end`): its ages are not whole.
                sum += Double(count)
                    * (age == age.rounded() ? expectation(ageDays: Int(age)) : model.expectedTransactions(firstWeeks: age / 7))
            }
            expected.append(sum)
        }
        var bins = [Int](repeating: 0, count: 10)
        for s in summaries { bins[min(9, Int(model.probabilityAlive(s) * 10))] += 1 }
        self.origin = Date(timeIntervalSince1970: origin)
        self.stepWeeks = step
        self.actual = actual
        self.expected = expected
        self.pAlive = bins
    }

    /// The stored form (`ModelFitRecord.details`).
    var json: String {
        let object: [String: Any] = [
            "origin": ISO8601.format(origin), "step_weeks": stepWeeks, "actual": actual, "expected": expected,
            "p_alive": pAlive,
        ]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    /// The calibration stored with `fit`, if readable.
    public init?(stored fit: ModelFitRecord) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(fit.details.utf8)) as? [String: Any],
            let originText = object["origin"] as? String,
            let origin = ISO8601.parse(originText, zone: TimeZone(identifier: "UTC")!),
            let step = object["step_weeks"] as? Int, let actual = object["actual"] as? [Int],
            let expected = object["expected"] as? [Double], let pAlive = object["p_alive"] as? [Int]
        else { return nil }
        self.origin = origin
        self.stepWeeks = step
        self.actual = actual
        self.expected = expected
        self.pAlive = pAlive
    }
}
