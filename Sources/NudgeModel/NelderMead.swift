/// The downhill simplex method of Nelder and Mead (1965): minimises a function of a few variables without
/// derivatives, with the usual coefficients (reflection 1, expansion 2, contraction ½, shrink ½).
///
/// The models are fitted on the logarithms of their parameters, so every point is valid and one step size suits
/// them all. A converged simplex is restarted once around its best point, the standard guard against a simplex
/// that collapsed before reaching the minimum.
public struct NelderMead: Sendable {
    /// The minimum found: the point, the value there and how many times the function was called.
    public struct Result: Sendable {
        public var point: [Double]
        public var value: Double
        public var evaluations: Int
    }

    /// How far the first simplex stretches along each axis.
    public var step = 0.5
    /// Stop when the values and the points of the simplex differ by at most this much.
    public var tolerance = 1e-10
    /// …or when the values differ by at most this share of the best one.
    public var relativeTolerance = 1e-13
    /// Search within this distance of 0 on every axis: a point outside is valued at the nearest point inside, so
    /// the function is flat beyond it.
    public var bound = Double.infinity
    /// Searches started again around the best point after one converged.
    public var restarts = 1
    /// Stop when the best value has not improved in its 12th digit for this many steps (a flat top).
    public var stallSteps = 100
    /// Calls of the function allowed in each search.
    public var maxEvaluations = 3_000

    public init(
        step: Double = 0.5, relativeTolerance: Double = 1e-13, bound: Double = .infinity, restarts: Int = 1,
        stallSteps: Int = 100
    ) {
        self.step = step
        self.relativeTolerance = relativeTolerance
        self.bound = bound
        self.restarts = restarts
        self.stallSteps = stallSteps
    }

    /// Minimises `f` from `start`.
    public func minimize(_ f: ([Double]) -> Double, from start: [Double]) -> Result {
        var evaluations = 0
        func value(_ point: [Double]) -> Double {
            evaluations += 1
            let v = f(point.map { min(bound, max(-bound, $0)) })
            return v.isNaN ? .infinity : v
        }
        var best = search(value, from: start)
        for _ in 0..<restarts {
            let restarted = search(value, from: best.point)
            if restarted.value < best.value { best = restarted }
        }
        return Result(point: best.point, value: best.value, evaluations: evaluations)
    }

    func search(_ f: ([Double]) -> Double, from start: [Double]) -> (point: [Double], value: Double) {
        let n = start.count
        var simplex = [start]
        for axis in 0..<n {
            var vertex = start
            vertex[axis] += step
            simplex.append(vertex)
        }
        var values = simplex.map(f)
        var used = n + 1
        var steps = 0
        var (stallValue, stalledSince) = (Double.infinity, 0)
        while used < maxEvaluations {
            // Order the vertices, best first.
            let order = values.indices.sorted { values[$0] < values[$1] }
            simplex = order.map { simplex[$0] }
            values = order.map { values[$0] }
            let spread = values.last! - values[0]
            let size = simplex.dropFirst().map { vertex in zip(vertex, simplex[0]).map { abs($0 - $1) }.max() ?? 0 }.max() ?? 0
            if spread <= tolerance && size <= tolerance { break }
            // A likelihood that keeps rising towards a boundary (a parameter running off to infinity, as when the
            // data show no dropout) has a flat top: stop once the values no longer differ in their last digits, or
            // the best one stopped improving.
            if spread <= relativeTolerance * abs(values[0]) { break }
            steps += 1
            if values[0] < stallValue - 1e-12 * abs(stallValue) {
                (stallValue, stalledSince) = (values[0], steps)
            } else if steps - stalledSince >= stallSteps {
                break
            }

            let centroid = (0..<n).map { axis in simplex.dropLast().reduce(0) { $0 + $1[axis] } / Double(n) }
            func along(_ t: Double) -> [Double] { (0..<n).map { centroid[$0] + t * (simplex[n][$0] - centroid[$0]) } }
            let reflected = along(-1)
            let reflectedValue = f(reflected)
            used += 1
            if reflectedValue < values[0] {
                let expanded = along(-2)
                let expandedValue = f(expanded)
                used += 1
                (simplex[n], values[n]) = expandedValue < reflectedValue ? (expanded, expandedValue) : (reflected, reflectedValue)
            } else if reflectedValue < values[n - 1] {
                (simplex[n], values[n]) = (reflected, reflectedValue)
            } else {
                // Contract: outside when the reflection beat the worst vertex, inside otherwise.
                let outside = reflectedValue < values[n]
                let contracted = along(outside ? -0.5 : 0.5)
                let contractedValue = f(contracted)
                used += 1
                if contractedValue < (outside ? reflectedValue : values[n]) {
                    (simplex[n], values[n]) = (contracted, contractedValue)
                } else {
                    for i in 1...n {
                        simplex[i] = (0..<n).map { simplex[0][$0] + 0.5 * (simplex[i][$0] - simplex[0][$0]) }
                        values[i] = f(simplex[i])
                    }
                    used += n
                }
            }
        }
        let bestIndex = values.indices.min { values[$0] < values[$1] }!
        return (simplex[bestIndex].map { min(bound, max(-bound, $0)) }, values[bestIndex])
    }

    /// Above this many distinct histories (or customers), a fit starts from a sample's.
    public static let sampleThreshold = 40_000

    /// The maximum of a log-likelihood over the logarithms of `dimensions` parameters, each within e^±12 (data
    /// with no sign of dropout, or of differences between customers, push some towards infinity). Given a
    /// `sample`'s likelihood (many customers), the search first finds its maximum, then polishes on `all` the data
    /// from there with a small simplex, so the full likelihood is evaluated only near the optimum. The result's
    /// value is the negated maximum.
    static func maximumLikelihood(
        dimensions: Int, sample: (([Double]) -> Double)?, all: ([Double]) -> Double
    ) -> Result {
        var start = [Double](repeating: 0, count: dimensions)
        var search = NelderMead(bound: 12)
        var evaluations = 0
        if let sample {
            let rough = search.minimize({ -sample($0) }, from: start)
            (start, evaluations) = (rough.point, rough.evaluations)
            search = NelderMead(step: 0.05, relativeTolerance: 1e-12, bound: 12, restarts: 1, stallSteps: 30)
        }
        var result = search.minimize({ -all($0) }, from: start)
        result.evaluations += evaluations
        return result
    }
}
