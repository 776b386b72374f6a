import Foundation
import Testing

import NudgeModel

/// The CDNOW sample of Fader, Hardie & Lee (2005): 2,357 customers of the 1997-01 cohort, calibration to 1997-09-30.
enum CDNOW {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    /// Days since 1970-01-01 of a `YYYYMMDD` date.
    static func day(_ text: Substring) -> Int {
        var components = DateComponents()
        components.year = Int(text.prefix(4))
        components.month = Int(text.dropFirst(4).prefix(2))
        components.day = Int(text.suffix(2))
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return Int(calendar.date(from: components)!.timeIntervalSince1970 / 86_400)
    }

    /// The end of the calibration period: 1997-09-30 at 00:01 (the rows of one date are a second apart from
    /// midnight on), in seconds since 1970.
    static let end = Double(day("19970930")) * 86_400 + 60

    /// Each sample customer's visits (one per row: several rows on one date are one transaction).
    static let visits: [Int: [RepeatSummary.Visit]] = {
        let text = try! String(contentsOf: fixtures.appendingPathComponent("CDNOW_sample.txt"), encoding: .utf8)
        var visits: [Int: [RepeatSummary.Visit]] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            let fields = line.split(separator: " ")
            let day = day(fields[2])
            // Rows of one date a second apart: the summary must still make them one transaction.
            let row = visits[Int(fields[1])!]?.filter { $0.day == day }.count ?? 0
            visits[Int(fields[1])!, default: []].append(
                RepeatSummary.Visit(at: Double(day) * 86_400 + Double(row), day: day, amount: Double(fields[4])!))
        }
        return visits
    }()

    static let summaries: [Int: RepeatSummary] = visits.compactMapValues { RepeatSummary(visits: $0, end: end) }
}

@Suite("The customer model on CDNOW")
struct CDNOWTests {
    @Test("the summaries are the paper's: x, t_x and T in weeks")
    func summaries() throws {
        let text = try String(contentsOf: CDNOW.fixtures.appendingPathComponent("cdnow_customers_summary.csv"), encoding: .utf8)
        var checked = 0
        for line in text.split(whereSeparator: \.isNewline).dropFirst() {
            let fields = line.split(separator: ",")
            let summary = try #require(CDNOW.summaries[Int(fields[0])!])
            #expect(summary.x == Int(fields[1])!, "customer \(fields[0])")
            #expect(abs(summary.tx - Double(fields[2])!) < 0.006, "customer \(fields[0])")
            #expect(abs(summary.T - Double(fields[3])!) < 0.006, "customer \(fields[0])")
            checked += 1
        }
        #expect(checked == 2_357)
    }

    @Test("BG/NBD: r = 0.243, α = 4.414, a = 0.793, b = 2.426, log-likelihood −9582.4")
    func bgnbd() {
        let data = BGNBD.Data(CDNOW.summaries.values)
        #expect(data.customers == 2_357)
        #expect(data.repeatCustomers == 946)
        let (model, logLikelihood, _) = BGNBD.fit(data)
        // Each equal to the published figure at its printed precision.
        #expect((0.2425..<0.2435).contains(model.r), "r = \(model.r)")
        #expect((4.4135..<4.4145).contains(model.alpha), "α = \(model.alpha)")
        #expect((0.7925..<0.7935).contains(model.a), "a = \(model.a)")
        #expect((2.4255..<2.4265).contains(model.b), "b = \(model.b)")
        #expect((-9582.45 ..< -9582.35).contains(logLikelihood), "LL = \(logLikelihood)")
    }

    @Test("Gamma-Gamma on the 946 repeat buyers: p = 6.25, q = 3.74, v = 15.44, log-likelihood −4055.92")
    func gammaGamma() {
        let data = GammaGamma.Data(CDNOW.summaries.values)
        #expect(data.customers == 946)
        let (model, logLikelihood, _) = GammaGamma.fit(data)
        #expect((6.245..<6.255).contains(model.p), "p = \(model.p)")
        #expect((3.735..<3.745).contains(model.q), "q = \(model.q)")
        #expect((15.435..<15.445).contains(model.v), "v = \(model.v)")
        #expect((-4055.925 ..< -4055.915).contains(logLikelihood), "LL = \(logLikelihood)")
    }

    @Test("the paper's worked example: x = 2, t_x = 30.43, T = 38.86 expects 1.226 transactions in the next 39 weeks")
    func conditionalExpectation() {
        let model = BGNBD(r: 0.243, alpha: 4.414, a: 0.793, b: 2.426)
        let customer = RepeatSummary(x: 2, tx: 30.43, T: 38.86)
        #expect(abs(model.expectedTransactions(in: 39, after: customer) - 1.226) < 0.0005)
        // Without repeats a customer is alive for sure; a long silence after repeats lowers the chance.
        #expect(model.probabilityAlive(RepeatSummary(x: 0, tx: 0, T: 38.86)) == 1)
        let quiet = model.probabilityAlive(RepeatSummary(x: 5, tx: 5, T: 38.86))
        let recent = model.probabilityAlive(RepeatSummary(x: 5, tx: 38, T: 38.86))
        #expect(quiet < recent && recent < 1)
    }
}

@Suite("Numerics of the model")
struct ModelNumericsTests {
    @Test("₂F₁ against closed forms")
    func hypergeometric() {
        for z in [0.0, 0.1, 0.5, 0.9] {
            // ₂F₁(1, 1; 2; z) = −ln(1 − z) / z
            let log = z == 0 ? 1 : -Foundation.log(1 - z) / z
            #expect(abs(hypergeometric2F1(1, 1, 2, z) - log) < 1e-12 * max(1, log))
            // ₂F₁(a, b; b; z) = (1 − z)^−a
            #expect(abs(hypergeometric2F1(0.7, 2.5, 2.5, z) - pow(1 - z, -0.7)) < 1e-12 * pow(1 - z, -0.7))
        }
    }

    @Test("Nelder-Mead finds the minimum of Rosenbrock's valley")
    func nelderMead() {
        let result = NelderMead().minimize({ p in 100 * pow(p[1] - p[0] * p[0], 2) + pow(1 - p[0], 2) }, from: [-1.2, 1])
        #expect(abs(result.point[0] - 1) < 1e-6 && abs(result.point[1] - 1) < 1e-6, "\(result.point)")
    }

    @Test("visits on one local date are one transaction; the first is not a repeat")
    func summary() throws {
        let day = 86_400.0
        let visits = [
            RepeatSummary.Visit(at: 0, day: 0, amount: 10),
            RepeatSummary.Visit(at: 3_600, day: 0, amount: 5),
            RepeatSummary.Visit(at: 7 * day, day: 7, amount: 4),
            RepeatSummary.Visit(at: 7 * day + 60, day: 7, amount: 4),
            RepeatSummary.Visit(at: 14 * day, day: 14, amount: 2),
            RepeatSummary.Visit(at: 30 * day, day: 30, amount: 100),  // after the end
        ]
        let summary = try #require(RepeatSummary(visits: visits, end: 21 * day))
        #expect(summary.x == 2)
        #expect(summary.tx == 2)
        #expect(summary.T == 3)
        #expect(summary.repeatSpend == 5)
        #expect(RepeatSummary(visits: [], end: 0) == nil)
        #expect(RepeatSummary(visits: visits, end: 0)?.x == 0)
    }
}
