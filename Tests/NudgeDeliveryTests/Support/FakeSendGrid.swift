import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird

/// SendGrid's v3 Mail Send endpoint on 127.0.0.1, for tests.
///
/// Like the real API it answers 401 without `Authorization: Bearer <key>`, 415 for a body that is not JSON, and 400
/// with `{"errors":[{"message","field","help"}]}` when the body breaks the schema's basics (at least one
/// personalization, each with a `to`, at most 1000 recipients, `from.email`, a subject, `content` with text/plain
/// first, string `headers` and `custom_args`). A request that passes is answered as scripted (202 when nothing is).
final class FakeSendGrid: Sendable {
    /// How to answer one valid request.
    enum Reply: Sendable, Hashable {
        /// 202, empty body, `X-Message-Id: sg-<custom_args.nudge_id>`.
        case accepted
        /// 200, as in sandbox mode.
        case sandbox
        /// 400 with one error.
        case invalid(field: String?, message: String)
        /// 401 as for a revoked key.
        case unauthorized
        /// 403 as for an unverified sender.
        case forbidden
        /// 413.
        case tooLarge
        /// 429 with `X-RateLimit-Limit`, `X-RateLimit-Remaining: 0` and `X-RateLimit-Reset: reset` (epoch seconds).
        case tooManyRequests(reset: Int)
        /// 500, or 503 with a `Retry-After`.
        case serverError
        case unavailable(retryAfter: String)
        /// Answers 202 only after `LoopbackFake.hangLimit` (or when the fake stops).
        case hang
    }

    /// A key in SendGrid's form.
    static let apiKey = "SG.fake-key-0123456789.abcdefghijklmnopqrstuvwxyz"
    static let revokedKeyMessage = "The provided authorization grant is invalid, expired, or revoked"

    let apiKey: String
    let server = LoopbackFake<Reply>(fallback: .accepted)

    init(apiKey: String) {
        self.apiKey = apiKey
    }

    /// Runs a fake for the duration of `body`, which gets the fake, its base URL (`http://127.0.0.1:PORT`) and an
    /// HTTP client.
    static func with<T>(
        apiKey: String = FakeSendGrid.apiKey, _ body: (FakeSendGrid, String, HTTPClient) async throws -> T
    ) async throws -> T {
        let fake = FakeSendGrid(apiKey: apiKey)
        return try await fake.server.serve(
            post: "/v3/mail/send", label: "fake-sendgrid",
            handler: { request, text, _ in
                await fake.handle(request, text)
            }
        ) { try await body(fake, $0, $1) }
    }

    private func handle(_ request: Request, _ text: String) async -> Response {
        guard request.headers[.authorization] == "Bearer \(apiKey)" else {
            return Self.errors(.unauthorized, [(nil, Self.revokedKeyMessage)])
        }
        guard request.headers[.contentType]?.hasPrefix("application/json") == true else {
            return Self.errors(.unsupportedMediaType, [(nil, "Content-Type should be application/json.")])
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            return Self.errors(.badRequest, [(nil, "Bad Request")])
        }
        if let problem = Self.problem(object) { return Self.errors(.badRequest, [problem]) }
        let reply = server.nextReply()
        switch reply {
        case .accepted, .hang:
            if reply == .hang { await server.hang() }
            let id = (object["custom_args"] as? [String: Any])?["nudge_id"] as? String ?? "none"
            return LoopbackFake<Reply>.response(.accepted, headers: ["X-Message-Id": "sg-\(id)"])
        case .sandbox:
            return LoopbackFake<Reply>.response(.ok)
        case .invalid(let field, let message):
            return Self.errors(.badRequest, [(field, message)])
        case .unauthorized:
            return Self.errors(.unauthorized, [(nil, Self.revokedKeyMessage)])
        case .forbidden:
            return Self.errors(
                .forbidden, [("from", "The from address does not match a verified Sender Identity.")])
        case .tooLarge:
            return Self.errors(
                .contentTooLarge, [(nil, "The JSON payload you have included in your request is too large.")])
        case .tooManyRequests(let reset):
            return Self.errors(
                .tooManyRequests, [(nil, "too many requests")],
                headers: ["X-RateLimit-Limit": "600", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": String(reset)])
        case .serverError:
            return Self.errors(.internalServerError, [(nil, "Internal server error")])
        case .unavailable(let retryAfter):
            return Self.errors(
                .serviceUnavailable, [(nil, "Service unavailable")], headers: ["Retry-After": retryAfter])
        }
    }

    /// The first way `body` breaks Mail Send's schema, as SendGrid reports it (field, message), or nil.
    static func problem(_ body: [String: Any]) -> (String?, String)? {
        guard let personalizations = body["personalizations"] as? [[String: Any]], !personalizations.isEmpty else {
            return (
                "personalizations", "The personalizations field is required and must have at least one personalization."
            )
        }
        if personalizations.count > 1000 {
            return (
                "personalizations", "The personalization block is limited to 1000 personalizations per API request."
            )
        }
        var recipients = 0
        for (index, personalization) in personalizations.enumerated() {
            guard let to = personalization["to"] as? [[String: Any]], !to.isEmpty else {
                return (
                    "personalizations.\(index).to",
                    "The to array is required for all personalization objects, and must have at least one email "
                        + "object with a valid email address."
                )
            }
            for (position, address) in to.enumerated() where !isAddress(address["email"]) {
                return ("personalizations.\(index).to.\(position).email", "Does not contain a valid address.")
            }
            recipients += ["to", "cc", "bcc"].reduce(0) { $0 + ((personalization[$1] as? [Any])?.count ?? 0) }
        }
        if recipients > 1000 {
            return ("personalizations", "There is a limit of 1000 total recipients (to + cc + bcc) per request.")
        }
        guard let from = body["from"] as? [String: Any], isAddress(from["email"]) else {
            return (
                "from.email",
                "The from object must be provided for every email send. It is an object that requires the email "
                    + "parameter, but may also contain a name parameter."
            )
        }
        if let replyTo = body["reply_to"], !isAddress((replyTo as? [String: Any])?["email"]) {
            return ("reply_to.email", "Does not contain a valid address.")
        }
        let hasTemplate = body["template_id"] is String
        let everyOneHasASubject = personalizations.allSatisfy { !($0["subject"] as? String ?? "").isEmpty }
        if !hasTemplate, (body["subject"] as? String ?? "").isEmpty, !everyOneHasASubject {
            return (
                "subject",
                "The subject is required. You can get around this requirement if you use a template with a subject "
                    + "defined or if every personalization has a subject defined."
            )
        }
        if let problem = contentProblem(body["content"], hasTemplate: hasTemplate) { return problem }
        for key in ["headers", "custom_args"] {
            if let value = body[key], !(value is [String: String]) {
                return (key, "Invalid type. Expected: object of strings.")
            }
        }
        return nil
    }

    private static func contentProblem(_ value: Any?, hasTemplate: Bool) -> (String?, String)? {
        guard let content = value as? [[String: Any]], !content.isEmpty else {
            if hasTemplate { return nil }
            return (
                "content",
                "Unless a valid template_id is provided, the content parameter is required. There must be at least "
                    + "one defined content block."
            )
        }
        for (index, part) in content.enumerated() {
            guard let type = part["type"] as? String, !type.isEmpty else {
                return ("content.\(index).type", "The content type must be provided.")
            }
            guard let text = part["value"] as? String, !text.isEmpty else {
                return (
                    "content.\(index).value", "The content value must be a string at least one character in length."
                )
            }
            if type == "text/plain" && index > 0 {
                return (
                    "content",
                    "If present, text/plain content must be first, followed by text/html, followed by any other content."
                )
            }
        }
        return nil
    }

    private static func isAddress(_ value: Any?) -> Bool {
        guard let text = value as? String else { return false }
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".") && !text.contains(" ")
    }

    /// SendGrid's error answer: `{"errors":[{"message","field","help"}]}`.
    static func errors(_ status: HTTPResponse.Status, _ errors: [(String?, String)], headers: [String: String] = [:])
        -> Response
    {
        let items = errors.map { field, message in
            ["message": message, "field": field ?? NSNull(), "help": NSNull()] as [String: Any]
        }
        let data = (try? JSONSerialization.data(withJSONObject: ["errors": items], options: [.sortedKeys])) ?? Data()
        return LoopbackFake<Reply>.response(status, String(decoding: data, as: UTF8.self), headers: headers)
    }
}
