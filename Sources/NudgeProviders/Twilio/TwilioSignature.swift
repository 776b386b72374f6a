import Crypto
import Foundation

/// Computes and verifies `X-Twilio-Signature`: base64 HMAC-SHA1, keyed with the auth token, of the full URL Twilio
/// called followed by every form parameter's name and value, sorted by name (then value).
public struct TwilioSignature: Sendable {
    /// The key's bytes (`SymmetricKey` is not `Sendable`).
    private let key: Data

    /// The verifier for the account's auth token.
    public init(authToken: String) {
        key = Data(authToken.utf8)
    }

    /// The signature Twilio sends for a form POST of `parameters` to `url`.
    public func signature(url: String, parameters: [(name: String, value: String)]) -> String {
        Data(
            HMAC<Insecure.SHA1>.authenticationCode(
                for: Self.message(url: url, parameters: parameters), using: SymmetricKey(data: key))
        )
        .base64EncodedString()
    }

    /// Whether `signature` signs `parameters` posted to `url`, or to `url` with its default port added or removed
    /// (Twilio is not consistent about `:443`). Compared in constant time.
    public func isValid(_ signature: String, url: String, parameters: [(name: String, value: String)]) -> Bool {
        guard let mac = Data(base64Encoded: signature), mac.count == Insecure.SHA1.byteCount else { return false }
        return Self.urlVariants(url).contains { variant in
            HMAC<Insecure.SHA1>.isValidAuthenticationCode(
                mac, authenticating: Self.message(url: variant, parameters: parameters), using: SymmetricKey(data: key))
        }
    }

    /// `url` followed by `name + value` of each distinct parameter, sorted by name then value (by code point, as
    /// Twilio's own validators sort).
    static func message(url: String, parameters: [(name: String, value: String)]) -> Data {
        var seen = Set<[String]>()
        let sorted = parameters.filter { seen.insert([$0.name, $0.value]).inserted }.sorted { lhs, rhs in
            lhs.name != rhs.name
                ? lhs.name.unicodeScalars.lexicographicallyPrecedes(rhs.name.unicodeScalars)
                : lhs.value.unicodeScalars.lexicographicallyPrecedes(rhs.value.unicodeScalars)
        }
        var text = url
        for parameter in sorted { text += parameter.name + parameter.value }
        return Data(text.utf8)
    }

    /// `url` as given, and with the scheme's default port (443 or 80) added when it has none or removed when it
    /// names it.
    static func urlVariants(_ url: String) -> [String] {
        guard let schemeEnd = url.range(of: "://") else { return [url] }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        guard let defaultPort = ["https": "443", "http": "80"][scheme] else { return [url] }
        let rest = url[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        let tail = rest[authorityEnd...]
        let prefix = String(url[..<schemeEnd.upperBound])
        // The port follows the last colon after any user info and any IPv6 literal's closing bracket.
        let hostStart = authority.lastIndex(of: "@").map(authority.index(after:)) ?? authority.startIndex
        let hostEnd = authority[hostStart...].lastIndex(of: "]") ?? hostStart
        if let colon = authority[hostEnd...].lastIndex(of: ":") {
            guard authority[authority.index(after: colon)...] == defaultPort else { return [url] }
            return [url, prefix + authority[..<colon] + String(tail)]
        }
        return [url, prefix + authority + ":" + defaultPort + String(tail)]
    }
}
