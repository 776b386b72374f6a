import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdHTTP2
import NIOCore
import NIOSSL
import NudgeTestSupport
import SwiftASN1
import Synchronization
import X509

/// The Apple Push Notification service on 127.0.0.1, over HTTP/2 and TLS, for tests.
///
/// It serves with a certificate for 127.0.0.1 issued by a certificate authority made for the test (its PEM is
/// `caFile`, for the adapter's `ca_file`) and checks what Apple checks: HTTP/2, `POST /3/device/{token}`, a provider
/// token (`authorization: bearer`) whose ES256 signature verifies against the test key with Crypto's P-256 (not the
/// client's JWT library), `kid` the key id, `iss` the team, `iat` under an hour old; `apns-topic` the app's,
/// `apns-push-type` alert, a payload of at most 4 KiB with `aps.alert`. It answers scripted replies in order (200 when
/// none is left), and 410 Unregistered for tokens marked dead.
final class FakeAPNs: Sendable {
    enum Reply: Sendable, Hashable {
        case ok
        case badDeviceToken
        case expiredProviderToken
        case tooManyRequests
        case serviceUnavailable
    }

    static let teamID = "ABCDE12345"
    static let keyID = "XYZ987ABCD"
    static let topic = "com.beanthere.app"
    /// The test's provider key (the `.p8` text), made once per test process.
    static let key = P256.Signing.PrivateKey()

    /// One request as received.
    struct Received: Sendable {
        var device: String
        var headers: HTTPFields
        var payload: String
        var isHTTP2: Bool
        var status: Int

        func header(_ name: String) -> String? { HTTPField.Name(name).flatMap { headers[$0] } }
    }

    private struct State {
        var replies: [Reply] = []
        var dead: Set<String> = []
        var received: [Received] = []
        var tokens: [String] = []
    }
    private let state = Mutex(State())
    let now: @Sendable () -> Date

    init(now: @escaping @Sendable () -> Date) {
        self.now = now
    }

    func enqueue(_ replies: Reply...) { state.withLock { $0.replies += replies } }
    func markDead(_ device: String) { state.withLock { _ = $0.dead.insert(device) } }
    var received: [Received] { state.withLock { $0.received } }
    /// The distinct provider tokens seen, in order.
    var providerTokens: [String] { state.withLock { $0.tokens } }

    /// A request context that knows whether its request came on an HTTP/2 stream.
    struct StreamContext: RequestContext {
        var coreContext: CoreRequestContextStorage
        let isHTTP2: Bool

        init(source: ApplicationRequestContextSource) {
            coreContext = .init(source: source)
            isHTTP2 = String(describing: type(of: source.channel)).contains("HTTP2")
        }
    }

    /// Runs a fake for the duration of `body`, which gets the fake, its base URL (`https://127.0.0.1:PORT`) and the
    /// path of a PEM file with the certificate authority to trust.
    static func with<T>(now: @escaping @Sendable () -> Date, _ body: (FakeAPNs, String, String) async throws -> T)
        async throws -> T
    {
        let fake = FakeAPNs(now: now)
        let (caPEM, tls) = try Self.certificates()
        let caFile = FileManager.default.temporaryDirectory.appendingPathComponent("fake-apns-ca-\(UUID().uuidString).pem")
        try caPEM.write(to: caFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: caFile) }

        let router = Router(context: StreamContext.self)
        router.post("/3/device/:token") { request, context in
            var request = request
            let payload = String(buffer: try await request.collectBody(upTo: 1 << 16))
            let device = context.parameters.get("token") ?? ""
            let response = fake.handle(request, payload: payload, device: device, isHTTP2: context.isHTTP2)
            fake.state.withLock {
                $0.received.append(
                    Received(
                        device: device, headers: request.headers, payload: payload, isHTTP2: context.isHTTP2,
                        status: Int(response.status.code)))
            }
            return response
        }
        return try await withLoopbackServer(
            router, server: try .http2Upgrade(tlsConfiguration: tls), scheme: "https", label: "fake-apns"
        ) { url in try await body(fake, url, caFile.path) }
    }

    private func handle(_ request: Request, payload: String, device: String, isHTTP2: Bool) -> Response {
        /// Apple's answer; a 410 also names when the token stopped being valid (`timestamp`, in milliseconds).
        func reply(
            _ status: HTTPResponse.Status, _ reason: String? = nil, timestamp: Int? = nil, headers: [String: String] = [:]
        ) -> Response {
            var fields = HTTPFields()
            fields[HTTPField.Name("apns-id")!] = request.headers[HTTPField.Name("apns-id")!] ?? UUID().uuidString
            for (name, value) in headers { fields[HTTPField.Name(name)!] = value }
            guard let reason else { return Response(status: status, headers: fields) }
            fields[.contentType] = "application/json"
            return Response(
                status: status, headers: fields,
                body: .init(
                    byteBuffer: ByteBuffer(
                        string: #"{"reason":"\#(reason)"\#(timestamp.map { ",\"timestamp\":\($0)" } ?? "")}"#)))
        }
        guard isHTTP2 else { return reply(.badRequest, "BadPath") }
        guard let authorization = request.headers[.authorization], authorization.hasPrefix("bearer ") else {
            return reply(.forbidden, "MissingProviderToken")
        }
        let token = String(authorization.dropFirst("bearer ".count))
        switch verify(token) {
        case .invalid: return reply(.forbidden, "InvalidProviderToken")
        case .expired: return reply(.forbidden, "ExpiredProviderToken")
        case .valid: state.withLock { if !$0.tokens.contains(token) { $0.tokens.append(token) } }
        }
        guard request.headers[HTTPField.Name("apns-topic")!] == Self.topic else { return reply(.badRequest, "TopicDisallowed") }
        guard request.headers[HTTPField.Name("apns-push-type")!] == "alert" else { return reply(.badRequest, "InvalidPushType") }
        guard payload.utf8.count <= 4096 else { return reply(.contentTooLarge, "PayloadTooLarge") }
        guard let object = try? JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any],
            let aps = object["aps"] as? [String: Any], aps["alert"] != nil
        else { return reply(.badRequest, "PayloadEmpty") }
        guard device.count >= 8, device.allSatisfy(\.isHexDigit) else { return reply(.badRequest, "BadDeviceToken") }
        if state.withLock({ $0.dead.contains(device) }) {
            return reply(.gone, "Unregistered", timestamp: Int(now().timeIntervalSince1970 * 1000))
        }
        let next = state.withLock { $0.replies.isEmpty ? Reply.ok : $0.replies.removeFirst() }
        switch next {
        case .ok: return reply(.ok)
        case .badDeviceToken: return reply(.badRequest, "BadDeviceToken")
        case .expiredProviderToken: return reply(.forbidden, "ExpiredProviderToken")
        case .tooManyRequests: return reply(.tooManyRequests, "TooManyRequests", headers: ["Retry-After": "12"])
        case .serviceUnavailable: return reply(.serviceUnavailable, "ServiceUnavailable")
        }
    }

    enum Verdict { case valid, invalid, expired }

    /// Checks a provider token: ES256 over `header.claims` with the test key, `kid`, `iss`, and `iat` within the hour.
    private func verify(_ token: String) -> Verdict {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, let headerData = FakeFCM.base64URL(parts[0]), let claimsData = FakeFCM.base64URL(parts[1]),
            let signatureData = FakeFCM.base64URL(parts[2]),
            let header = try? JSONSerialization.jsonObject(with: headerData) as? [String: Any],
            let claims = try? JSONSerialization.jsonObject(with: claimsData) as? [String: Any],
            let signature = try? P256.Signing.ECDSASignature(rawRepresentation: signatureData),
            header["alg"] as? String == "ES256", header["kid"] as? String == Self.keyID,
            claims["iss"] as? String == Self.teamID,
            Self.key.publicKey.isValidSignature(signature, for: Data("\(parts[0]).\(parts[1])".utf8))
        else { return .invalid }
        guard let iat = (claims["iat"] as? NSNumber)?.doubleValue else { return .invalid }
        let age = now().timeIntervalSince1970 - iat
        return age > 3600 ? .expired : age < -300 ? .invalid : .valid
    }

    /// A certificate authority and a certificate for 127.0.0.1 it issued (`LoopbackTLS`).
    static func certificates() throws -> (caPEM: String, tls: TLSConfiguration) {
        try LoopbackTLS.certificates()
    }
}
