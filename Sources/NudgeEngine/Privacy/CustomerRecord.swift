public import Foundation
public import NudgeCore
public import NudgeStore

/// Everything held about one customer (`nudge customers export ID`, GDPR access): the profile with every message
/// and event, the visits, the ledger, the segments a run recorded them in and the devices holding their pass.
public struct CustomerRecord: Sendable {
    public var profile: CustomerProfile
    public var visits: [VisitRecord]
    public var ledger: [LedgerEntry]
    public var segmentEntries: [(segment: String, enteredOn: String)]
    /// The devices that registered the customer's Apple Wallet pass.
    public var passRegistrations: [PassRegistration]

    /// The record of customer `id` at `now`; nil when there is no such customer.
    public static func load(id: String, project: Project, store: any Store, now: Date) async throws -> CustomerRecord? {
        guard
            let profile = try await CustomerProfile.load(id: id, project: project, store: store, now: now, limit: .max)
        else { return nil }
        return CustomerRecord(
            profile: profile, visits: try await store.visits(customerIDs: [id]),
            ledger: try await store.ledgerEntries(customerID: id),
            segmentEntries: try await store.segmentEntries(customerID: id),
            passRegistrations: try await store.passRegistrations(customerID: id))
    }
}
