import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

/// The Google Wallet API's loyalty objects on 127.0.0.1, with Google's token endpoint, for tests.
///
/// It checks what Google checks: a bearer token its token endpoint issued for the wallet scope (401 otherwise),
/// resource ids `{issuer}.{identifier}` of the test issuer with identifier characters `[A-Za-z0-9._-]` (400), an
/// object that exists (404), and `addMessage` bodies with a `message` whose `messageType` is one of Google's; it
/// counts `TEXT_AND_NOTIFY` messages per object and refuses a fourth within 24 hours of its clock (429). `PATCH`
/// merges `loyaltyPoints` into the object.
final class FakeGoogleWallet: Sendable {
    enum Reply: Sendable, Hashable {
        case ok
        /// 503 UNAVAILABLE.
        case unavailable
    }

    static let issuerID = "3388000000022195611"
    static let scope = "https://www.googleapis.com/auth/wallet_object.issuer"

    let server = LoopbackFake<Reply>(fallback: .ok)
    let tokens: FakeGoogleTokens
    let now: @Sendable () -> Date
    private struct State {
        /// The loyalty objects by id (`issuer.identifier`), as JSON objects kept as text.
        var objects: [String: Data] = [:]
        /// The messages added to each object, as JSON, and when those that notified came.
        var messages: [String: [Data]] = [:]
        var notified: [String: [Date]] = [:]
        var patches = 0
    }
    private let state = Mutex(State())

    init(now: @escaping @Sendable () -> Date) {
        self.now = now
        tokens = FakeGoogleTokens(scope: Self.scope, now: now)
    }

    static func credentials(baseURL: String) -> String {
        FakeGoogleTokens.credentials(baseURL: baseURL, projectID: "bean-there-wallet")
    }

    /// Runs a fake for the duration of `body`, which gets the fake, its base URL and an HTTP client.
    static func with<T>(
        now: @escaping @Sendable () -> Date, _ body: (FakeGoogleWallet, String, HTTPClient) async throws -> T
    ) async throws -> T {
        let fake = FakeGoogleWallet(now: now)
        return try await fake.server.serve(
            post: "**", also: [.patch], label: "fake-google-wallet",
            handler: { request, text, _ in fake.handle(request, text) }
        ) { try await body(fake, $0, $1) }
    }

    /// Makes a loyalty object exist (the customer saved the pass), with `points` stamps.
    func addObject(_ identifier: String, points: Int? = nil) {
        var object: [String: Any] = ["id": "\(Self.issuerID).\(identifier)", "classId": "\(Self.issuerID).stamp-card"]
        if let points { object["loyaltyPoints"] = ["label": "Coffee card", "balance": ["int": points]] }
        let data = try! JSONSerialization.data(withJSONObject: object)
        state.withLock { $0.objects["\(Self.issuerID).\(identifier)"] = data }
    }

    /// The object `identifier` as stored.
    func object(_ identifier: String) -> [String: Any]? {
        state.withLock { $0.objects["\(Self.issuerID).\(identifier)"] }.flatMap(FakeFCM.object)
    }

    /// The messages added to object `identifier`, in order.
    func messages(_ identifier: String) -> [[String: Any]] {
        state.withLock { $0.messages["\(Self.issuerID).\(identifier)"] ?? [] }.compactMap(FakeFCM.object)
    }

    /// `PATCH`es accepted.
    var patches: Int { state.withLock { $0.patches } }

    private func handle(_ request: Request, _ text: String) -> Response {
        let path = request.uri.path
        if path == "/token" { return tokens.token(request, text) }
        guard tokens.accepts(request) else {
            return FakeFCM.googleError(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
        }
        let prefix = "/walletobjects/v1/loyaltyObject/"
        guard path.hasPrefix(prefix) else { return FakeFCM.googleError(404, "NOT_FOUND", "Not Found") }
        var rest = String(path.dropFirst(prefix.count))
        let adding = rest.hasSuffix("/addMessage")
        if adding { rest = String(rest.dropLast("/addMessage".count)) }
        let parts = rest.split(separator: ".", maxSplits: 1).map(String.init)
        guard parts.count == 2, parts[0] == Self.issuerID,
            parts[1].utf8.allSatisfy({ $0 < 0x80 && (Character(UnicodeScalar($0)).isLetter || Character(UnicodeScalar($0)).isNumber || "._-".utf8.contains($0)) })
        else {
            return FakeFCM.googleError(400, "INVALID_ARGUMENT", "Invalid resource ID")
        }
        guard state.withLock({ $0.objects[rest] != nil }) else {
            return FakeFCM.googleError(404, "NOT_FOUND", "Resource not found: \(rest)")
        }
        guard let body = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            return FakeFCM.googleError(400, "INVALID_ARGUMENT", "Invalid JSON payload received.")
        }
        if case .unavailable = server.nextReply() {
            return FakeFCM.googleError(503, "UNAVAILABLE", "The service is currently unavailable.")
        }
        if request.method == .patch, !adding {
            let updated: Data? = state.withLock { state in
                guard var object = state.objects[rest].flatMap(FakeFCM.object) else { return nil }
                for (key, value) in body { object[key] = value }
                let data = try! JSONSerialization.data(withJSONObject: object)
                state.objects[rest] = data
                state.patches += 1
                return data
            }
            return LoopbackFake<Reply>.response(.ok, String(decoding: updated ?? Data(), as: UTF8.self))
        }
        guard request.method == .post, adding, let message = body["message"] as? [String: Any],
            message["header"] is String, message["body"] is String
        else {
            return FakeFCM.googleError(400, "INVALID_ARGUMENT", "Invalid value at 'message'")
        }
        let type = message["messageType"] as? String ?? "TEXT"
        guard ["TEXT", "TEXT_AND_NOTIFY", "text", "EXPIRATION_NOTIFICATION", "expirationNotification"].contains(type) else {
            return FakeFCM.googleError(400, "INVALID_ARGUMENT", "Invalid value at 'message.message_type'")
        }
        let clock = now()
        let refused: Bool = state.withLock { state in
            if type == "TEXT_AND_NOTIFY" {
                let recent = (state.notified[rest] ?? []).filter { clock.timeIntervalSince($0) < 86_400 }
                if recent.count >= 3 { return true }
                state.notified[rest] = recent + [clock]
            }
            state.messages[rest, default: []].append(try! JSONSerialization.data(withJSONObject: message))
            return false
        }
        if refused {
            return FakeFCM.googleError(
                429, "RESOURCE_EXHAUSTED", "QuotaExceededException: too many notifications for this pass in 24 hours")
        }
        let object = state.withLock { $0.objects[rest] } ?? Data()
        return LoopbackFake<Reply>.response(.ok, #"{"resource":\#(String(decoding: object, as: UTF8.self))}"#)
    }
}
