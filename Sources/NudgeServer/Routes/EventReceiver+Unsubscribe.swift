import Foundation
import HTTPTypes
import Hummingbird
import NudgeEngine
import NudgeStore
import NudgeCore

extension EventReceiver {
    /// `GET /unsubscribe/{token}`: a confirmation page whose button POSTs back. Changes nothing, since mail
    /// scanners fetch the links in a message.
    func unsubscribePage(_ request: Request, context: some RequestContext) async throws -> EditedResponse<String> {
        let token = try context.parameters.require("token")
        guard try await customer(fromToken: token) != nil else { return Self.invalidLinkPage() }
        let sender = settings.businessName.isEmpty ? "us" : HTMLText.escape(settings.businessName)
        return Self.page(
            title: "Unsubscribe",
            body: """
                <p>Stop receiving emails from \(sender)?</p>
                <form method="post" action="\(HTMLText.escape(token))">
                <button type="submit" name="confirm" value="yes">Unsubscribe</button>
                </form>
                """)
    }

    /// `POST /unsubscribe/{token}`: the page's button or an RFC 8058 one-click unsubscribe
    /// (`List-Unsubscribe=One-Click`). Turns the customer's email consent off; answering again is harmless.
    func unsubscribe(_ request: Request, context: some RequestContext) async throws -> EditedResponse<String> {
        let token = try context.parameters.require("token")
        guard let customerID = try await customer(fromToken: token) else { return Self.invalidLinkPage() }
        let form = String(decoding: try await body(of: request, limit: 16 << 10), as: UTF8.self)
        let at = now()
        let event = EventFactory(
            provider: "unsubscribe", eventID: "customer:\(customerID):\(StoredInstant.millis(at))",
            customerID: customerID, channel: "email", at: at)
        let detail = form.contains("List-Unsubscribe=One-Click") ? "one-click (RFC 8058)" : "unsubscribe page"
        let change = ConsentChange(customerID: customerID, channel: "email", optIn: false, reason: "unsubscribe link")
        _ = try await record([event(.unsubscribed, detail: detail, consent: [change])], logger: context.logger)
        let sender = settings.businessName.isEmpty ? "us" : HTMLText.escape(settings.businessName)
        return Self.page(title: "Unsubscribed", body: "<p>You will no longer receive emails from \(sender).</p>")
    }

    /// The customer a token names, when the token is signed by our secret and the customer exists.
    private func customer(fromToken token: String) async throws -> String? {
        guard let links = settings.unsubscribe, links.isSigned else { throw Self.notConfigured }
        guard let customerID = links.customerID(fromToken: token), try await database.customerExists(customerID) else {
            return nil
        }
        return customerID
    }

    /// The 404 page of a forged, damaged or outdated link.
    static func invalidLinkPage() -> EditedResponse<String> {
        page(
            title: "Link not valid",
            body: "<p>This unsubscribe link is not valid. Please use the link in a recent email.</p>",
            status: .notFound)
    }

    /// A small HTML page that neither caches nor leaks the link as a referrer.
    static func page(title: String, body: String, status: HTTPResponse.Status = .ok) -> EditedResponse<String> {
        var headers: HTTPFields = [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"]
        headers[named: "Referrer-Policy"] = "no-referrer"
        return EditedResponse(
            status: status, headers: headers,
            response: """
                <!doctype html>
                <html lang="en"><head><meta charset="utf-8">
                <meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">
                <title>\(title)</title></head>
                <body><h1>\(title)</h1>
                \(body)
                </body></html>

                """)
    }
}

/// Text made safe for HTML.
enum HTMLText {
    private static let entities: [Character: String] = [
        "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;",
    ]

    /// `text` with the characters that HTML reads as markup replaced by entities.
    static func escape(_ text: String) -> String {
        text.reduce(into: "") { escaped, character in
            if let entity = entities[character] { escaped += entity } else { escaped.append(character) }
        }
    }
}
