public import Foundation
public import Logging
import Synchronization
import NudgeLanguage
public import NudgeStore
public import NudgeCore

/// When to retry a transient failure and when to give up.
public struct RetryPolicy: Sendable {
    /// Attempts before a message is marked failed.
    public var maxAttempts: Int
    /// Age (since the message was committed) after which it is marked failed instead of retried.
    public var maxAge: TimeInterval
    /// The first retry's delay; each retry doubles it, up to `maxDelay`.
    public var baseDelay: TimeInterval
    public var maxDelay: TimeInterval

    public init(maxAttempts: Int = 8, maxAge: TimeInterval = 86_400, baseDelay: TimeInterval = 5, maxDelay: TimeInterval = 3600) {
        self.maxAttempts = maxAttempts
        self.maxAge = maxAge
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// The delay before attempt `attempt + 1`: exponential with "full jitter" in [½·d, d], or the provider's
    /// `Retry-After` when it asks for longer.
    public func delay(afterAttempt attempt: Int, retryAfter: TimeInterval?, jitter: Double) -> TimeInterval {
        let exponential = min(maxDelay, baseDelay * pow(2, Double(min(max(0, attempt - 1), 60))))
        let jittered = exponential * (0.5 + 0.5 * min(max(jitter, 0), 1))
        // A provider's Retry-After is honoured up to 30 days (a larger or non-finite one is an error).
        let asked = retryAfter.flatMap { $0.isFinite && $0 > 0 ? min($0, 30 * 86_400) : nil } ?? 0
        return max(jittered, asked)
    }
}

/// Who holds a lease: this process, recognisable after a crash.
public struct LeaseOwner: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var pid: Int32
    public var nonce: String

    /// This process.
    public static func current(nonce: String) -> LeaseOwner {
        LeaseOwner(host: ProcessInfo.processInfo.hostName, pid: ProcessInfo.processInfo.processIdentifier, nonce: nonce)
    }

    public var description: String { "\(host)/\(pid)/\(nonce)" }

    /// Whether the owner written as `text` may still be running: false only for a process of this host that no
    /// longer exists (other hosts' leases are left to expire).
    public static func isAlive(_ text: String) -> Bool {
        let parts = text.split(separator: "/")
        guard parts.count == 3, let pid = Int32(parts[1]) else { return true }
        guard String(parts[0]) == ProcessInfo.processInfo.hostName else { return true }
        if pid == ProcessInfo.processInfo.processIdentifier { return true }
        return kill(pid, 0) == 0 || errno == EPERM
    }
}

/// What a drain did.
public struct DispatchSummary: Sendable, Hashable {
    public var delivered = 0
    public var retrying = 0
    public var failed = 0
    /// Messages whose earlier attempt had already reached the file before a crash.
    public var recovered = 0

    public init() {}
}

/// Drains the outbox: claims due messages under a lease, hands them to the channel adapters with bounded
/// concurrency, and records each outcome. Messages waiting for a retry do not block the others.
public struct Dispatcher: Sendable {
    /// The outbox (either store).
    public var outbox: any OutboxQueue
    public var adapters: [Channel: any ChannelAdapter]
    public var policy: RetryPolicy
    /// Per-channel policies (`max_attempts`, `max_age` in nudge.yaml); `policy` for the others.
    public var policies: [Channel: RetryPolicy] = [:]
    public var owner: LeaseOwner
    public var leaseSeconds: Double
    public var batchSize: Int
    public var logger: Logger
    /// The wall clock (injected for tests).
    public var clock: @Sendable () -> Date
    /// A number in [0, 1] for jitter (injected for tests).
    public var jitter: @Sendable () -> Double
    /// Hides secrets in failure reasons before they are logged or recorded.
    public var mask = SecretMask([])
    /// How many batches are claimed ahead of the one being delivered. Claimed messages are only leased, never
    /// sent ahead of their turn, so a run killed mid-way still leaves at most the batch it was sending to be sent
    /// again; the others go back when their leases are released.
    static let claimsAhead = 2

    public init(
        outbox: any OutboxQueue, adapters: [Channel: any ChannelAdapter], policy: RetryPolicy = RetryPolicy(),
        owner: LeaseOwner, leaseSeconds: Double = 300, batchSize: Int = 500, logger: Logger,
        clock: @escaping @Sendable () -> Date = { Date() }, jitter: @escaping @Sendable () -> Double = { Double.random(in: 0...1) }
    ) {
        self.outbox = outbox
        self.adapters = adapters
        self.policy = policy
        self.owner = owner
        self.leaseSeconds = leaseSeconds
        self.batchSize = batchSize
        self.logger = logger
        self.clock = clock
        self.jitter = jitter
    }

    /// Delivers every pending message that is due now; returns when none is left due.
    ///
    /// The next batches are claimed while one is delivered, so the store's work and the providers' overlap (a
    /// claim costs about as much as writing a batch to a file); a batch's outcomes are recorded before the next is
    /// sent, so a run killed mid-way leaves at most the batch it was sending to be sent again. Every claimed message,
    /// being sent or waiting its turn, keeps its lease renewed until its outcome is recorded.
    public func drain() async throws -> DispatchSummary {
        var summary = DispatchSummary()
        let released = try await outbox.releaseDeadLeases(isAlive: LeaseOwner.isAlive)
        if released > 0 { logger.notice("took over messages of a run that stopped", metadata: ["messages": "\(released)"]) }
        let held = HeldLeases()
        // A slow or rate-limited provider can take longer than the lease to get through a batch; renew the leases
        // while delivering, so that an overlapping run does not take these messages over and send them again.
        let renewal = Task { [outbox, owner, leaseSeconds, clock] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(max(0.05, leaseSeconds / 3)))
                let ids = held.ids
                if Task.isCancelled { break }
                guard !ids.isEmpty else { continue }
                _ = try? await outbox.renewLeases(
                    ids: ids, owner: owner.description, until: clock().addingTimeInterval(leaseSeconds))
            }
        }
        defer { renewal.cancel() }
        let claim = { @Sendable [outbox, owner, leaseSeconds, batchSize, clock] () async throws -> [OutboxMessage] in
            while true {
                let claimed = try await outbox.claimOutbox(
                    owner: owner.description, now: clock(), leaseSeconds: leaseSeconds, limit: batchSize)
                // A message this run is still delivering can be claimed again if its lease ran out before a renewal
                // reached it (a stalled process, a jump of the clock): the claim extended that lease, and the
                // delivery in flight records the outcome, so it is not taken a second time here. A batch of only
                // such messages says nothing about the ones after it: claim again.
                let taken = held.add(claimed.map(\.id))
                if taken.count == claimed.count { return claimed }
                let fresh = claimed.filter { taken.contains($0.id) }
                if !fresh.isEmpty { return fresh }
            }
        }
        // Claims run one after another, each as soon as the one before it is done, up to `claimsAhead` batches
        // ahead of the one being delivered: the writer sets the next leases while a batch is written to the
        // providers, and records its outcomes while the claim after it reads which messages are due.
        var ahead: [Task<[OutboxMessage], any Error>] = []
        func claimAfterLast() {
            let previous = ahead.last
            ahead.append(
                Task {
                    _ = try? await previous?.value
                    return try await claim()
                })
        }
        /// Gives back every batch claimed ahead, unsent and its attempt uncounted, when the run stops on `error`.
        func giveBack(_ error: any Error) async {
            for task in ahead {
                guard let batch = try? await task.value, !batch.isEmpty else { continue }
                let now = clock()
                try? await outbox.recordOutcomes(
                    batch.map { ($0, .postponed(at: now, reason: "claimed, then not sent: \(error)")) }, at: now)
            }
            ahead.removeAll()
        }
        claimAfterLast()
        while !ahead.isEmpty {
            let claimed: [OutboxMessage]
            do {
                claimed = try await ahead.removeFirst().value
            } catch {
                await giveBack(error)
                throw error
            }
            // An empty claim ends the drain once the claims already started have come back empty too.
            if claimed.isEmpty { continue }
            while ahead.count < Self.claimsAhead { claimAfterLast() }
            let outcomes = await deliver(claimed)
            for (_, outcome) in outcomes {
                switch outcome {
                case .delivered(let id):
                    summary.delivered += 1
                    if id == "already-written" { summary.recovered += 1 }
                case .retry, .postponed: summary.retrying += 1
                case .failed, .recipientGone: summary.failed += 1
                }
            }
            // The renewals stop before the outcomes are written: a lease has at least two thirds of its time left
            // then, and the two never lock the same rows at once.
            held.remove(claimed.map(\.id))
            do {
                try await outbox.recordOutcomes(outcomes, at: clock())
            } catch {
                // These messages stay leased and go to a later run as retries. The batches claimed ahead were not
                // sent: they are given back.
                await giveBack(error)
                throw error
            }
        }
        return summary
    }

    /// Sends one claimed batch, all channels at once, and decides each message's outcome.
    func deliver(_ claimed: [OutboxMessage]) async -> [(message: OutboxMessage, outcome: DeliveryOutcome)] {
        var byChannel: [Channel: [OutboxMessage]] = [:]
        var outcomes: [(message: OutboxMessage, outcome: DeliveryOutcome)] = []
        for message in claimed {
            guard let name = message.channel, let channel = Channel(rawValue: name), adapters[channel] != nil else {
                outcomes.append((message, .failed(reason: "channel '\(message.channel ?? "none")' is not configured")))
                continue
            }
            byChannel[channel, default: []].append(message)
        }
        let sentAt = clock()
        await withTaskGroup(of: [(message: OutboxMessage, outcome: DeliveryOutcome)].self) { group in
            for (channel, messages) in byChannel {
                guard let adapter = adapters[channel] else { continue }
                group.addTask {
                    let outbound = messages.map { OutboundMessage(record: $0, sentAt: sentAt) }
                    let results = await adapter.deliver(batch: outbound)
                    return zip(messages, results).map { message, result in
                        (message, self.outcome(of: result, for: message, channel: channel))
                    }
                }
            }
            for await part in group { outcomes += part }
        }
        return outcomes
    }

    func outcome(of result: Result<DeliveryReceipt, DeliveryError>, for message: OutboxMessage, channel: Channel)
        -> DeliveryOutcome
    {
        // Made only when a line is logged (the metadata is an autoclosure): a run delivers tens of thousands a second.
        var metadata: Logger.Metadata {
            [
                "outbox.id": "\(message.id)", "workflow.id": "\(message.workflowId)", "channel": "\(channel.rawValue)",
                "attempt": "\(message.attempts)",
            ]
        }
        switch result.mapError(mask.apply) {
        case .success(let receipt):
            logger.debug("delivered", metadata: metadata)
            return .delivered(providerMessageID: receipt.providerMessageID)
        case .failure(.permanent(let reason)):
            logger.warning("delivery failed: \(reason)", metadata: metadata)
            return .failed(reason: reason)
        case .failure(.deadRecipient(let reason)):
            logger.warning("delivery failed, the address is gone: \(reason)", metadata: metadata)
            return .recipientGone(reason: reason)
        case .failure(.postponed(let reason, let delay)):
            let now = clock()
            let policy = policies[channel] ?? self.policy
            if now.timeIntervalSince(StoredInstant.date(message.createdAt)) >= policy.maxAge {
                logger.warning("delivery failed, too old to send: \(reason)", metadata: metadata)
                return .failed(reason: "\(reason) (gave up: older than max_age)")
            }
            logger.debug("postponed: \(reason)", metadata: metadata)
            return .postponed(at: now.addingTimeInterval(delay), reason: reason)
        case .failure(.transient(let reason, let retryAfter)):
            let now = clock()
            let age = now.timeIntervalSince(StoredInstant.date(message.createdAt))
            let policy = policies[channel] ?? self.policy
            if message.attempts >= policy.maxAttempts || age >= policy.maxAge {
                logger.warning("delivery failed, out of retries: \(reason)", metadata: metadata)
                return .failed(reason: "\(reason) (gave up after \(message.attempts) attempts)")
            }
            let delay = policy.delay(afterAttempt: message.attempts, retryAfter: retryAfter, jitter: jitter())
            logger.notice("delivery will be retried in \(Int(delay.rounded())) s: \(reason)", metadata: metadata)
            return .retry(at: now.addingTimeInterval(delay), reason: reason)
        }
    }
}

/// The ids of the messages a dispatcher holds leases on: claimed, and not yet recorded.
final class HeldLeases: Sendable {
    private let state = Mutex<Set<String>>([])

    var ids: [String] { state.withLock { Array($0) } }

    /// Adds `ids`; returns those that were not held already.
    @discardableResult
    func add(_ ids: [String]) -> Set<String> {
        state.withLock { held in Set(ids.filter { held.insert($0).inserted }) }
    }

    func remove(_ ids: [String]) { state.withLock { $0.subtract(ids) } }
}
