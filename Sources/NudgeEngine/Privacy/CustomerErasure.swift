public import Foundation
public import NudgeStore

/// GDPR erasure (`nudge customers erase ID`): the customer's personal data leaves every table in one transaction;
/// the ledger, the outbox, delivery events and consent changes keep the keyed hash of the id.
public enum CustomerErasure {
    public enum Outcome: Sendable {
        /// The customer was erased: the rows changed, by table.
        case erased(pseudonym: String, rows: [(table: String, rows: Int)])
        /// The customer had been erased at that instant (rows holding the id since, if any, were changed now).
        case alreadyErased(pseudonym: String, at: Date, rows: [(table: String, rows: Int)])
        /// No customer has, or had, this id.
        case unknown
    }

    /// Erases customer `id` at `now` with the key earlier erasures used, else `key` (the environment's), else one
    /// made for this database and kept in it.
    public static func erase(id: String, store: any Store, key given: ErasureKey?, now: Date) async throws -> Outcome {
        let (key, newSecret) = try await ErasureKey.forErasure(given: given, store: store)
        let pseudonym = key.pseudonym(for: id)
        if try await store.customerExists(id) {
            let rows = try await store.erase(
                customerID: id, pseudonym: pseudonym, keyCheck: key.check, newKey: newSecret, at: now)
            return .erased(pseudonym: pseudonym, rows: rows)
        }
        guard let at = try await store.erasedAt(pseudonym: pseudonym) else { return .unknown }
        let rows = try await store.erase(customerID: id, pseudonym: pseudonym, keyCheck: key.check, newKey: newSecret, at: at)
        return .alreadyErased(pseudonym: pseudonym, at: at, rows: rows)
    }
}
