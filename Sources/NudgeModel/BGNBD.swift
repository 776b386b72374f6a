import Dispatch
import RealModule

/// The BG/NBD model of repeat buying (Fader, Hardie & Lee 2005, "Counting Your Customers the Easy Way"): while
/// alive a customer buys at a rate drawn from Gamma(r, α); after each transaction they drop out with a probability
/// drawn from Beta(a, b).
public struct BGNBD: Sendable, Hashable {
    public var r: Double
    public var alpha: Double
    public var a: Double
    public var b: Double

    public init(r: Double, alpha: Double, a: Double, b: Double) {
        self.r = r
        self.alpha = alpha
        self.a = a
        self.b = b
    }

    /// The probability that a customer with this history is still alive at the end of it.
    public func probabilityAlive(_ s: RepeatSummary) -> Double {
        guard s.x > 0 else { return 1 }
        let x = Double(s.x)
        return 1 / (1 + a / (b + x - 1) * Double.exp((r + x) * Double.log((alpha + s.T) / (alpha + s.tx))))
    }

    /// The expected number of transactions in the `t` weeks after the end of the history (equation 10 of the
    /// paper).
    public func expectedTransactions(in t: Double, after s: RepeatSummary) -> Double {
        guard t > 0 else { return 0 }
        let x = Double(s.x)
        let z = t / (alpha + s.T + t)
        let first =
            (a + b + x - 1) / (a - 1)
            * (1 - Double.exp((r + x) * Double.log((alpha + s.T) / (alpha + s.T + t)))
                * hypergeometric2F1(r + x, b + x, a + b + x - 1, z))
        let second =
            s.x > 0 ? 1 + a / (b + x - 1) * Double.exp((r + x) * Double.log((alpha + s.T) / (alpha + s.tx))) : 1
        return first / second
    }

    /// The expected number of repeat transactions of a new customer in their first `t` weeks (equation 9): the
    /// curve of the tracking plot.
    public func expectedTransactions(firstWeeks t: Double) -> Double {
        guard t > 0 else { return 0 }
        return (a + b - 1) / (a - 1)
            * (1 - Double.exp(r * Double.log(alpha / (alpha + t))) * hypergeometric2F1(r, b, a + b - 1, t / (alpha + t)))
    }

    /// Histories grouped by identical (x, tx, T), with how many customers have each, as arrays the likelihood reads.
    public struct Data: Sendable {
        var x: [Int] = []
        var tx: [Double] = []
        var T: [Double] = []
        var count: [Double] = []
        /// Customers, and customers with at least one repeat transaction.
        public private(set) var customers = 0
        public private(set) var repeatCustomers = 0

        /// The histories of `summaries` sorted, identical ones counted once (a run of equal keys after sorting:
        /// no hashing of a million keys).
        public init(_ summaries: some Sequence<RepeatSummary>) {
            let keys = summaries.map { Key(x: $0.x, tx: $0.tx, T: $0.T) }.sorted()
            var index = keys.startIndex
            while index < keys.endIndex {
                let key = keys[index]
                let first = index
                while index < keys.endIndex, keys[index] == key { index += 1 }
                let n = index - first
                x.append(key.x)
                tx.append(key.tx)
                T.append(key.T)
                count.append(Double(n))
                customers += n
                if key.x > 0 { repeatCustomers += n }
            }
        }

        struct Key: Comparable {
            var x: Int
            var tx: Double
            var T: Double

            static func < (l: Key, r: Key) -> Bool { (l.x, l.tx, l.T) < (r.x, r.tx, r.T) }
        }

        /// The number of distinct histories.
        public var groups: Int { x.count }

        /// Every `k`-th history, with its count.
        func sample(every k: Int) -> Data {
            var sample = Data([])
            for i in stride(from: 0, to: groups, by: max(1, k)) {
                sample.x.append(x[i])
                sample.tx.append(tx[i])
                sample.T.append(T[i])
                sample.count.append(count[i])
            }
            return sample
        }
    }

    /// The log-likelihood of `data` (equation 6 of the paper, summed over customers).
    public func logLikelihood(_ data: Data) -> Double {
        let maxX = data.x.max() ?? 0
        // What depends on x alone, once per x: ln Γ(r+x) − ln Γ(r) + r ln α + ln B(a, b+x) − ln B(a, b), and
        // ln a − ln(b+x−1).
        var byX = [Double](repeating: 0, count: maxX + 1)
        var dropoutByX = [Double](repeating: -.infinity, count: maxX + 1)
        let base = -Double.logGamma(r) + r * Double.log(alpha) + Double.logGamma(a + b) - Double.logGamma(b)
        for x in 0...maxX {
            let n = Double(x)
            byX[x] = base + Double.logGamma(r + n) + Double.logGamma(b + n) - Double.logGamma(a + b + n)
            if x > 0 { dropoutByX[x] = Double.log(a) - Double.log(b + n - 1) }
        }
        let (r, alpha) = (self.r, self.alpha)
        let (common, dropout) = (byX, dropoutByX)
        return parallelSum(count: data.groups) { range in
            var sum = 0.0
            for i in range {
                let x = data.x[i]
                let rx = r + Double(x)
                let alive = -rx * Double.log(alpha + data.T[i])
                var term = alive
                if x > 0 {
                    let dead = dropout[x] - rx * Double.log(alpha + data.tx[i])
                    // ln(eᵘ + eᵛ) without overflow.
                    let high = max(alive, dead)
                    term = high + Double.log(1 + Double.exp(min(alive, dead) - high))
                }
                sum += data.count[i] * (common[x] + term)
            }
            return sum
        }
    }

    /// The maximum-likelihood fit on `data`, searched on the logarithms of the parameters (each between e^−12 and
    /// e^12: data with no sign of dropout, or of differences between customers, push some towards infinity).
    ///
    /// With many distinct histories the search starts from the fit of an evenly spread tenth-or-less of them (every
    /// k-th history in (x, t_x, T) order, with its count), so the full likelihood is evaluated only around the
    /// optimum.
    public static func fit(_ data: Data) -> (model: BGNBD, logLikelihood: Double, evaluations: Int) {
        func model(_ p: [Double]) -> BGNBD { BGNBD(r: .exp(p[0]), alpha: .exp(p[1]), a: .exp(p[2]), b: .exp(p[3])) }
        let sample =
            data.groups > NelderMead.sampleThreshold
            ? data.sample(every: data.groups / (NelderMead.sampleThreshold / 2)) : nil
        let result = NelderMead.maximumLikelihood(
            dimensions: 4, sample: sample.map { sample in { model($0).logLikelihood(sample) } },
            all: { model($0).logLikelihood(data) })
        return (model(result.point), -result.value, result.evaluations)
    }

}

/// Σ over `0..<count` of `slice`'s sums, one slice per core when there are many terms.
func parallelSum(count: Int, _ slice: @Sendable (Range<Int>) -> Double) -> Double {
    let cores = count < 20_000 ? 1 : max(1, min(8, activeProcessors()))
    guard cores > 1 else { return slice(0..<count) }
    // Each iteration writes its own slot only.
    nonisolated(unsafe) let partials = UnsafeMutableBufferPointer<Double>.allocate(capacity: cores)
    defer { partials.deallocate() }
    partials.initialize(repeating: 0)
    DispatchQueue.concurrentPerform(iterations: cores) { k in
        partials[k] = slice(count * k / cores..<count * (k + 1) / cores)
    }
    return partials.reduce(0, +)
}
