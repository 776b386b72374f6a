/// A small deterministic random number generator (SplitMix64), for synthetic data and replayable tests.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    /// The generator's state; the same seed gives the same sequence.
    public var state: UInt64

    /// A generator starting from `seed`.
    public init(state seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number in `range`.
    public mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.count))
    }

    /// A number in `0..<bound`.
    public mutating func int(_ bound: Int) -> Int {
        Int(next() % UInt64(bound))
    }

    /// True with probability `p`.
    public mutating func chance(_ p: Double) -> Bool {
        Double(next() % 1_000_000) / 1_000_000 < p
    }

    /// One of `items`.
    public mutating func pick<T>(_ items: [T]) -> T {
        items[int(items.count)]
    }
}
