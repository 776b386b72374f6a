public import Foundation
public import Logging
public import NudgeEngine
import NudgeLanguage
import NudgeStore
import Synchronization

/// One `nudge run`: plan and commit at `now`, then drain the outbox.
public struct Runner: Sendable {
    public var planner: Planner
    public var dispatcher: Dispatcher
    public var logger: Logger
    /// Makes outbox ids (injected for tests).
    public var newID: @Sendable () -> String
    /// How long `once` keeps draining after its first pass for retries that fall due meanwhile
    /// (`delivery.drain_window`); 0 leaves every retry to the next run.
    public var drainWindow: TimeInterval
    /// Waits for the given seconds before a retry falls due (injected for tests, whose clock it moves).
    public var sleep: @Sendable (TimeInterval) async throws -> Void = { seconds in
        try await Task.sleep(for: .milliseconds(Int((seconds * 1000).rounded(.up)) + 10))
    }

    public init(
        planner: Planner, dispatcher: Dispatcher, logger: Logger, newID: @escaping @Sendable () -> String,
        drainWindow: TimeInterval = 0
    ) {
        self.planner = planner
        self.dispatcher = dispatcher
        self.logger = logger
        self.newID = newID
        self.drainWindow = drainWindow
    }

    /// The result of one run.
    public struct Report: Sendable {
        public var committed: CommitSummary
        public var dispatched: DispatchSummary
        /// Seconds spent planning and committing.
        public var commitSeconds: Double
        /// Seconds spent delivering.
        public var deliverySeconds: Double
        /// What the adapters did after delivery (wallet passes' stamps), one report each.
        public var afterRun: [AfterRunReport] = []
    }

    /// Refits the customer model when it is due (a plan that does not read the model leaves the refit until its
    /// messages are out: call this after `once`, once its report is let go, so that the fit reuses the plan's
    /// memory); returns the seconds it took, nil when it was not due. A failure is logged, not thrown: the run's
    /// messages are out.
    public func refitIfDue(now: Date) async -> Double? {
        let started = ContinuousClock.now
        do {
            guard try await planner.refitIfDue(now: now) else { return nil }
            return Self.seconds(started.duration(to: .now))
        } catch {
            logger.error("customer model not refitted", metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// Commits the plan at `now` (ledger and outbox in one transaction), then delivers everything due.
    public func once(now: Date) async throws -> Report {
        let started = ContinuousClock.now
        let committed = try await planner.commit(now: now, createdAt: dispatcher.clock(), newID: newID)
        let planned = ContinuousClock.now
        logger.info(
            "plan committed",
            metadata: ["messages": "\(committed.pendingIDs.count)", "suppressed": "\(committed.suppressed)"])
        var dispatched = try await dispatcher.drain()
        // A retry due within the drain window (a 429 with a short Retry-After) is waited for and sent now, rather
        // than left to a run that may be a timer interval away.
        let deadline = dispatcher.clock().addingTimeInterval(drainWindow)
        while drainWindow > 0, let next = try await dispatcher.outbox.nextPendingAttempt(), next <= deadline {
            let wait = next.timeIntervalSince(dispatcher.clock())
            if wait > 0 {
                logger.info("waiting for retries", metadata: ["seconds": "\(Int(wait.rounded(.up)))"])
                try await sleep(wait)
            }
            let again = try await dispatcher.drain()
            // What is due but claimed by nobody here is held by an overlapping run: leave it to that run.
            if wait <= 0, again.delivered + again.failed + again.retrying == 0 { break }
            dispatched.delivered += again.delivered
            dispatched.failed += again.failed
            dispatched.recovered += again.recovered
            dispatched.retrying = again.retrying
        }
        let delivered = ContinuousClock.now
        // Then what the adapters keep in step with the store: a failure there leaves the run's messages out.
        var afterRun: [AfterRunReport] = []
        for adapter in dispatcher.afterRunAdapters {
            do {
                afterRun.append(try await adapter.afterRun(store: planner.store, now: now, logger: logger))
            } catch {
                logger.error("after-run work failed", metadata: ["error": "\(error)"])
            }
        }
        var report = Report(
            committed: committed, dispatched: dispatched, commitSeconds: Self.seconds(started.duration(to: planned)),
            deliverySeconds: Self.seconds(planned.duration(to: delivered)))
        report.afterRun = afterRun
        return report
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// Random ids: `msg_` and 32 hex digits (runner nonces, test sends).
    public static func randomID() -> String {
        var generator = SystemRandomNumberGenerator()
        return "msg_" + hex(generator.next()) + hex(generator.next())
    }

    /// 16 lowercase hex digits.
    public static func hex(_ value: UInt64) -> String {
        let digits = Array("0123456789abcdef".utf8)
        return String(unsafeUninitializedCapacity: 16) { buffer in
            for i in 0..<16 { buffer[i] = digits[Int((value >> UInt64(60 - 4 * i)) & 0xF)] }
            return 16
        }
    }
}

/// Outbox ids in the order they are made: `msg_` and 32 hex digits, the maker's start in milliseconds (12), 48 random
/// bits (12) and a count (8).
///
/// A run's ids rise with its plan, which is sorted by due time, as delivery claims it: the id index, the delivery
/// attempts and each batch's lookups by id are then written and read in key order. Random ids scattered a
/// broadcast's 100,000 messages over those indexes, a page read and written per message. Two makers starting in the
/// same millisecond differ in their random bits.
public final class OutboxIDs: Sendable {
    let prefix: String
    let made = Atomic<UInt32>(0)

    public init(startedAt: Date = Date()) {
        var generator = SystemRandomNumberGenerator()
        let millis = UInt64(max(0, startedAt.timeIntervalSince1970 * 1000)) & 0xFFFF_FFFF_FFFF
        let random = generator.next() & 0xFFFF_FFFF_FFFF
        prefix = "msg_" + Runner.hex(millis).suffix(12) + Runner.hex(random).suffix(12)
    }

    /// The next id.
    public func next() -> String {
        let count = made.add(1, ordering: .relaxed).newValue
        return prefix + Runner.hex(UInt64(count)).suffix(8)
    }
}
