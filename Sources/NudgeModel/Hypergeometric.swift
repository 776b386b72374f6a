/// Gauss's hypergeometric function ₂F₁(a, b; c; z) for 0 ≤ z < 1, summed as its power series
/// Σₖ (a)ₖ (b)ₖ / ((c)ₖ k!) zᵏ until a term no longer changes the sum (the BG/NBD expectations need it with
/// z = t / (α + T + t), well inside the circle of convergence).
public func hypergeometric2F1(_ a: Double, _ b: Double, _ c: Double, _ z: Double) -> Double {
    precondition(z >= 0 && z < 1, "the series converges for |z| < 1")
    var term = 1.0
    var sum = 1.0
    var k = 0.0
    while k < 100_000 {
        term *= (a + k) * (b + k) / ((c + k) * (k + 1)) * z
        sum += term
        k += 1
        if abs(term) <= 1e-16 * abs(sum) { break }
    }
    return sum
}
