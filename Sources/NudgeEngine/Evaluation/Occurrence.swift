public import Foundation
import NudgeLanguage
import NudgeStore
public import NudgeCore

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
    /// The offer announced (new_offer only).
    public var offer: OfferState?
    /// The journey step (0: the trigger's own; k: after k waits, key `KEY/k`).
    public var step = 0
    /// The variant the ledger recorded for the journey's earlier steps (follow-up steps only).
    public var recordedVariant: String?
}

extension Occurrence {
    /// The ledger's key of this occurrence.
    public var ledgerKey: LedgerKey { LedgerKey(workflowID: workflowID, customerID: customer.id, occurrence: key) }
}
