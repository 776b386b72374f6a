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

    /// Repeat customers' (x, mean repeat spend), only those who spent something.
    public struct Data: Sendable {
        var x: [Double] = []
        var mean: [Double] = []

        public init(_ summaries: some Sequence<RepeatSummary>) {
            for s in summaries where s.x > 0 {
                guard let spend = s.repeatSpend, spend > 0 else { continue }
                x.append(Double(s.x))
                mean.append(spend)
            }
        }

        /// The customers the fit reads.
        public var customers: Int { x.count }
    }

    /// The log-likelihood of `data` (equation 3 of the note, summed over customers).
    public func logLikelihood(_ data: Data) -> Double {
        let base = -Double.logGamma(q) + q * Double.log(v)
        let (p, q, v) = (self.p, self.q, self.v)
        return parallelSum(count: data.customers) { range in
            var sum = 0.0
            for i in range {
                let x = data.x[i]
                let m = data.mean[i]
                let px = p * x
                sum += base + Double.logGamma(px + q) - Double.logGamma(px) + (px - 1) * Double.log(m) + px * Double.log(x)
                    - (px + q) * Double.log(x * m + v)
            }
            return sum
        }
    }

    /// The maximum-likelihood fit on `data`, searched on the logarithms of the parameters.
    public static func fit(_ data: Data) -> (model: GammaGamma, logLikelihood: Double, evaluations: Int) {
        func model(_ p: [Double]) -> GammaGamma { GammaGamma(p: .exp(p[0]), q: .exp(p[1]), v: .exp(p[2])) }
        let result = NelderMead.minimize({ -model($0).logLikelihood(data) }, from: [0, 0, 0])
        return (model(result.point), -result.value, result.evaluations)
    }
}
