public import Foundation
import Synchronization

/// The local dates of many instants in one zone.
///
/// `TimeZone.localDate(of:)` asks ICU for the offset of every instant, which is most of the cost of dating a
/// million visits; here the zone's offsets are kept as a table of the spans between its transitions (1970 to 2100,
/// daylight-saving changes and, found by checking every month, changes of standard time too), searched by bisection.
/// Instants outside the table are dated by the zone itself.
public struct LocalDays: Sendable {
    public let zone: TimeZone
    /// The start of each span (the first is the table's start) and the offset that holds from it.
    let starts: [Double]
    let offsets: [Int]
    let end: Double

    public init(_ zone: TimeZone) {
        self.zone = zone
        let first = 0.0  // 1970-01-01
        let last = 4_102_444_800.0  // 2100-01-01
        var starts = [first]
        var offsets = [zone.secondsFromGMT(for: Date(timeIntervalSince1970: first))]
        var at = Date(timeIntervalSince1970: first)
        while let next = zone.nextDaylightSavingTimeTransition(after: at), next.timeIntervalSince1970 < last {
            starts.append(next.timeIntervalSince1970)
            offsets.append(zone.secondsFromGMT(for: next))
            at = next
        }
        // Changes of standard time are not daylight-saving transitions: check the table every 30 days and bisect to
        // the second where it disagrees with the zone.
        var month = first
        var index = 0
        while month < last {
            let next = min(last, month + 30 * 86_400)
            while index + 1 < starts.count, starts[index + 1] <= next { index += 1 }
            let actual = zone.secondsFromGMT(for: Date(timeIntervalSince1970: next))
            if actual != offsets[index] {
                var (low, high) = (max(month, starts[index]), next)
                while high - low > 1 {
                    let middle = ((low + high) / 2).rounded(.down)
                    if zone.secondsFromGMT(for: Date(timeIntervalSince1970: middle)) == offsets[index] {
                        low = middle
                    } else {
                        high = middle
                    }
                }
                starts.insert(high, at: index + 1)
                offsets.insert(zone.secondsFromGMT(for: Date(timeIntervalSince1970: high)), at: index + 1)
                continue  // check this month again against the corrected table
            }
            month = next
        }
        self.starts = starts
        self.offsets = offsets
        self.end = last
    }

    /// The table of `zone`, made once per process (making one asks the zone for 130 years of offsets).
    public static func shared(_ zone: TimeZone) -> LocalDays {
        if let known = tables.withLock({ $0[zone.identifier] }) { return known }
        let table = LocalDays(zone)
        tables.withLock { $0[zone.identifier] = table }
        return table
    }

    private static let tables = Mutex<[String: LocalDays]>([:])

    /// The zone's offset from UTC at `t` (seconds since 1970).
    func offset(at t: Double) -> Int {
        var (low, high) = (0, starts.count - 1)
        while low < high {
            let middle = (low + high + 1) / 2
            if starts[middle] <= t { low = middle } else { high = middle - 1 }
        }
        return offsets[low]
    }

    /// Days since 1970-01-01 of the local date of `instant`.
    public func daysSinceEpoch(of instant: Date) -> Int {
        let t = instant.timeIntervalSince1970
        guard t >= starts[0], t < end else { return zone.localDate(of: instant).daysSinceEpoch }
        let seconds = Int(t.rounded(.down)) + offset(at: t)
        return TimeZone.floorDiv(seconds, 86_400)
    }
}
