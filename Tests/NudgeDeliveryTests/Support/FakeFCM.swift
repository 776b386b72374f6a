import AsyncHTTPClient
import CryptoExtras
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

/// Firebase Cloud Messaging (HTTP v1) and Google's OAuth 2 token endpoint on 127.0.0.1, for tests.
///
/// The token endpoint (`POST /token`) checks what Google checks: the JWT-bearer grant, an RS256 assertion whose
/// signature verifies against the test service account's public key (with this file's own RSA code, not the
/// client's), `kid` the key's id, `iss` the account, the FCM scope, `aud` the token URL, and a lifetime of at most an
/// hour around the fake's clock; it answers `invalid_grant` otherwise. `messages:send` checks the bearer token (one
/// it issued and has not revoked: 401 otherwise), the project, and the body: exactly one of token, topic and
/// condition, `data` values all strings. Tokens listed as dead get 404 UNREGISTERED; the others the scripted replies.
final class FakeFCM: Sendable {
    /// How to answer one valid send.
    enum Reply: Sendable, Hashable {
        case sent
        /// 400 INVALID_ARGUMENT about the registration token.
        case invalidToken
        /// 429 QUOTA_EXCEEDED, with `Retry-After` when given.
        case quotaExceeded(retryAfter: String?)
        /// 503 UNAVAILABLE.
        case unavailable
        /// 502 as Google's HTML page.
        case badGatewayHTML
    }

    static let projectID = "bean-there-app"
    static let clientEmail = "nudge-sender@bean-there-app.iam.gserviceaccount.com"
    static let keyID = "3b1f0c9d2e"
    /// The test service account's key, made once per test process (never a committed secret).
    static let key = try! _RSA.Signing.PrivateKey(keySize: .bits2048)

    let server = LoopbackFake<Reply>(fallback: .sent)
    /// The fake's "now" for the assertion's times.
    let now: @Sendable () -> Date
    private struct State {
        var issued: [String] = []
        var revoked: Set<String> = []
        var dead: Set<String> = []
        /// The accepted `message` objects and assertion claims, as JSON (kept as text: `Any` is not Sendable).
        var sent: [Data] = []
        var assertions: [Data] = []
        var tokenRequests = 0
        var expiresIn = 3599
    }
    private let state = Mutex(State())

    init(now: @escaping @Sendable () -> Date = { Date() }) {
        self.now = now
    }

    /// The service-account key file of the test account, its token endpoint at `baseURL`.
    static func credentials(baseURL: String, key: _RSA.Signing.PrivateKey = FakeFCM.key) -> String {
        let object: [String: Any] = [
            "type": "service_account", "project_id": projectID, "private_key_id": keyID,
            "private_key": key.pkcs8PEMRepresentation, "client_email": clientEmail,
            "client_id": "1234567890", "token_uri": "\(baseURL)/token",
        ]
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }

    /// Runs a fake for the duration of `body`, which gets the fake, its base URL and an HTTP client.
    static func with<T>(
        now: @escaping @Sendable () -> Date = { Date() }, _ body: (FakeFCM, String, HTTPClient) async throws -> T
    ) async throws -> T {
        let fake = FakeFCM(now: now)
        return try await fake.server.serve(
            post: "**", label: "fake-fcm", handler: { request, text, _ in await fake.handle(request, text) }
        ) { try await body(fake, $0, $1) }
    }

    /// Makes the tokens issued so far invalid (a revoked grant): the next sends get 401.
    func revokeTokens() { state.withLock { $0.revoked.formUnion($0.issued) } }
    /// Registration tokens FCM no longer knows.
    func markDead(_ token: String) { state.withLock { _ = $0.dead.insert(token) } }
    /// The lifetime of the access tokens issued from now on.
    func setExpiresIn(_ seconds: Int) { state.withLock { $0.expiresIn = seconds } }
    /// Access tokens asked for.
    var tokenRequests: Int { state.withLock { $0.tokenRequests } }
    /// The `message` objects accepted, in order.
    var sent: [[String: Any]] { state.withLock { $0.sent }.compactMap(Self.object) }
    /// The claims of the assertions accepted.
    var assertions: [[String: Any]] { state.withLock { $0.assertions }.compactMap(Self.object) }

    static func object(_ data: Data) -> [String: Any]? {
        try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    }

    private func handle(_ request: Request, _ text: String) async -> Response {
        let path = request.uri.path
        if path == "/token" { return token(request, text) }
        guard path == "/v1/projects/\(Self.projectID)/messages:send" else {
            return Self.googleError(404, "NOT_FOUND", "Requested entity was not found.")
        }
        let bearer = request.headers[.authorization].flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
        let valid = state.withLock { state in bearer.map { state.issued.contains($0) && !state.revoked.contains($0) } ?? false }
        guard valid else {
            return Self.googleError(
                401, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 access token.")
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
            let message = object["message"] as? [String: Any]
        else {
            return Self.googleError(400, "INVALID_ARGUMENT", "Invalid JSON payload received.")
        }
        let targets = ["token", "topic", "condition"].filter { message[$0] is String }
        guard targets.count == 1 else {
            return Self.googleError(400, "INVALID_ARGUMENT", "Exactly one of token, topic or condition must be set.")
        }
        if let data = message["data"] {
            guard let data = data as? [String: Any], data.values.allSatisfy({ $0 is String }) else {
                return Self.googleError(400, "INVALID_ARGUMENT", "Invalid value at 'message.data[0].value' (TYPE_STRING)")
            }
        }
        let token = message["token"] as? String ?? ""
        if state.withLock({ $0.dead.contains(token) }) {
            return Self.googleError(404, "NOT_FOUND", "Requested entity was not found.", fcmCode: "UNREGISTERED")
        }
        switch server.nextReply() {
        case .sent:
            let json = (try? JSONSerialization.data(withJSONObject: message)) ?? Data()
            let count = state.withLock { state in
                state.sent.append(json)
                return state.sent.count
            }
            return LoopbackFake<Reply>.response(.ok, #"{"name":"projects/\#(Self.projectID)/messages/0:\#(count)"}"#)
        case .invalidToken:
            return Self.googleError(
                400, "INVALID_ARGUMENT", "The registration token is not a valid FCM registration token",
                fcmCode: "INVALID_ARGUMENT")
        case .quotaExceeded(let retryAfter):
            return Self.googleError(
                429, "RESOURCE_EXHAUSTED", "Quota exceeded.", fcmCode: "QUOTA_EXCEEDED",
                headers: retryAfter.map { ["Retry-After": $0] } ?? [:])
        case .unavailable:
            return Self.googleError(503, "UNAVAILABLE", "The service is currently unavailable.", fcmCode: "UNAVAILABLE")
        case .badGatewayHTML:
            return LoopbackFake<Reply>.response(
                .badGateway, "<!DOCTYPE html><html><title>Error 502 (Server Error)!!1</title></html>", json: false)
        }
    }

    /// The token endpoint: checks the grant and its assertion.
    private func token(_ request: Request, _ text: String) -> Response {
        let form = FakeMailgun.Form(text)
        func refuse(_ description: String) -> Response {
            LoopbackFake<Reply>.response(
                .badRequest, #"{"error":"invalid_grant","error_description":"\#(description)"}"#)
        }
        guard request.headers[.contentType]?.hasPrefix("application/x-www-form-urlencoded") == true,
            form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer", let assertion = form["assertion"]
        else {
            return LoopbackFake<Reply>.response(
                .badRequest, #"{"error":"unsupported_grant_type","error_description":"Invalid grant_type"}"#)
        }
        let parts = assertion.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, let headerData = Self.base64URL(parts[0]), let claimsData = Self.base64URL(parts[1]),
            let signature = Self.base64URL(parts[2]),
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
            (claims["scope"] as? String)?.split(separator: " ").contains("https://www.googleapis.com/auth/firebase.messaging")
                == true,
            claims["aud"] as? String == tokenURL
        else { return refuse("Invalid JWT: iss, scope or aud is wrong.") }
        let clock = now().timeIntervalSince1970
        guard let iat = (claims["iat"] as? NSNumber)?.doubleValue, let exp = (claims["exp"] as? NSNumber)?.doubleValue,
            exp - iat <= 3600, exp > iat, abs(iat - clock) <= 300
        else {
            return refuse("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.")
        }
        let (token, expiresIn) = state.withLock { state in
            state.tokenRequests += 1
            state.assertions.append(claimsData)
            state.issued.append("ya29.fake-\(state.issued.count + 1)")
            return (state.issued[state.issued.count - 1], state.expiresIn)
        }
        return LoopbackFake<Reply>.response(
            .ok, #"{"access_token":"\#(token)","expires_in":\#(expiresIn),"token_type":"Bearer"}"#)
    }

    static func base64URL(_ text: String) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64)
    }

    /// Google's error JSON, with an FcmError detail when `fcmCode` is given.
    static func googleError(
        _ status: Int, _ name: String, _ message: String, fcmCode: String? = nil, headers: [String: String] = [:]
    ) -> Response {
        var error: [String: Any] = ["code": status, "message": message, "status": name]
        if let fcmCode {
            error["details"] = [["@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": fcmCode]]
        }
        let data = try! JSONSerialization.data(withJSONObject: ["error": error], options: [.sortedKeys])
        return LoopbackFake<Reply>.response(
            HTTPResponse.Status(code: status), String(decoding: data, as: UTF8.self), headers: headers)
    }
}
