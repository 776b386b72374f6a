import Foundation
import NudgeLanguage

/// A token bucket: at most `rate` acquisitions per second, bursts up to `rate`.
public actor RateLimiter {
    let rate: Double
    var tokens: Double
    var last: ContinuousClock.Instant
    let clock = ContinuousClock()

    /// A limiter of `perSecond` messages a second.
    public init(perSecond: Double) {
        rate = max(perSecond, 0.001)
        tokens = max(1, perSecond)
        last = clock.now
    }

    /// Parses `50/s`, `600/m` or `3600/h`.
    public static func parse(_ text: String) -> Double? {
        ChannelSetting.rate(text)
    }

    /// Waits until a token is available and takes it.
    public func acquire() async {
        while true {
            let now = clock.now
            let elapsed = last.duration(to: now)
            last = now
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            tokens = min(max(1, rate), tokens + seconds * rate)
            if tokens >= 1 {
                tokens -= 1
                return
            }
            let wait = (1 - tokens) / rate
            if Task.isCancelled { return }
            try? await Task.sleep(for: .milliseconds(Int(wait * 1000) + 1))
        }
    }
}
