/// The downhill simplex method of Nelder and Mead (1965): minimises a function of a few variables without
/// derivatives, with the usual coefficients (reflection 1, expansion 2, contraction ½, shrink ½).
///
/// The models are fitted on the logarithms of their parameters, so every point is valid and one step size suits
/// them all. A converged simplex is restarted once around its best point, the standard guard against a simplex
/// that collapsed before reaching the minimum.
public enum NelderMead {
    /// The minimum found: the point, the value there and how many times the function was called.
    public struct Result: Sendable {
        public var point: [Double]
        public var value: Double
        public var evaluations: Int
    }

    /// Minimises `f` from `start`, the first simplex stretching `step` along each axis. Stops when the values and
    /// the points of the simplex differ by at most `tolerance`, or after `maxEvaluations` calls.
    public static func minimize(
        _ f: ([Double]) -> Double, from start: [Double], step: Double = 0.5, tolerance: Double = 1e-10,
        maxEvaluations: Int = 20_000
    ) -> Result {
        var evaluations = 0
        func value(_ point: [Double]) -> Double {
            evaluations += 1
            let v = f(point)
            return v.isNaN ? .infinity : v
        }
        var best = search(value, from: start, step: step, tolerance: tolerance, budget: maxEvaluations)
        let restarted = search(value, from: best.point, step: step, tolerance: tolerance, budget: maxEvaluations)
        if restarted.value < best.value { best = restarted }
        return Result(point: best.point, value: best.value, evaluations: evaluations)
    }

    static func search(
        _ f: ([Double]) -> Double, from start: [Double], step: Double, tolerance: Double, budget: Int
    ) -> (point: [Double], value: Double) {
        let n = start.count
        var simplex = [start]
        for axis in 0..<n {
            var vertex = start
            vertex[axis] += step
            simplex.append(vertex)
        }
        var values = simplex.map(f)
        var used = n + 1
        while used < budget {
            // Order the vertices, best first.
            let order = values.indices.sorted { values[$0] < values[$1] }
            simplex = order.map { simplex[$0] }
            values = order.map { values[$0] }
            let spread = values.last! - values[0]
            let size = simplex.dropFirst().map { vertex in zip(vertex, simplex[0]).map { abs($0 - $1) }.max() ?? 0 }.max() ?? 0
            if spread <= tolerance && size <= tolerance { break }

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
        return (simplex[bestIndex], values[bestIndex])
    }
}
