import RealModule

/// The Gamma-Gamma model of spend per transaction (Fader & Hardie 2013, "The Gamma-Gamma Model of Monetary
/// Value"): a customer's transactions are Gamma(p, ν) with ν drawn from Gamma(q, γ), here `v` = γ.
public struct GammaGamma: Sendable, Hashable {
    public var p: Double
    public var q: Double
    public var v: Double

    public init(p: Double, q: Double, v: Double) {
        self.p = p
        self.q = q
        self.v = v
    }

    /// The mean spend per transaction across customers: the expectation for one without repeat transactions.
    public var populationMean: Double { p * v / (q - 1) }

    /// The expected spend per transaction of a customer with `x` repeat transactions averaging `mean`.
    public func expectedSpend(x: Int, mean: Double) -> Double {
        let n = Double(x)
        return p * (v + n * mean) / (p * n + q - 1)
    }

    /// Repeat customers' (x, mean repeat spend), only those who spent something, sorted by x.
    public struct Data: Sendable {
        var x: [Int] = []
        var mean: [Double] = []
        /// ln of `mean`, once.
        var logMean: [Double] = []

        public init(_ summaries: some Sequence<RepeatSummary>) {
            var pairs: [(Int, Double)] = []
            for s in summaries where s.x > 0 {
                guard let spend = s.repeatSpend, spend > 0 else { continue }
                pairs.append((s.x, spend))
            }
            pairs.sort { $0.0 < $1.0 }
            x = pairs.map(\.0)
            mean = pairs.map(\.1)
            logMean = mean.map { Double.log($0) }
        }

        /// The customers the fit reads.
        public var customers: Int { x.count }

        /// Every `k`-th customer (in x order).
        func sample(every k: Int) -> Data {
            var sample = Data([])
            for i in stride(from: 0, to: customers, by: max(1, k)) {
                sample.x.append(x[i])
                sample.mean.append(mean[i])
                sample.logMean.append(logMean[i])
            }
            return sample
        }
    }

    /// The log-likelihood of `data` (equation 3 of the note, summed over customers).
    public func logLikelihood(_ data: Data) -> Double {
        let (p, q, v) = (self.p, self.q, self.v)
        // What depends on x alone, once per x: ln Γ(px+q) − ln Γ(px) − ln Γ(q) + q ln v + px ln x.
        let maxX = data.x.last ?? 0
        var byX = [Double](repeating: 0, count: maxX + 1)
        let base = -Double.logGamma(q) + q * Double.log(v)
        for x in 1..<(maxX + 1) {
            let px = p * Double(x)
            byX[x] = base + Double.logGamma(px + q) - Double.logGamma(px) + px * Double.log(Double(x))
        }
        let common = byX
        return parallelSum(count: data.customers) { range in
            var sum = 0.0
            for i in range {
                let x = Double(data.x[i])
                let px = p * x
                sum += common[data.x[i]] + (px - 1) * data.logMean[i] - (px + q) * Double.log(x * data.mean[i] + v)
            }
            return sum
        }
    }

    /// The maximum-likelihood fit on `data`, searched on the logarithms of the parameters (each between e^−12 and
    /// e^12), from the fit of an evenly spread sample when there are many customers (as `BGNBD.fit`).
    public static func fit(_ data: Data) -> (model: GammaGamma, logLikelihood: Double, evaluations: Int) {
        func model(_ p: [Double]) -> GammaGamma { GammaGamma(p: .exp(p[0]), q: .exp(p[1]), v: .exp(p[2])) }
        let sample =
            data.customers > NelderMead.sampleThreshold
            ? data.sample(every: data.customers / (NelderMead.sampleThreshold / 2)) : nil
        let result = NelderMead.maximumLikelihood(
            dimensions: 3, sample: sample.map { sample in { model($0).logLikelihood(sample) } },
            all: { model($0).logLikelihood(data) })
        return (model(result.point), -result.value, result.evaluations)
    }
}
