import Crypto
import Foundation

/// Verifies Mailgun's webhook signature: hex HMAC-SHA256 of `timestamp + token` keyed with the webhook signing
/// key, compared in constant time. The signature does not cover `event-data`, so the receiver must also refuse a
/// token it has seen (see `ReplayGuard`) and a stale timestamp.
public struct MailgunSignature: Sendable {
    /// The key's bytes (`SymmetricKey` is not `Sendable`).
    private let key: Data

    /// The verifier for the domain's HTTP webhook signing key.
    public init(signingKey: String) {
        key = Data(signingKey.utf8)
    }

    /// Whether `signature` (hex) is the MAC of `timestamp + token`.
    public func isValid(timestamp: String, token: String, signature: String) -> Bool {
        guard let mac = HexText.data(signature), mac.count == SHA256.byteCount else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(
            mac, authenticating: Data((timestamp + token).utf8), using: SymmetricKey(data: key))
    }
}

/// Hexadecimal text of bytes.
enum HexText {
    /// The bytes of `text` (two hex digits each, either case), or nil.
    static func data(_ text: String) -> Data? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes = Data(capacity: digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = value(digits[index]), let low = value(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func value(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return digit - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
