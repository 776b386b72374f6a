import Foundation
import GRDB
import NudgeEngine
import NudgeLanguage
import NudgeModel
import NudgeRender
import NudgeStore
import Testing
import NudgeCore

/// The CDNOW sample (the model tests' fixture) as nudge imports it: one customer per sample id (signed up at
/// the first purchase), one visit per row, the rows of one date a second apart.
enum CDNOWImport {
    static let sample = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("NudgeModelTests/Fixtures/CDNOW_sample.txt")

    /// The end of the calibration period.
    static let now = "1997-09-30T00:01:00Z"

    /// Writes customers.csv and visits.csv into `directory`.
    static func write(to directory: URL) throws -> (customers: String, visits: String) {
        let text = try String(contentsOf: sample, encoding: .utf8)
        var customers = ["id,signed_up_at"]
        var visits = ["customer_id,visited_at,amount"]
        var seen: [String: Int] = [:]
        var rowsOnDate: [String: Int] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            let fields = line.split(separator: " ")
            let id = "c" + String(repeating: "0", count: max(0, 4 - fields[1].count)) + fields[1]
            let date = "\(fields[2].prefix(4))-\(fields[2].dropFirst(4).prefix(2))-\(fields[2].suffix(2))"
            if seen[id] == nil {
                seen[id] = 1
                customers.append("\(id),\(date)T00:00:00Z")
            }
            let row = rowsOnDate["\(id) \(date)", default: 0]
            rowsOnDate["\(id) \(date)"] = row + 1
            visits.append("\(id),\(date)T00:00:0\(row)Z,\(fields[4])")
        }
        let customersPath = directory.appendingPathComponent("customers.csv")
        let visitsPath = directory.appendingPathComponent("visits.csv")
        try (customers.joined(separator: "\n") + "\n").write(to: customersPath, atomically: true, encoding: .utf8)
        try (visits.joined(separator: "\n") + "\n").write(to: visitsPath, atomically: true, encoding: .utf8)
        return (customersPath.path, visitsPath.path)
    }

    static func load(into fixture: Fixture) throws {
        let (customers, visits) = try write(to: fixture.directory)
        let options = ImportOptions(
            defaultZone: TimeZone(identifier: "America/New_York")!, now: Date(timeIntervalSince1970: 0), displayPath: "x.csv")
        _ = try fixture.database.importCSV(.customers, path: customers, options: options)
        _ = try fixture.database.importCSV(.visits, path: visits, options: options)
    }
}

@Suite("The customer model in the product")
struct CustomerModelTests {
    static let utcConfig = Fixture.defaultConfig.replacingOccurrences(of: "America/New_York", with: "UTC")

    func instant(_ text: String) throws -> Date {
        try #require(ISO8601.parse(text, zone: TimeZone(identifier: "UTC")!))
    }

    @Test("model fit on the imported CDNOW visits stores the published parameters")
    func fitThroughTheStore() async throws {
        let fixture = try Fixture(config: Self.utcConfig, workflows: [:])
        try CDNOWImport.load(into: fixture)
        let project = try fixture.project()
        let fitted = try await ModelFitter(store: fixture.database, config: project.config).fit(now: instant(CDNOWImport.now))
        let fit = try #require(fitted)
        #expect(try fixture.database.latestModelFit() == fit)
        #expect((fit.customers, fit.repeatCustomers) == (2_357, 946))
        #expect((0.2425..<0.2435).contains(fit.r) && (4.4135..<4.4145).contains(fit.alpha), "\(fit.r) \(fit.alpha)")
        #expect((0.7925..<0.7935).contains(fit.a) && (2.4255..<2.4265).contains(fit.b), "\(fit.a) \(fit.b)")
        #expect((-9582.45 ..< -9582.35).contains(fit.bgnbdLogLikelihood))
        #expect((6.245..<6.255).contains(fit.p ?? 0) && (3.735..<3.745).contains(fit.q ?? 0) && (15.435..<15.445).contains(fit.v ?? 0))
        // The calibration chart's data: the actual cumulative repeat visits end at every repeat transaction of the
        // calibration period (Σx = 2,457), which the model's expectation follows within 5 %.
        let calibration = try #require(Calibration(stored: fit))
        #expect(calibration.actual.last == 2_457)
        // Week by week from 1997-01-01, a repeat on a week's last midnight counted in that week (computed apart from
        // the transactions file).
        #expect(try calibration.origin == instant("1997-01-01T00:00:00Z") && calibration.stepWeeks == 1)
        #expect(
            calibration.actual == [
                3, 22, 52, 84, 131, 201, 267, 365, 438, 516, 621, 747, 839, 927, 1019, 1091, 1163, 1229, 1295, 1367, 1421,
                1489, 1529, 1579, 1682, 1753, 1806, 1849, 1891, 1986, 2034, 2075, 2141, 2203, 2247, 2297, 2345, 2404, 2457,
            ])
        #expect(calibration.pAlive.reduce(0, +) == 2_357)
        #expect(calibration.actual == calibration.actual.sorted())
        #expect(abs((calibration.expected.last ?? 0) - Double(calibration.actual.last ?? 0)) < 0.05 * Double(calibration.actual.last ?? 1))
    }

    @Test("the model's fields read the stored fit: in conditions, in templates, null before the first fit")
    func fields() async throws {
        let fixture = try Fixture(
            config: Self.utcConfig,
            workflows: [
                "w.yaml": """
                    id: w
                    trigger: { signup: {} }
                    when: customer.churn_risk < 0.5
                    actions: [{ send: { channel: sms, template: m } }]
                    catch_up: 400d
                    """
            ], templates: [],
            extraFiles: [
                "Templates/m.sms.mustache":
                    "{{customer.p_alive}} {{customer.churn_risk}} {{customer.expected_visits_90d}} {{customer.avg_spend}} {{customer.clv}}"
            ])
        try CDNOWImport.load(into: fixture)
        try await fixture.database.writer.write { try $0.execute(sql: "UPDATE customer SET phone = '+15555550100', sms_opt_in = 1") }
        let before = try await fixture.plan(at: CDNOWImport.now, render: true)
        #expect(before.messages.isEmpty, "a null churn risk is no number below 0.5")
        #expect(before.notes.contains { $0.contains("no customer model fitted yet") })

        let project = try fixture.project()
        let fit = try #require(
            try await ModelFitter(store: fixture.database, config: project.config).fit(now: instant(CDNOWImport.now)))
        let plan = try await fixture.plan(at: CDNOWImport.now, render: true)
        #expect(plan.notes.isEmpty)
        #expect(plan.messages.count > 1_000 && plan.messages.count < 2_357)
        // Sample customer 1: x = 2, t_x = 30.43, T = 38.86 weeks (the paper's worked example).
        let one = try #require(plan.messages.first { $0.customerID == "c0001" })
        let model = CustomerModel(fit: fit, intelligence: IntelligenceConfig())
        let visits = try fixture.database.visits(customerIDs: ["c0001"])
        let summary = try #require(CustomerModel.summary(of: visits, zone: TimeZone(identifier: "UTC")!, now: instant(CDNOWImport.now)))
        #expect(summary.x == 2)
        let expected = model.predict(summary)
        let shown = [
            expected.pAlive, expected.churnRisk, expected.expectedVisits90d, expected.avgSpend ?? 0, expected.clv ?? 0,
        ].map(Value.format).joined(separator: " ")
        #expect(one.rendered?.body == shown)
        #expect(expected.pAlive > 0.5 && expected.clv! > 0 && expected.avgSpend! > 0)
        // CLV is the discounted sum of the monthly expected visits times the expected spend.
        var clv = 0.0
        for month in 1...12 {
            let gain =
                model.bgnbd.expectedTransactions(in: 4.345 * Double(month), after: summary)
                - model.bgnbd.expectedTransactions(in: 4.345 * Double(month - 1), after: summary)
            clv += gain * expected.avgSpend! / pow(1.01, Double(month))
        }
        #expect(abs(clv - expected.clv!) < 1e-9)
    }

    @Test("the chart counts a repeat at a week's last instant in that week, one a second later in the next")
    func calibrationWeeks() async throws {
        let fixture = try Fixture(config: Self.utcConfig, workflows: [:])
        try fixture.add(
            "c1",
            visits: ["2026-01-01T10:00:00Z", "2026-01-08T00:00:00Z", "2026-01-09T12:00:00Z", "2026-01-15T00:00:01Z"])
        try fixture.add("c2", visits: ["2026-01-03T10:00:00Z", "2026-01-21T23:59:59Z"])
        let project = try fixture.project()
        let fit = try #require(
            try await ModelFitter(store: fixture.database, config: project.config).fit(now: instant("2026-01-29T00:00:00Z")))
        let calibration = try #require(Calibration(stored: fit))
        #expect(try calibration.origin == instant("2026-01-01T00:00:00Z"))
        #expect(calibration.actual == [1, 2, 4, 4])
    }

    @Test("run refits when the stored fit is older than intelligence.refit, before planning when the plan reads the model")
    func refit() async throws {
        let config = Self.utcConfig + "\nintelligence: { refit: 2d, clv_months: 6, monthly_discount: 0.02 }\n"
        let fixture = try Fixture(
            config: config,
            workflows: [
                "w.yaml": """
                    id: w
                    trigger:
                      signup: { days_after: 0 }
                    when: customer.churn_risk >= 0
                    actions:
                      - send: { channel: email, template: t }
                    """
            ])
        try fixture.add("c1", signedUp: "2026-11-20T11:00:00Z", visits: ["2026-11-01T12:00:00Z", "2026-11-10T12:00:00Z"])
        let project = try fixture.project()
        #expect(project.config.intelligence.clvMonths == 6 && project.config.intelligence.monthlyDiscount == 0.02)
        func fits(_ database: AppDatabase) async throws -> Int {
            try await database.reader.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM model_fit") ?? 0 }
        }
        func run(_ now: String) async throws -> (fits: Int, messages: Int) {
            let summary = try await Planner(project: project, store: fixture.database).commit(
                now: instant(now), createdAt: instant(now), newID: { UUID().uuidString })
            return (try await fits(fixture.database), summary.plan.messages.count)
        }
        // The first plan already reads the churn risk of the fit made before it (null without one).
        #expect(try await run("2026-11-20T12:00:00Z") == (1, 1))
        #expect(try await run("2026-11-21T12:00:00Z") == (1, 0))
        #expect(try await run("2026-11-22T12:00:00Z").fits == 2)
        #expect(try fixture.database.latestModelFit()?.fittedAt == instant("2026-11-22T12:00:00Z"))

        // A plan that does not read the model does not wait for the fit: the runner refits after delivery.
        let other = try Fixture(config: config, workflows: [:])
        try other.add("c1", visits: ["2026-11-01T12:00:00Z", "2026-11-10T12:00:00Z"])
        let planner = Planner(project: try other.project(), store: other.database)
        _ = try await planner.commit(
            now: instant("2026-11-20T12:00:00Z"), createdAt: instant("2026-11-20T12:00:00Z"), newID: { UUID().uuidString })
        #expect(try await fits(other.database) == 0)
        #expect(try await planner.refitIfDue(now: instant("2026-11-20T12:00:00Z")))
        #expect(try await fits(other.database) == 1)
        #expect(try await planner.refitIfDue(now: instant("2026-11-21T12:00:00Z")) == false)
    }
}
