import Crypto
import Foundation
public import NudgeLanguage

/// Unsubscribe links: `PUBLIC_URL/unsubscribe/TOKEN`, the token naming the customer and signed with a key from the
/// environment (HMAC-SHA256), so that `nudge serve` honours only links it made.
public struct UnsubscribeLinks: Sendable {
    /// `serve.public_url`, without a trailing slash.
    public var baseURL: String
    /// The signing key; nil when the environment lacks it (dry-run then shows unsigned links, `run` refuses).
    let key: Data?

    /// The name of the template variable holding the link in email templates.
    public static let variable = "unsubscribe_url"

    public init(baseURL: String, secret: String?) {
        var url = baseURL
        while url.hasSuffix("/") { url.removeLast() }
        self.baseURL = url
        self.key = secret.flatMap { $0.isEmpty ? nil : Data($0.utf8) }
    }

    /// Links for `config` (`serve.public_url` and `serve.unsubscribe_secret_env`), nil without a public URL.
    public init?(config: ProjectConfig, environment: [String: String]) {
        guard let serve = config.serve, let url = serve.publicURL else { return nil }
        self.init(baseURL: url, secret: serve.unsubscribeSecretEnv.flatMap { environment[$0] })
    }

    /// Whether links are signed (the secret is in the environment).
    public var isSigned: Bool { key != nil }

    /// The customer's unsubscribe link.
    public func url(customerID: String) -> String {
        "\(baseURL)/unsubscribe/\(token(customerID: customerID))"
    }

    /// `base64url(customer id).base64url(HMAC)`; `.unsigned` in place of the MAC without a key.
    public func token(customerID: String) -> String {
        let id = Self.base64URL(Data(customerID.utf8))
        guard let key else { return id + ".unsigned" }
        return id + "." + Self.base64URL(Data(Self.mac(customerID: customerID, key: key)))
    }

    /// The customer a token names, when its signature holds (constant-time comparison).
    public func customerID(fromToken token: String) -> String? {
        guard let key else { return nil }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let idData = Self.data(base64URL: String(parts[0])),
            let customerID = String(data: idData, encoding: .utf8), let mac = Self.data(base64URL: String(parts[1]))
        else { return nil }
        return HMAC<SHA256>.isValidAuthenticationCode(
            mac, authenticating: Self.signed(customerID), using: SymmetricKey(data: key)) ? customerID : nil
    }

    static func mac(customerID: String, key: Data) -> HMAC<SHA256>.MAC {
        HMAC<SHA256>.authenticationCode(for: signed(customerID), using: SymmetricKey(data: key))
    }

    /// What a token's MAC signs: the purpose, a version and the customer id.
    static func signed(_ customerID: String) -> Data {
        Data("nudge-unsubscribe:v1:\(customerID)".utf8)
    }

    /// Base64 with the URL alphabet (`-` and `_`) and no padding, mapped byte by byte (an email broadcast makes a
    /// link per message).
    static func base64URL(_ data: Data) -> String {
        var bytes: [UInt8] = []
        for byte in data.base64EncodedString().utf8 {
            switch byte {
            case UInt8(ascii: "+"): bytes.append(UInt8(ascii: "-"))
            case UInt8(ascii: "/"): bytes.append(UInt8(ascii: "_"))
            case UInt8(ascii: "="): continue
            default: bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func data(base64URL text: String) -> Data? {
        guard text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else { return nil }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64)
    }
}
