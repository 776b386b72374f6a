public import Foundation
import Synchronization

/// A clock that stands still until a test moves it; every test target shares this one.
public final class TestClock: Sendable {
    /// The instant tests start from unless they say otherwise: 2026-11-25T10:00:00Z (whole milliseconds, as the
    /// stores keep them).
    public static let defaultStart = Date(timeIntervalSince1970: 1_795_600_800)

    private let instant: Mutex<Date>

    public init(_ start: Date = TestClock.defaultStart) {
        instant = Mutex(start)
    }

    public var now: Date { instant.withLock { $0 } }

    public func advance(by seconds: TimeInterval) {
        instant.withLock { $0 = $0.addingTimeInterval(seconds) }
    }

    public func set(_ date: Date) {
        instant.withLock { $0 = date }
    }
}
