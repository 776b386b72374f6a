import Foundation
import NudgeDelivery
import Testing

@Suite("Retry policy")
struct RetryPolicyTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var attempt: Int
        var jitter: Double
        var retryAfter: TimeInterval?
        var delay: TimeInterval
        var testDescription: String {
            "attempt \(attempt), jitter \(jitter), Retry-After \(retryAfter.map { "\($0)" } ?? "none") → \(delay) s"
        }
    }

    @Test(
        "delays double from the base delay up to the cap, jittered into [½·d, d]; a longer Retry-After wins",
        arguments: [
            Case(attempt: 1, jitter: 1, delay: 5),
            Case(attempt: 1, jitter: 0, delay: 2.5),
            Case(attempt: 1, jitter: 0.5, delay: 3.75),
            Case(attempt: 2, jitter: 1, delay: 10),
            Case(attempt: 3, jitter: 1, delay: 20),
            Case(attempt: 4, jitter: 0.5, delay: 30),
            Case(attempt: 10, jitter: 1, delay: 2560),
            Case(attempt: 11, jitter: 1, delay: 3600),
            Case(attempt: 11, jitter: 0, delay: 1800),
            Case(attempt: 1000, jitter: 1, delay: 3600),
            Case(attempt: Int.max, jitter: 1, delay: 3600),
            Case(attempt: 0, jitter: 1, delay: 5),
            Case(attempt: -3, jitter: 1, delay: 5),
            Case(attempt: 1, jitter: -1, delay: 2.5),
            Case(attempt: 1, jitter: 7, delay: 5),
            Case(attempt: 1, jitter: 1, retryAfter: 1, delay: 5),
            Case(attempt: 1, jitter: 1, retryAfter: 120, delay: 120),
            Case(attempt: 11, jitter: 1, retryAfter: 7200, delay: 7200),
            Case(attempt: 3, jitter: 0, retryAfter: 0, delay: 10),
        ])
    func table(_ c: Case) {
        let policy = RetryPolicy()
        #expect(policy.delay(afterAttempt: c.attempt, retryAfter: c.retryAfter, jitter: c.jitter) == c.delay)
    }

    @Test("every jitter keeps the delay between half and all of the exponential delay", arguments: 1...12)
    func jitterBounds(attempt: Int) {
        let policy = RetryPolicy(baseDelay: 2, maxDelay: 600)
        let full = min(600, 2 * pow(2, Double(attempt - 1)))
        for step in 0...20 {
            let delay = policy.delay(afterAttempt: attempt, retryAfter: nil, jitter: Double(step) / 20)
            #expect(delay >= full / 2 && delay <= full)
        }
    }

    @Test("the defaults give up after 8 attempts or a day")
    func defaults() {
        let policy = RetryPolicy()
        #expect(policy.maxAttempts == 8 && policy.maxAge == 86_400 && policy.baseDelay == 5 && policy.maxDelay == 3600)
    }
}

@Suite("Rate limiter")
struct RateLimiterTests {
    @Test(
        "parses a count per second, minute or hour",
        arguments: [
            ("50/s", 50.0), ("600/m", 10), ("3600/h", 1), ("1/m", 1.0 / 60), (" 5 / s ", 5), ("0.5/s", 0.5),
            ("1e3/s", 1000),
        ] as [(String, Double)])
    func parses(text: String, perSecond: Double) {
        #expect(RateLimiter.parse(text) == perSecond)
    }

    @Test(
        "rejects anything else",
        arguments: ["", "50", "50/", "/s", "50/d", "50/sec", "50/S", "0/s", "-1/s", "abc/s", "5/s/s", "inf/s", "nan/s", "50 per s"])
    func rejects(text: String) {
        #expect(RateLimiter.parse(text) == nil)
    }

    @Test("after its burst, acquisitions are spaced at the rate")
    func sustainedRate() async {
        let limiter = RateLimiter(perSecond: 100)
        // The bucket starts with 100 tokens; the next 20 take 0.2 s at 100/s.
        let start = ContinuousClock.now
        for _ in 0..<120 { await limiter.acquire() }
        let elapsed = ContinuousClock.now - start
        #expect(elapsed >= .milliseconds(180), "120 acquisitions at 100/s took \(elapsed)")
    }

    @Test("concurrent callers share the rate")
    func concurrentCallers() async {
        let limiter = RateLimiter(perSecond: 50)
        let start = ContinuousClock.now
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask { for _ in 0..<10 { await limiter.acquire() } }
            }
        }
        let elapsed = ContinuousClock.now - start
        // 80 acquisitions: a burst of 50, then 30 at 50/s.
        #expect(elapsed >= .milliseconds(550), "80 acquisitions at 50/s took \(elapsed)")
    }
}
