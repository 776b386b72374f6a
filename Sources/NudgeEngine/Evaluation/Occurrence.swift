public import Foundation
import GRDB
import NudgeLanguage
public import NudgeStore

/// Stamp progress on an offer, for milestone occurrences.
public struct ProgressState: Sendable, Hashable {
    public var offerID: String
    public var offerName: String?
    public var stampsRequired: Int
    public var stamps: Int
    public var rewardsEarned: Int
    public var updatedAt: Date

    /// Percent of the card filled, capped at 100.
    public var percent: Double {
        min(100, Double(stamps) * 100 / Double(max(1, stampsRequired)))
    }

    /// Stamps still needed for the next reward.
    public var stampsRemaining: Int { max(0, stampsRequired - stamps) }
}

extension ProgressState {
    /// Reads `offer_id, offer name, stamps_required, stamps, rewards_earned, updated_at` from the start of `row`.
    init(row: Row) {
        self.init(
            offerID: row[0], offerName: row[1], stampsRequired: row[2], stamps: row[3], rewardsEarned: row[4],
            updatedAt: StoredInstant.date(row[5]))
    }
}

/// One firing of a trigger for one customer: the unit the ledger records.
public struct Occurrence: Sendable {
    /// The workflow.
    public var workflowID: String
    /// The customer as stored.
    public var customer: CustomerState
    /// The occurrence key of design §5, e.g. `birthday:2026`.
    public var key: String
    /// When it fell due.
    public var due: Date
    /// The customer's time zone (their own, else the business zone), resolved once by the scan.
    public var zone: TimeZone
    /// The trigger parameter of this occurrence: inactivity days or milestone percent.
    public var parameter: Int?
    /// The offer progress (milestones only).
    public var progress: ProgressState?
}
