/// A customer's visit history as the models read it (Fader, Hardie & Lee 2005): visits on the same local date are
/// one transaction, their amounts summed; `x` counts the transactions after the first, `tx` is the time from the
/// first visit to the last and `T` from the first visit to the end of the observation, in weeks (exact elapsed
/// time ÷ 7 days).
public struct RepeatSummary: Sendable, Hashable {
    /// Repeat transactions: transactions after the first.
    public var x: Int
    /// Weeks from the first visit to the last.
    public var tx: Double
    /// Weeks from the first visit to the end of the observation.
    public var T: Double
    /// The mean amount of the repeat transactions (the first is left out); nil without repeats.
    public var repeatSpend: Double?

    public init(x: Int, tx: Double, T: Double, repeatSpend: Double? = nil) {
        self.x = x
        self.tx = tx
        self.T = T
        self.repeatSpend = repeatSpend
    }

    /// Seconds in a week.
    public static let week = 7 * 86_400.0

    /// One visit: when (seconds since any fixed epoch), on which local date (any whole-day count, such as days since
    /// 1970 in the customer's zone) and the money spent.
    public struct Visit: Sendable {
        public var at: Double
        public var day: Int
        public var amount: Double

        public init(at: Double, day: Int, amount: Double) {
            self.at = at
            self.day = day
            self.amount = amount
        }
    }

    /// The summary of `visits` (at or before `end`, in any order) observed until `end`; nil without visits.
    public init?(visits: [Visit], end: Double) {
        let seen = visits.filter { $0.at <= end }.sorted { $0.at < $1.at }
        guard let first = seen.first, let last = seen.last else { return nil }
        var totals: [(day: Int, amount: Double)] = []
        for visit in seen {
            // Sorted by time, so a visit's local date is the last transaction's or a later one.
            if totals.last?.day == visit.day {
                totals[totals.count - 1].amount += visit.amount
            } else {
                totals.append((visit.day, visit.amount))
            }
        }
        x = totals.count - 1
        tx = (last.at - first.at) / Self.week
        T = (end - first.at) / Self.week
        // Transactions in time order; the first (the day of the first visit) is not a repeat.
        let repeats = totals.dropFirst().map(\.amount)
        repeatSpend = repeats.isEmpty ? nil : repeats.reduce(0, +) / Double(repeats.count)
    }
}
