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
    static let clientEmail = FakeGoogleTokens.clientEmail
    static let keyID = FakeGoogleTokens.keyID
    /// The test service account's key, made once per test process (never a committed secret).
    static var key: _RSA.Signing.PrivateKey { FakeGoogleTokens.key }

    let server = LoopbackFake<Reply>(fallback: .sent)
    /// The token endpoint, for the FCM scope.
    let tokens: FakeGoogleTokens
    private struct State {
        var dead: Set<String> = []
        /// The accepted `message` objects, as JSON (kept as text: `Any` is not Sendable).
        var sent: [Data] = []
    }
    private let state = Mutex(State())

    init(now: @escaping @Sendable () -> Date = { Date() }) {
        tokens = FakeGoogleTokens(scope: "https://www.googleapis.com/auth/firebase.messaging", now: now)
    }

    /// The service-account key file of the test account, its token endpoint at `baseURL`.
    static func credentials(baseURL: String, key: _RSA.Signing.PrivateKey = FakeFCM.key) -> String {
        FakeGoogleTokens.credentials(baseURL: baseURL, projectID: projectID, key: key)
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
    func revokeTokens() { tokens.revoke() }
    /// Registration tokens FCM no longer knows.
    func markDead(_ token: String) { state.withLock { _ = $0.dead.insert(token) } }
    /// The lifetime of the access tokens issued from now on.
    func setExpiresIn(_ seconds: Int) { tokens.setExpiresIn(seconds) }
    /// Access tokens asked for.
    var tokenRequests: Int { tokens.requests }
    /// The `message` objects accepted, in order.
    var sent: [[String: Any]] { state.withLock { $0.sent }.compactMap(Self.object) }
    /// The claims of the assertions accepted.
    var assertions: [[String: Any]] { tokens.assertions }

    static func object(_ data: Data) -> [String: Any]? {
        try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    }

    private func handle(_ request: Request, _ text: String) async -> Response {
        let path = request.uri.path
        if path == "/token" { return tokens.token(request, text) }
        guard path == "/v1/projects/\(Self.projectID)/messages:send" else {
            return Self.googleError(404, "NOT_FOUND", "Requested entity was not found.")
        }
        guard tokens.accepts(request) else {
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
