import CryptoExtras
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

/// Google's OAuth 2 token endpoint for a test service account (`POST /token` of a fake), for one API's scope.
///
/// It checks what Google checks: the JWT-bearer grant, an RS256 assertion whose signature verifies against the test
/// account's public key (with this file's own RSA code, not the client's), `kid` the key's id, `iss` the account,
/// the scope, `aud` the token URL, and a lifetime of at most an hour around the fake's clock; it answers
/// `invalid_grant` otherwise. The API's fake asks `accepts` whether a request's bearer token is one it issued and
/// has not revoked.
final class FakeGoogleTokens: Sendable {
    static let clientEmail = "nudge-sender@bean-there-app.iam.gserviceaccount.com"
    static let keyID = "3b1f0c9d2e"
    /// The test service account's key, made once per test process (never a committed secret).
    static let key = try! _RSA.Signing.PrivateKey(keySize: .bits2048)

    /// The scope the assertions must ask for.
    let scope: String
    /// The fake's "now" for the assertion's times.
    let now: @Sendable () -> Date
    private struct State {
        var issued: [String] = []
        var revoked: Set<String> = []
        /// The assertion claims accepted, as JSON (kept as text: `Any` is not Sendable).
        var assertions: [Data] = []
        var requests = 0
        var expiresIn = 3599
    }
    private let state = Mutex(State())

    init(scope: String, now: @escaping @Sendable () -> Date) {
        self.scope = scope
        self.now = now
    }

    /// The service-account key file of the test account, its token endpoint at `baseURL`.
    static func credentials(baseURL: String, projectID: String, key: _RSA.Signing.PrivateKey = FakeGoogleTokens.key) -> String {
        let object: [String: Any] = [
            "type": "service_account", "project_id": projectID, "private_key_id": keyID,
            "private_key": key.pkcs8PEMRepresentation, "client_email": clientEmail,
            "client_id": "1234567890", "token_uri": "\(baseURL)/token",
        ]
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }

    /// Makes the tokens issued so far invalid (a revoked grant).
    func revoke() { state.withLock { $0.revoked.formUnion($0.issued) } }
    /// The lifetime of the access tokens issued from now on.
    func setExpiresIn(_ seconds: Int) { state.withLock { $0.expiresIn = seconds } }
    /// Access tokens asked for.
    var requests: Int { state.withLock { $0.requests } }
    /// The claims of the assertions accepted.
    var assertions: [[String: Any]] { state.withLock { $0.assertions }.compactMap(FakeFCM.object) }

    /// Whether `request` carries a bearer token issued here and not revoked.
    func accepts(_ request: Request) -> Bool {
        let bearer = request.headers[.authorization].flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
        return state.withLock { state in bearer.map { state.issued.contains($0) && !state.revoked.contains($0) } ?? false }
    }

    /// The token endpoint: checks the grant and its assertion.
    func token(_ request: Request, _ text: String) -> Response {
        let form = FakeMailgun.Form(text)
        func refuse(_ description: String) -> Response {
            LoopbackFake<Never>.response(
                .badRequest, #"{"error":"invalid_grant","error_description":"\#(description)"}"#)
        }
        guard request.headers[.contentType]?.hasPrefix("application/x-www-form-urlencoded") == true,
            form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer", let assertion = form["assertion"]
        else {
            return LoopbackFake<Never>.response(
                .badRequest, #"{"error":"unsupported_grant_type","error_description":"Invalid grant_type"}"#)
        }
        let parts = assertion.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, let headerData = FakeFCM.base64URL(parts[0]), let claimsData = FakeFCM.base64URL(parts[1]),
            let signature = FakeFCM.base64URL(parts[2]),
            let header = try? JSONSerialization.jsonObject(with: headerData) as? [String: Any],
            let claims = try? JSONSerialization.jsonObject(with: claimsData) as? [String: Any]
        else { return refuse("Invalid JWT.") }
        let signed = Data("\(parts[0]).\(parts[1])".utf8)
        guard header["alg"] as? String == "RS256",
            Self.key.publicKey.isValidSignature(
                _RSA.Signing.RSASignature(rawRepresentation: signature), for: signed, padding: .insecurePKCS1v1_5)
        else { return refuse("Invalid JWT Signature.") }
        guard header["kid"] as? String == Self.keyID else { return refuse("Invalid JWT: the key id is not the account's.") }
        let tokenURL = "http://\(request.head.authority ?? "")/token"
        guard claims["iss"] as? String == Self.clientEmail,
            (claims["scope"] as? String)?.split(separator: " ").contains(Substring(scope)) == true,
            claims["aud"] as? String == tokenURL
        else { return refuse("Invalid JWT: iss, scope or aud is wrong.") }
        let clock = now().timeIntervalSince1970
        guard let iat = (claims["iat"] as? NSNumber)?.doubleValue, let exp = (claims["exp"] as? NSNumber)?.doubleValue,
            exp - iat <= 3600, exp > iat, abs(iat - clock) <= 300
        else {
            return refuse("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.")
        }
        let (token, expiresIn) = state.withLock { state in
            state.requests += 1
            state.assertions.append(claimsData)
            state.issued.append("ya29.fake-\(state.issued.count + 1)")
            return (state.issued[state.issued.count - 1], state.expiresIn)
        }
        return LoopbackFake<Never>.response(
            .ok, #"{"access_token":"\#(token)","expires_in":\#(expiresIn),"token_type":"Bearer"}"#)
    }

}
