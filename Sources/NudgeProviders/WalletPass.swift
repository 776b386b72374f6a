import Crypto
import Foundation

/// Wallet passes of either kind.
public enum WalletPass {
    /// A new pass's id (Google's object id suffix, Apple's serial number) for customer `customerID`: the id itself
    /// when it is letters, digits, '.', '_' and '-' (what Google takes), else `c-` and 20 hex digits of its SHA-256.
    public static func newID(for customerID: String) -> String {
        if GoogleWalletAdapter.isIdentifier(customerID) { return customerID }
        return "c-" + SHA256.hash(data: Data(customerID.utf8)).map { String(format: "%02x", $0) }.joined().prefix(20)
    }
}
