import Crypto
public import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// A Standard Webhooks receiver on 127.0.0.1 (an ephemeral port), for tests.
///
/// It verifies `webhook-id`, `webhook-timestamp` (within ±5 minutes of its clock) and `webhook-signature`
/// (HMAC-SHA256 over `id.timestamp.body`, compared in constant time) and answers 401 when they are wrong;
/// records every request; and answers each verified request as scripted (200 when nothing is scripted).
public final class FakeWebhookReceiver: Sendable {
    /// How to answer one verified request.
    public enum Reply: Sendable, Hashable {
        /// 200 with an `x-message-id` header.
        case ok
        /// 410 Gone.
        case gone
        /// 429 with a `Retry-After` header.
        case tooManyRequests(retryAfter: String)
        /// 500, optionally with a `Retry-After` header.
        case serverError(retryAfter: String? = nil)
        /// 400 with a text body.
        case badRequest(String)
        /// 302 to another location.
        case redirect
        /// Answers 200 only after `FakeWebhookReceiver.hangLimit` (or when the receiver stops).
        case hang
    }

    /// One request as received.
    public struct Received: Sendable {
        public var id: String?
        public var timestamp: String?
        public var signature: String?
        public var body: String
        /// The status answered.
        public var status: Int
        public var receivedAt: Date
    }

    private struct State {
        var queue: [Reply] = []
        var byID: [String: [Reply]] = [:]
        var received: [Received] = []
        var isStopping = false
        var served = 0
    }

    private let state = Mutex(State())
    private let key: Data
    private let clock: @Sendable () -> Date
    /// The timestamp tolerance, as the Standard Webhooks libraries use.
    public let tolerance: TimeInterval = 300
    /// How long a `.hang` lasts at most: far beyond any timeout a test sets, so that the client's timeout ends the request even on a loaded machine;
    /// the receiver ends a hang as soon as it stops.
    public static let hangLimit: Duration = .seconds(60)

    /// A receiver that verifies with `secret` (`whsec_` + base64) against `clock`.
    public init(secret: String, clock: @escaping @Sendable () -> Date = { Date() }) {
        let encoded = secret.hasPrefix("whsec_") ? String(secret.dropFirst("whsec_".count)) : secret
        self.key = Data(base64Encoded: encoded) ?? Data(secret.utf8)
        self.clock = clock
    }

    /// Runs a receiver for the duration of `body`, which gets the receiver and its URL.
    public static func with<T>(
        secret: String = FakeWebhookReceiver.secret, clock: @escaping @Sendable () -> Date = { Date() },
        _ body: (FakeWebhookReceiver, String) async throws -> T
    ) async throws -> T {
        let receiver = FakeWebhookReceiver(secret: secret, clock: clock)
        let router = Router()
        router.post("/hooks") { request, _ in try await receiver.handle(request) }
        return try await withLoopbackServer(
            router, label: "the fake webhook receiver", stopping: { receiver.state.withLock { $0.isStopping = true } }
        ) { base in
            try await body(receiver, base + "/hooks")
        }
    }

    /// A secret in the spec's form (the test vector's).
    public static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

    /// Answers the next verified requests, in order, with `replies` (whatever their id).
    public func enqueue(_ replies: Reply...) {
        state.withLock { $0.queue += replies }
    }

    /// Answers the next verified requests with `webhook-id` equal to `id` with `replies`, in order.
    public func script(id: String, _ replies: Reply...) {
        state.withLock { $0.byID[id, default: []] += replies }
    }

    /// Every request so far, in arrival order.
    public var received: [Received] {
        state.withLock { $0.received }
    }

    /// Requests answered with a 2xx.
    public var accepted: [Received] {
        received.filter { (200..<300).contains($0.status) }
    }

    private func nextReply(for id: String) -> Reply {
        state.withLock { state in
            if var replies = state.byID[id], !replies.isEmpty {
                let reply = replies.removeFirst()
                state.byID[id] = replies
                return reply
            }
            if !state.queue.isEmpty { return state.queue.removeFirst() }
            return .ok
        }
    }

    private func handle(_ request: Request) async throws -> Response {
        var request = request
        let buffer = try await request.collectBody(upTo: 1 << 20)
        let body = Data(buffer.readableBytesView)
        let id = request.headers[HTTPField.Name("webhook-id")!]
        let timestamp = request.headers[HTTPField.Name("webhook-timestamp")!]
        let signature = request.headers[HTTPField.Name("webhook-signature")!]
        let arrival = clock()
        var received = Received(
            id: id, timestamp: timestamp, signature: signature, body: String(decoding: body, as: UTF8.self), status: 0,
            receivedAt: arrival)
        if let problem = verify(id: id, timestamp: timestamp, signature: signature, body: body, now: arrival) {
            received.status = 401
            state.withLock { $0.received.append(received) }
            return Response(status: .unauthorized, body: .init(byteBuffer: ByteBuffer(string: problem)))
        }
        let reply = nextReply(for: id ?? "")
        if reply == .hang {
            let start = ContinuousClock.now
            while !state.withLock({ $0.isStopping }), ContinuousClock.now - start < Self.hangLimit {
                try? await Task.sleep(for: .milliseconds(10))
            }
        }
        let response: Response
        switch reply {
        case .ok, .hang:
            let number = state.withLock { state -> Int in
                state.served += 1
                return state.served
            }
            response = Response(status: .ok, headers: [HTTPField.Name("x-message-id")!: "rcv_\(number)"])
        case .gone:
            response = Response(status: .gone)
        case .tooManyRequests(let retryAfter):
            response = Response(status: .tooManyRequests, headers: [.retryAfter: retryAfter])
        case .serverError(let retryAfter):
            var headers = HTTPFields()
            if let retryAfter { headers[.retryAfter] = retryAfter }
            response = Response(
                status: .internalServerError, headers: headers,
                body: .init(byteBuffer: ByteBuffer(string: "internal error")))
        case .badRequest(let text):
            response = Response(status: .badRequest, body: .init(byteBuffer: ByteBuffer(string: text)))
        case .redirect:
            response = Response(status: .found, headers: [.location: "http://127.0.0.1:1/elsewhere"])
        }
        received.status = Int(response.status.code)
        state.withLock { $0.received.append(received) }
        return response
    }

    /// Why the Standard Webhooks headers do not verify, or nil when they do.
    private func verify(id: String?, timestamp: String?, signature: String?, body: Data, now: Date) -> String? {
        guard let id, !id.isEmpty, let timestamp, let signature else { return "missing webhook headers" }
        guard let seconds = Int(timestamp) else { return "bad webhook-timestamp" }
        guard abs(now.timeIntervalSince1970 - Double(seconds)) <= tolerance else { return "webhook-timestamp too old or new" }
        var content = Data("\(id).\(timestamp).".utf8)
        content.append(body)
        let expected = Data(HMAC<SHA256>.authenticationCode(for: content, using: SymmetricKey(data: key)))
        for entry in signature.split(separator: " ") {
            let parts = entry.split(separator: ",", maxSplits: 1)
            guard parts.count == 2, parts[0] == "v1", let given = Data(base64Encoded: String(parts[1])) else { continue }
            if Self.constantTimeEquals(given, expected) { return nil }
        }
        return "no matching signature"
    }

    /// Compares without an early exit, so timing does not reveal where the first difference is.
    public static func constantTimeEquals(_ a: Data, _ b: Data) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }
}

/// A fake server that could not start or was misused.
public struct ReceiverError: Error, CustomStringConvertible {
    public var description: String

    public init(description: String) {
        self.description = description
    }
}
