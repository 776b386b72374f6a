public import Foundation

/// Stamp progress on an offer, for milestone occurrences.
public struct ProgressState: Sendable, Hashable {
    public var offerID: String
    public var offerName: String?
    public var stampsRequired: Int
    public var stamps: Int
    public var rewardsEarned: Int
    public var updatedAt: Date

    public init(offerID: String, offerName: String?, stampsRequired: Int, stamps: Int, rewardsEarned: Int, updatedAt: Date) {
        self.offerID = offerID
        self.offerName = offerName
        self.stampsRequired = stampsRequired
        self.stamps = stamps
        self.rewardsEarned = rewardsEarned
        self.updatedAt = updatedAt
    }

    /// Percent of the card filled, capped at 100.
    public var percent: Double {
        min(100, Double(stamps) * 100 / Double(max(1, stampsRequired)))
    }

    /// Stamps still needed for the next reward.
    public var stampsRemaining: Int { max(0, stampsRequired - stamps) }
}
