import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird

/// Mailgun's Messages API (`POST /v3/{domain}/messages`) on 127.0.0.1, for tests.
///
/// Like the real API it answers 401 with the plain text `Forbidden` without Basic `api:<key>`, 404 for another
/// domain, and 400 with `{"message": …}` when the form lacks `from`, `to`, `subject` or all of `text`/`html`/`template`,
/// has a `to` that is not an address, or more than 16 kB of `o:`/`h:`/`v:` fields. It parses
/// `application/x-www-form-urlencoded` bodies with repeated keys (multipart bodies are refused with a 400 here).
/// A request that passes is answered as scripted (200 `{"id","message"}` when nothing is).
final class FakeMailgun: Sendable {
    /// How to answer one valid request.
    enum Reply: Sendable, Hashable {
        /// 200 `{"id": "<20261125100000.<v:nudge_id>@<domain>>", "message": "Queued. Thank you."}`.
        case queued
        /// 400 `{"message": message}`.
        case invalid(String)
        /// 401 plain text `Forbidden`, as for a wrong key.
        case unauthorized
        /// 403 `{"message": …}`, as for a key without access to the domain.
        case forbidden
        /// 429, with a `Retry-After` when given.
        case tooManyRequests(retryAfter: String?)
        /// 500.
        case serverError
        /// Answers 200 only after `LoopbackFake.hangLimit` (or when the fake stops).
        case hang
    }

    static let apiKey = "key-fake0123456789abcdef0123456789"
    static let domain = "mg.example.com"

    let apiKey: String
    let domain: String
    let server = LoopbackFake<Reply>(fallback: .queued)

    init(apiKey: String, domain: String) {
        self.apiKey = apiKey
        self.domain = domain
    }

    /// Runs a fake for the duration of `body`, which gets the fake, its base URL (`http://127.0.0.1:PORT`) and an
    /// HTTP client.
    static func with<T>(
        apiKey: String = FakeMailgun.apiKey, domain: String = FakeMailgun.domain,
        _ body: (FakeMailgun, String, HTTPClient) async throws -> T
    ) async throws -> T {
        let fake = FakeMailgun(apiKey: apiKey, domain: domain)
        return try await fake.server.serve(
            post: "/v3/:domain/messages", label: "fake-mailgun",
            handler: { request, text, context in
                await fake.handle(request, text, domain: context.parameters.get("domain") ?? "")
            }
        ) { try await body(fake, $0, $1) }
    }

    private func handle(_ request: Request, _ text: String, domain: String) async -> Response {
        let expected = "Basic " + Data("api:\(apiKey)".utf8).base64EncodedString()
        guard request.headers[.authorization] == expected else {
            return LoopbackFake<Reply>.response(.unauthorized, "Forbidden", json: false)
        }
        guard domain == self.domain else { return Self.message(.notFound, "Domain not found: \(domain)") }
        guard request.headers[.contentType]?.hasPrefix("application/x-www-form-urlencoded") == true else {
            return Self.message(.badRequest, "this fake parses application/x-www-form-urlencoded bodies only")
        }
        let form = Form(text)
        if let problem = Self.problem(form) { return Self.message(.badRequest, problem) }
        let reply = server.nextReply()
        switch reply {
        case .queued, .hang:
            if reply == .hang { await server.hang() }
            let id = "<20261125100000.\(form["v:nudge_id"] ?? "none")@\(self.domain)>"
            return Self.json(.ok, ["id": id, "message": "Queued. Thank you."])
        case .invalid(let message):
            return Self.message(.badRequest, message)
        case .unauthorized:
            return LoopbackFake<Reply>.response(.unauthorized, "Forbidden", json: false)
        case .forbidden:
            return Self.message(.forbidden, "Domain \(self.domain) is not allowed to send: the key lacks access")
        case .tooManyRequests(let retryAfter):
            return Self.json(
                .tooManyRequests, ["message": "Too many requests"],
                headers: retryAfter.map { ["Retry-After": $0] } ?? [:])
        case .serverError:
            return Self.message(.internalServerError, "Internal Server Error")
        }
    }

    /// The first way `form` breaks the Messages API's rules, as Mailgun words it, or nil.
    static func problem(_ form: Form) -> String? {
        for name in ["from", "to", "subject"] where form.values(name).allSatisfy(\.isEmpty) {
            return "\(name) parameter is missing"
        }
        for to in form.values("to") where !to.contains("@") || to.contains(" ") {
            return "to parameter is not a valid address. please check documentation"
        }
        if form.values("to").count > 1000 { return "Too many recipients; max is 1000" }
        if ["text", "html", "template"].allSatisfy({ form[$0] == nil }) {
            return "Need at least one of 'text', 'html' or 'template' parameters specified"
        }
        let options = form.fields.filter { ["o:", "h:", "v:"].contains($0.name.prefix(2)) }
        if options.reduce(0, { $0 + $1.name.utf8.count + $1.value.utf8.count }) > 16 * 1024 {
            return "The sum of o:, h: and v: parameters is limited to 16 kB"
        }
        return nil
    }

    /// `{"message": text}` with `status`.
    static func message(_ status: HTTPResponse.Status, _ text: String) -> Response {
        json(status, ["message": text])
    }

    static func json(_ status: HTTPResponse.Status, _ object: [String: String], headers: [String: String] = [:])
        -> Response
    {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return LoopbackFake<Reply>.response(status, String(decoding: data, as: UTF8.self), headers: headers)
    }

    /// An `application/x-www-form-urlencoded` body: its fields in order, repeated names kept.
    struct Form: Sendable {
        var fields: [(name: String, value: String)]

        init(_ body: String) {
            fields = body.split(separator: "&", omittingEmptySubsequences: true).map { pair in
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                return (Self.decode(parts[0]), parts.count > 1 ? Self.decode(parts[1]) : "")
            }
        }

        /// Every value of `name`, in order.
        func values(_ name: String) -> [String] {
            fields.filter { $0.name == name }.map(\.value)
        }

        /// The first value of `name`.
        subscript(name: String) -> String? {
            fields.first { $0.name == name }?.value
        }

        /// The fields whose names start with `prefix` (`h:`, `v:`, `o:`), prefix removed.
        func prefixed(_ prefix: String) -> [String: String] {
            Dictionary(
                fields.filter { $0.name.hasPrefix(prefix) }.map { (String($0.name.dropFirst(prefix.count)), $0.value) },
                uniquingKeysWith: { first, _ in first })
        }

        private static func decode(_ text: Substring) -> String {
            let spaced = text.replacingOccurrences(of: "+", with: " ")
            return spaced.removingPercentEncoding ?? spaced
        }
    }
}

extension LoopbackFake.Received {
    /// The body as a form.
    var form: FakeMailgun.Form { FakeMailgun.Form(body) }
}
