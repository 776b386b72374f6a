import Foundation
import Crypto
import NudgeStore

/// The key of the keyed hash (HMAC-SHA256) that stands for an erased customer's id in the ledger, the outbox and
/// the event log: the ledger still knows which occurrences fired for that customer, so importing the same id again
/// never sends one twice, while the id itself is gone. The key is the environment's (`NUDGE_ERASURE_KEY`), kept
/// out of the database; without one, the first erasure makes a random key and keeps it in the database.
public struct ErasureKey: Sendable {
    /// The environment variable holding the key.
    public static let variable = "NUDGE_ERASURE_KEY"
    /// The fewest characters a key may have.
    public static let minimumLength = 16
    /// What an erased customer's id becomes: this prefix and 32 hex digits.
    public static let prefix = "erased:"

    let secret: Data

    public init(secret: String) {
        self.secret = Data(secret.utf8)
    }

    var key: SymmetricKey { SymmetricKey(data: secret) }

    /// The key in `environment`: nil when unset or empty; a usage problem when too short.
    public init?(environment: [String: String]) throws {
        guard let secret = environment[Self.variable], !secret.isEmpty else { return nil }
        guard secret.count >= Self.minimumLength else { throw Problem.tooShort }
        self.init(secret: secret)
    }

    /// The keyed hash standing for `customerID`: `erased:` and the first 128 bits of its HMAC, in hex.
    public func pseudonym(for customerID: String) -> String {
        Self.prefix + Self.hex(HMAC<SHA256>.authenticationCode(for: Data(customerID.utf8), using: key).prefix(16))
    }

    /// A value the database keeps to tell whether a later key is the one customers were erased with.
    public var check: String {
        Self.hex(HMAC<SHA256>.authenticationCode(for: Data("nudge erasure key check".utf8), using: key).prefix(16))
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Why a key cannot be used, or why planning cannot go on without one.
    public enum Problem: Error, CustomStringConvertible, Equatable {
        case tooShort
        /// Customers were erased, and the environment has no key.
        case missing
        /// The environment's key is not the one customers were erased with.
        case mismatch

        public var description: String {
            switch self {
            case .tooShort:
                return "\(ErasureKey.variable) must hold at least \(ErasureKey.minimumLength) characters"
            case .missing:
                return "customers were erased from this database with the key in \(ErasureKey.variable): set it again, "
                    + "so that the ledger recognises them if they are imported again"
            case .mismatch:
                return "\(ErasureKey.variable) is not the key customers were erased with from this database"
            }
        }
    }
}

extension ErasureKey {
    /// The key the erasures with `checks` (not empty) were made with: `given` (the environment's) or the database's
    /// own, whichever matches.
    static func inUse(checks: Set<String>, given: ErasureKey?, store: any PlanningStore) async throws -> ErasureKey {
        let stored = try await store.storedErasureKey().map(ErasureKey.init(secret:))
        for key in [given, stored].compactMap({ $0 }) where checks == [key.check] { return key }
        throw given == nil ? Problem.missing : Problem.mismatch
    }

    /// The key a new erasure uses: the one earlier erasures used; else `given`; else the database's own, made now
    /// when there is none (`newSecret`, for the erasure to store in its transaction).
    static func forErasure(given: ErasureKey?, store: any PlanningStore) async throws -> (key: ErasureKey, newSecret: String?) {
        let checks = try await store.erasureKeyChecks()
        if !checks.isEmpty { return (try await inUse(checks: checks, given: given, store: store), nil) }
        if let given { return (given, nil) }
        if let stored = try await store.storedErasureKey() { return (ErasureKey(secret: stored), nil) }
        var generator = SystemRandomNumberGenerator()
        let secret = hex((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
        return (ErasureKey(secret: secret), secret)
    }
}
