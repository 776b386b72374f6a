import Foundation
public import Hummingbird
import NudgeStore
public import NudgeServer
import NudgeCore

/// Mailgun's route of `nudge serve`: its signed webhooks.
public struct MailgunWebhooks: SignedPostRoute {
    public static let path = "/webhooks/mailgun"
    public var verifier: MailgunSignature?
    public var problem: String

    public init(verifier: MailgunSignature?, problem: String? = nil) {
        self.verifier = verifier
        self.problem = problem ?? "no Mailgun key"
    }

    /// `POST /webhooks/mailgun`: `{"signature": {timestamp, token, signature}, "event-data": {…}}`.
    public func receive(
        _ request: Request, context: BasicRequestContext, receiver: EventReceiver
    ) async throws -> ReceiptSummary {
        guard let verifier else { throw EventReceiver.notConfigured }
        let body = try await receiver.body(of: request)
        guard let root = JSONFields(JSONFields.parse(body)) else {
            throw HTTPError(.badRequest, message: "expected a JSON object with 'signature' and 'event-data'")
        }
        guard let signature = root.object("signature"), let timestamp = signature.string("timestamp"),
            let token = signature.string("token"), let mac = signature.string("signature")
        else { throw receiver.rejected(MailgunProvider.name, "missing signature", logger: context.logger) }
        guard let seconds = Double(timestamp), receiver.isFresh(seconds) else {
            throw receiver.rejected(MailgunProvider.name, "timestamp outside \(Int(receiver.settings.tolerance)) s", logger: context.logger)
        }
        guard verifier.isValid(timestamp: timestamp, token: token, signature: mac) else {
            throw receiver.rejected(MailgunProvider.name, "signature does not verify", logger: context.logger)
        }
        guard let data = root.object("event-data"), let mapped = Self.event(data, now: receiver.now()) else {
            throw HTTPError(.badRequest, message: "'event-data' needs 'event' and 'id'")
        }
        // The signature does not cover event-data: a token may serve once.
        guard await receiver.replays.claim(token, timestamp: Date(timeIntervalSince1970: seconds), now: receiver.now()) else {
            throw receiver.rejected(MailgunProvider.name, "token seen before", logger: context.logger)
        }
        do {
            return try await receiver.record([mapped], logger: context.logger)
        } catch {
            await receiver.replays.release(token)
            throw error
        }
    }

    /// One Mailgun event in Nudge's terms; nil when it lacks its type or id. The outbox id is the variable
    /// `v:nudge_id`, echoed in `user-variables`.
    static func event(_ data: JSONFields, now: Date) -> MappedEvent? {
        guard let type = data.string("event"), let id = data.string("id") else { return nil }
        let at = data.number("timestamp").map { Date(timeIntervalSince1970: $0) } ?? now
        let event = EventFactory(
            provider: MailgunProvider.name, eventID: id, outboxID: data.object("user-variables")?.string("nudge_id"),
            channel: "email", at: at)
        switch type {
        case "accepted": return event(.processed)
        case "delivered": return event(.delivered)
        case "opened": return event(.opened)
        case "clicked": return event(.clicked)
        case "failed":
            let status = data.object("delivery-status")
            let code = status?.number("code").map { Int($0) } ?? status?.string("code").flatMap { Int($0) }
            let reason = data.string("reason")
            let detail = [reason, code.map(String.init), status?.string("message")]
                .compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ": ")
            guard data.string("severity") == "permanent" else { return event(.deferred, detail: detail) }
            // Only a dead address is a hard bounce; a permanent failure for other reasons (a block by the receiving
            // provider, a message too old to retry) fails this message without touching consent.
            let isHardBounce =
                ["bounce", "suppress-bounce", "hardfail"].contains(reason ?? "") || [550, 551, 553].contains(code ?? 0)
            return isHardBounce
                ? event(.bounced, detail: detail, consent: optOut("email", reason: "hard bounce"))
                : event(.failed, detail: detail)
        case "complained": return event(.complained, consent: optOut("email", reason: "spam complaint"))
        case "unsubscribed": return event(.unsubscribed, consent: optOut("email", reason: "unsubscribed at Mailgun"))
        default: return .ignore
        }
    }
}
