import AsyncHTTPClient
import Foundation
import NudgeDelivery
import NIOCore
import NIOHTTP1

/// Calls to a Google API as a service account: each request carries the account's access token for the API's
/// scope, and a refused token (revoked, or expired early) is replaced once.
struct GoogleAPI: Sendable {
    let tokens: GoogleAccessTokens
    let http: ProviderHTTP

    /// Calls to the API named `name` (in errors) as `account`, with tokens for `scope`.
    init(
        _ name: String, account: GoogleServiceAccount, scope: String, client: HTTPClient, timeout: TimeInterval,
        clock: @escaping @Sendable () -> Date
    ) {
        tokens = GoogleAccessTokens(account: account, scope: scope, client: client, timeout: timeout, clock: clock)
        http = ProviderHTTP(name: name, client: client, timeout: timeout)
    }

    /// Sends `method` `url` with the JSON `body` (none for nil); the answer, whatever its status (but a second 401).
    func send(_ method: HTTPMethod, _ url: String, json body: String?) async throws -> ProviderHTTP.Answer {
        var replaced = false
        while true {
            let token = try await tokens.token()
            var request = HTTPClientRequest(url: url)
            request.method = method
            if let body {
                request.headers.add(name: "content-type", value: "application/json; charset=utf-8")
                request.body = .bytes(ByteBuffer(string: body))
            }
            request.headers.add(name: "authorization", value: "Bearer \(token)")
            request.headers.add(name: "user-agent", value: "nudge")
            let answer = try await http.send(request)
            if answer.status == 401, !replaced {
                replaced = true
                await tokens.invalidate(token)
                continue
            }
            return answer
        }
    }

    /// JSON text of `value`, keys sorted, slashes as written.
    static func json(_ value: some Encodable) throws(DeliveryError) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return String(decoding: try encoder.encode(value), as: UTF8.self)
        } catch {
            throw .permanent("cannot encode the request: \(error)")
        }
    }
}

/// Google's error body: `{"error": {"code", "message", "status", "details": [{"@type", "errorCode", …}, …]}}`.
struct GoogleFailure: Decodable {
    struct Detail: Decodable {
        struct Violation: Decodable { var field: String? }
        var errorCode: String?
        var fieldViolations: [Violation]?
    }
    struct Body: Decodable {
        var code: Int?
        var message: String?
        var status: String?
        var details: [Detail]?
    }
    var error: Body

    /// The error of `answer`'s body, if it is Google's JSON.
    static func parse(_ answer: ProviderHTTP.Answer) -> Body? {
        (try? JSONDecoder().decode(GoogleFailure.self, from: Data(answer.body.utf8)))?.error
    }
}
