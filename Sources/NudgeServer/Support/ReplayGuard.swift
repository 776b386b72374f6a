public import Foundation

/// Remembers the signature tokens already accepted, so that a captured signed request cannot be sent again within
/// the timestamp tolerance (after which the timestamp check refuses it anyway). Kept in memory: a restart forgets.
public actor ReplayGuard {
    private var seen: [String: Date] = [:]
    private let window: TimeInterval

    /// A guard forgetting tokens whose timestamp is more than `window` seconds from the clock.
    public init(window: TimeInterval) {
        self.window = window
    }

    /// Claims `token` (signed at `timestamp`); false when it was claimed before.
    public func claim(_ token: String, timestamp: Date, now: Date) -> Bool {
        if seen.count >= 1024 { seen = seen.filter { abs(now.timeIntervalSince($0.value)) <= window } }
        guard seen[token] == nil else { return false }
        seen[token] = timestamp
        return true
    }

    /// Forgets `token`, so that the provider's retry of a request that failed on our side is accepted.
    public func release(_ token: String) {
        seen[token] = nil
    }
}
