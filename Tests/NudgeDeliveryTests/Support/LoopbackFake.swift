import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NudgeTestSupport
import NIOCore
import ServiceLifecycle
import Synchronization

/// What the loopback fakes of HTTP providers share: a server on 127.0.0.1 that runs while a test's body runs, replies
/// scripted in order (`fallback` when none is left), and every request received with the status it was answered.
final class LoopbackFake<Reply: Sendable>: Sendable {
    /// One request as received.
    struct Received: Sendable {
        var method: String = "POST"
        var path: String
        var headers: HTTPFields
        var body: String
        /// The status answered.
        var status: Int

        /// The value of header `name`.
        func header(_ name: String) -> String? {
            HTTPField.Name(name).flatMap { headers[$0] }
        }
    }

    private struct State {
        var replies: [Reply] = []
        var received: [Received] = []
        var isStopping = false
    }

    private let state = Mutex(State())
    private let fallback: Reply
    /// How long a hanging reply lasts at most: far beyond any timeout a test sets, so that the client's timeout
    /// ends the request even on a loaded machine (a CI run once saw a 0.3 s timeout outlast a 5 s hang); the fake
    /// ends a hang as soon as it stops.
    let hangLimit: Duration = .seconds(60)

    init(fallback: Reply) {
        self.fallback = fallback
    }

    /// Answers the next requests that pass the fake's checks with `replies`, in order.
    func enqueue(_ replies: Reply...) {
        state.withLock { $0.replies += replies }
    }

    /// Every request so far, in arrival order.
    var received: [Received] {
        state.withLock { $0.received }
    }

    /// The next scripted reply, or `fallback`.
    func nextReply() -> Reply {
        state.withLock { $0.replies.isEmpty ? fallback : $0.replies.removeFirst() }
    }

    /// Waits until the fake stops or `hangLimit` passes: a provider that does not answer in time.
    func hang() async {
        let start = ContinuousClock.now
        while !state.withLock({ $0.isStopping }), ContinuousClock.now - start < hangLimit {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Serves POST `path` (and `methods`) with `handler` (given the request and its body as text), recording each
    /// request with the status answered, while `body` runs with the server's base URL (`http://127.0.0.1:PORT`) and an HTTP client
    /// configured as `nudge run` configures it.
    func serve<T>(
        post path: RouterPath, also methods: [HTTPRequest.Method] = [], label: String,
        handler: @escaping @Sendable (Request, String, BasicRequestContext) async throws -> Response,
        _ body: (String, HTTPClient) async throws -> T
    ) async throws -> T {
        let router = Router()
        for method in [HTTPRequest.Method.post] + methods {
            router.on(path, method: method) { request, context in
                var request = request
                let text = String(buffer: try await request.collectBody(upTo: 1 << 22))
                let response = try await handler(request, text, context)
                let received = Received(
                    method: request.method.rawValue, path: request.uri.path, headers: request.headers, body: text, status: Int(response.status.code))
                self.state.withLock { $0.received.append(received) }
                return response
            }
        }
        return try await withLoopbackServer(router, label: label, stopping: { state.withLock { $0.isStopping = true } })
        {
            url in try await withHTTPClient { client in try await body(url, client) }
        }
    }

    /// A response with `body` and `headers`; `json` sets the content type to `application/json`, else `text/plain`.
    static func response(
        _ status: HTTPResponse.Status, _ body: String = "", json: Bool = true, headers: [String: String] = [:]
    ) -> Response {
        var fields = HTTPFields()
        if !body.isEmpty { fields[.contentType] = json ? "application/json" : "text/plain; charset=utf-8" }
        for (name, value) in headers {
            if let name = HTTPField.Name(name) { fields[name] = value }
        }
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}
