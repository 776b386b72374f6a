public import Foundation
public import NudgeCore

// The store seam: what the engine, the dispatcher, the server and the commands ask of a database. Two stores
// implement it: `AppDatabase` (SQLite through GRDB) and `PostgresStore` (PostgreSQL through postgres-nio). No SQL
// lives outside them.

/// A query for the customers a trigger may fire for: each one an index range scan in either store.
public enum CandidateQuery: Sendable, Hashable {
    /// Customers in `zone` ("" = no zone of their own) whose birthday (`MM-DD`) is one of `monthDays`.
    case birthdays(zone: String, monthDays: [String])
    /// Customers in `zone` whose last activity is in `[from, until)`.
    case lastActivity(zone: String, from: Date, until: Date)
    /// Stamp cards updated in `(after, through]`, with their customer and offer; of one offer when given.
    case progress(after: Date, through: Date, offer: String?)
    /// Customers who signed up in `(after, through]`.
    case signups(after: Date, through: Date)
}

/// One row a candidate query found.
public struct Candidate: Sendable {
    public var customer: CustomerState
    /// The stamp card (progress queries only).
    public var progress: ProgressState?

    public init(customer: CustomerState, progress: ProgressState? = nil) {
        self.customer = customer
        self.progress = progress
    }
}


/// A number every customer row holds: `percent_rank(…)` of these reads one column instead of every customer.
public enum StoredNumber: String, Sendable, CaseIterable {
    case visitsTotal = "visits_total"
    case lifetimeValueCents = "lifetime_value_cents"
}

/// What a customer's wallet pass shows of their stamp card: the card's name and the stamps on it.
public struct WalletPoints: Sendable, Hashable {
    public var customerID: String
    public var passID: String
    /// The card's (offer's) name, the points' label.
    public var label: String
    public var stamps: Int

    public init(customerID: String, passID: String, label: String, stamps: Int) {
        self.customerID = customerID
        self.passID = passID
        self.label = label
        self.stamps = stamps
    }
}

/// A message a frequency cap counts: its channel and when it was (or will be) sent.
public struct CountedMessage: Sendable, Hashable {
    public var channel: String?
    public var at: Date

    public init(channel: String?, at: Date) {
        self.channel = channel
        self.at = at
    }
}

/// A template a workflow's journey step sent, and when it last did.
public struct StepSent: Sendable, Hashable {
    public var workflowID: String
    public var step: Int
    public var template: String
    public var lastAt: Date

    public init(workflowID: String, step: Int, template: String, lastAt: Date) {
        self.workflowID = workflowID
        self.step = step
        self.template = template
        self.lastAt = lastAt
    }
}

/// A journey's step as the ledger holds it, with its customer.
public struct JourneyStep: Sendable {
    public var customer: CustomerState
    public var occurrence: String
    public var due: Date
    public var variant: String?

    public init(customer: CustomerState, occurrence: String, due: Date, variant: String?) {
        self.customer = customer
        self.occurrence = occurrence
        self.due = due
        self.variant = variant
    }
}

/// What reads the engine makes while planning, and the one write that commits a plan.
public protocol PlanningStore: Sendable {
    /// The time-zone names in use ("" for customers without one), sorted.
    func zonesInUse() async throws -> [String]
    /// The rows `query` selects.
    func candidates(_ query: CandidateQuery) async throws -> [Candidate]
    /// Which of `keys` the ledger holds already.
    func ledgerHits(_ keys: [LedgerKey]) async throws -> Set<LedgerKey>
    /// The check values of the keys customers were erased with (empty when none was): while the ledger holds
    /// erased customers' keyed hashes, dedup needs that key to recognise them when they are imported again.
    func erasureKeyChecks() async throws -> Set<String>
    /// The keyed hashes of the customers erased (few: asked only once there are any).
    func erasedPseudonyms() async throws -> Set<String>
    /// The erasure key made for this database (when the first erasure found none in the environment), if any.
    func storedErasureKey() async throws -> String?
    /// For each customer of `customerIDs` with visits: the number of visits after each instant of `since`, in order.
    func visitCounts(customerIDs: [String], since: [Date]) async throws -> [String: [Int]]
    /// One customer, if stored.
    func customer(id: String) async throws -> CustomerState?
    /// Up to `limit` customers whose id sorts after `after` (from the first when nil), in id order: a sweep of
    /// every customer, a page at a time.
    func customerPage(after: String?, limit: Int) async throws -> [CustomerState]
    /// Up to `limit` customers with visits whose id sorts after `after` (from the first when nil), in id order, each
    /// with their time zone (nil for the business's): what a fit of the customer model sweeps, without reading
    /// whole customer rows.
    func visitorZones(after: String?, limit: Int) async throws -> [(id: String, zone: String?)]
    /// The value of `column` of every customer, in no particular order.
    func storedNumbers(_ column: StoredNumber) async throws -> [Int]
    /// For every customer with visits after the first instant of `since` (the earliest): the number of visits
    /// after each instant, in order.
    func visitCounts(since: [Date]) async throws -> [String: [Int]]
    /// The visits of the customers whose ids sort after `after` (from the first when nil) up to `through`, by
    /// customer and time: the visits of one page of a sweep.
    func visits(after: String?, through: String) async throws -> [VisitRecord]
    /// The visits of `customerIDs`, by customer and time.
    func visits(customerIDs: [String]) async throws -> [VisitRecord]
    /// How each of `customerIDs` answered the messages delivered since `since` (customers with none are absent).
    func messageResponses(customerIDs: [String], since: Date) async throws -> [String: MessageResponse]
    /// The stamp cards of `customerIDs`, by customer.
    func progress(customerIDs: [String]) async throws -> [String: [ProgressState]]
    /// The latest fit of the customer model, if any.
    func latestModelFit() async throws -> ModelFitRecord?
    /// Stores a fit of the customer model (the latest is the one used).
    func saveModelFit(_ fit: ModelFitRecord) async throws
    /// The recorded members of a segment: customer id → the local date (`YYYY-MM-DD`) a run first saw them in it.
    func segmentEntries(segment: String) async throws -> [String: String]
    /// Records a segment's members as a run found them: `entries` replaces what was recorded (those who left
    /// are dropped), in one transaction.
    func recordSegmentEntries(segment: String, entries: [String: String]) async throws
    /// A customer's stamp cards (of one offer when given).
    func progress(customerID: String, offer: String?) async throws -> [ProgressState]
    /// The marketing messages (category marketing, or none recorded) of each of `customerIDs` delivered or waiting to
    /// be sent at an instant after `after`: the chosen channel and that instant (delivery, or the next attempt).
    /// Frequency caps count them.
    func capCounted(customerIDs: [String], after: Date) async throws -> [String: [CountedMessage]]
    /// When each of `customerIDs` was (or is to be) sent messages on `channel` (of `platform` only, when given), of
    /// any category, delivered or waiting, at an instant after `after`, in order: what a provider's limit per
    /// recipient counts.
    func notifiedTimes(customerIDs: [String], channel: Channel, platform: String?, after: Date) async throws -> [String: [Date]]
    /// The wallet passes (of customers whose `wallet_platform` is `platform`, when given) whose card differs from
    /// what they were last set to show: each customer's card of `offer`, or their most recently updated card. By
    /// pass id.
    func walletPointsToSync(platform: String?, offer: String?) async throws -> [WalletPoints]
    /// Notes that these passes now show these points.
    func recordWalletPoints(_ points: [WalletPoints], at: Date) async throws
    /// The push tokens of the devices registered for each of `serials`, passes of `passTypeID` (those with none are
    /// left out).
    func passDevices(passTypeID: String, serials: [String]) async throws -> [String: [String]]
    /// The journeys of `workflowID` whose step `step` is in the ledger, due in `(dueAfter, dueThrough]`: the
    /// customer as stored now, the step's occurrence key, when it fell due and the variant recorded.
    func journeySteps(workflowID: String, step: Int, dueAfter: Date, dueThrough: Date) async throws -> [JourneyStep]
    /// Which templates each workflow's journey steps sent (or suppressed) after `since`, and when last: what
    /// journeys in flight have had.
    func stepsSent(since: Date) async throws -> [StepSent]
    /// The offers published in `(after, through]`, by publication time then id.
    func publishedOffers(after: Date, through: Date) async throws -> [OfferState]
    /// Runs `body` while no other planner on this database runs (a file lock for SQLite, an advisory lock for
    /// PostgreSQL), so that a second run plans after the first committed and finds its occurrences in the ledger.
    func withPlanningLock<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T
    /// In one transaction: records each message's occurrence in the ledger (committed at the message's
    /// `createdAt`) and puts the messages of the occurrences it recorded in the outbox, pending or suppressed as
    /// they are. An occurrence the ledger already holds (another runner committed it first) is skipped with its
    /// messages; returns the ids of the messages committed.
    func commit(_ messages: [OutboxMessage]) async throws -> Set<String>
}

/// The outbox as the dispatcher drains it: claims under leases, renewals, outcomes.
public protocol OutboxQueue: Sendable {
    /// Clears the leases held by owners that `isAlive` says are gone; returns how many messages it freed.
    func releaseDeadLeases(isAlive: (String) -> Bool) async throws -> Int
    /// Claims up to `limit` pending messages due at `now` whose lease is free or expired (never one another
    /// dispatcher holds), counting the attempt; suppresses those whose customer opted out since the plan.
    func claimOutbox(owner: String, now: Date, leaseSeconds: Double, limit: Int) async throws -> [OutboxMessage]
    /// Extends `owner`'s leases on `ids` to `until`; returns how many it extended.
    @discardableResult
    func renewLeases(ids: [String], owner: String, until: Date) async throws -> Int
    /// Records the outcomes of claimed messages and releases their leases, in one transaction.
    func recordOutcomes(_ outcomes: [(message: OutboxMessage, outcome: DeliveryOutcome)], at now: Date) async throws
    /// The earliest next attempt of a pending message, if any.
    func nextPendingAttempt() async throws -> Date?
}

/// What `history`, `status` and `serve` read and record.
public protocol EventStore: Sendable {
    /// A customer's messages, newest first, with their attempts.
    func history(customerID: String) async throws -> [(message: OutboxMessage, attempts: [DeliveryAttempt])]
    /// Whether a customer with this id exists.
    func customerExists(_ id: String) async throws -> Bool
    /// Outbox counts by channel and state.
    func outboxSummary() async throws -> [OutboxSummaryRow]
    /// For each workflow with messages delivered in `(earliest of after, through]`: how many were delivered after
    /// each instant of `after` (and by `through`), in order.
    func deliveredCounts(after: [Date], through: Date) async throws -> [String: [Int]]
    /// Records a provider's event once (false when its id was seen already) with the consent changes it causes.
    func record(_ event: DeliveryEvent, consent: [ConsentChange], receivedAt: Date) async throws -> Bool
    /// The customers with this phone number.
    func customerIDs(phone: String) async throws -> [String]
    /// A customer's delivery events, newest first.
    func deliveryEvents(customerID: String) async throws -> [DeliveryEvent]
    /// A customer's consent changes, newest first.
    func consentChanges(customerID: String) async throws -> [(change: ConsentChange, at: Date)]
}

/// An occurrence the ledger holds for a customer.
public struct LedgerEntry: Sendable, Hashable {
    public var workflowID: String
    public var occurrence: String
    public var committedAt: Date

    public init(workflowID: String, occurrence: String, committedAt: Date) {
        self.workflowID = workflowID
        self.occurrence = occurrence
        self.committedAt = committedAt
    }
}

/// What `nudge customers export` reads and `nudge customers erase` changes (GDPR access and erasure).
public protocol PrivacyStore: Sendable {
    /// The occurrences the ledger holds for a customer, oldest first.
    func ledgerEntries(customerID: String) async throws -> [LedgerEntry]
    /// The segments a run recorded a customer in (for `segment: { enter: }` triggers), with the local date of entry.
    func segmentEntries(customerID: String) async throws -> [(segment: String, enteredOn: String)]
    /// When the customer whose keyed hash is `pseudonym` was erased, if they were.
    func erasedAt(pseudonym: String) async throws -> Date?
    /// In one transaction: deletes the customer's profile, visits, stamp cards and segment entries; in the ledger,
    /// the outbox, delivery events and consent changes puts `pseudonym` in place of the id; clears the outbox's
    /// addresses and rendered text, the attempts' provider details and the events' payloads; records the erasure
    /// with `keyCheck`, and `newKey` as this database's erasure key when given. Returns the rows changed, by table
    /// (only tables with changes).
    func erase(
        customerID: String, pseudonym: String, keyCheck: String, newKey: String?, at: Date
    ) async throws -> [(table: String, rows: Int)]
}

/// CSV imports (design §4): a file is upserted whole or, with any bad row, not at all.
public protocol ImportStore: Sendable {
    func importCSV(_ kind: ImportKind, path: String, options: ImportOptions) async throws -> ImportSummary
    /// Replaces the customers, visits, offers and stamp progress, and the ledger and outbox made of them, with
    /// `DemoData`'s synthetic customers placed around `now` (`nudge demo`).
    func replaceWithDemo(customers: Int, now: Date) async throws
    /// Gives customer `customerID` the wallet pass `passID` (and `platform` as their `wallet_platform`, when they
    /// have none) unless they have a pass already; returns the pass they have now, nil when there is no such
    /// customer.
    func assignWalletPass(customerID: String, passID: String, platform: String?) async throws -> String?
}

/// Everything a command needs of a database.
public typealias Store = PlanningStore & OutboxQueue & EventStore & ImportStore & PrivacyStore & PassStore
