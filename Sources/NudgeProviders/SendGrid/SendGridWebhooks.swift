import Foundation
public import Hummingbird
import NudgeStore
public import NudgeServer
import NudgeCore

/// SendGrid's route of `nudge serve`: the signed Event Webhook.
public struct SendGridWebhooks: SignedPostRoute {
    public static let path = "/webhooks/sendgrid"
    public var verifier: SendGridSignature?
    public var problem: String

    public init(verifier: SendGridSignature?, problem: String? = nil) {
        self.verifier = verifier
        self.problem = problem ?? "no SendGrid key"
    }

    /// `POST /webhooks/sendgrid`: a signed JSON array of Event Webhook events.
    public func receive(
        _ request: Request, context: BasicRequestContext, receiver: EventReceiver
    ) async throws -> ReceiptSummary {
        guard let verifier else { throw EventReceiver.notConfigured }
        let body = try await receiver.body(of: request)
        guard let signature = request.headers[named: "X-Twilio-Email-Event-Webhook-Signature"],
            let timestamp = request.headers[named: "X-Twilio-Email-Event-Webhook-Timestamp"]
        else { throw receiver.rejected(SendGridProvider.name, "missing signature headers", logger: context.logger) }
        guard let seconds = Double(timestamp), receiver.isFresh(seconds) else {
            throw receiver.rejected(
                SendGridProvider.name, "timestamp outside \(Int(receiver.settings.tolerance)) s", logger: context.logger)
        }
        guard verifier.isValid(signature: signature, timestamp: timestamp, body: body) else {
            throw receiver.rejected(SendGridProvider.name, "signature does not verify", logger: context.logger)
        }
        guard let array = JSONFields.parse(body) as? [Any] else {
            throw HTTPError(.badRequest, message: "expected a JSON array of events")
        }
        let clock = receiver.now()
        var mapped: [MappedEvent] = []
        for element in array {
            guard let fields = JSONFields(element), let event = Self.event(fields, now: clock) else {
                throw HTTPError(.badRequest, message: "every event needs 'event' and 'sg_event_id'")
            }
            mapped.append(event)
        }
        return try await receiver.record(mapped, logger: context.logger)
    }

    /// One Event Webhook event in Nudge's terms; nil when it lacks its type or id. The outbox id is the custom
    /// argument `nudge_id`, which SendGrid echoes at the top level.
    static func event(_ fields: JSONFields, now: Date) -> MappedEvent? {
        guard let type = fields.string("event"), let id = fields.string("sg_event_id") else { return nil }
        let at = fields.number("timestamp").map { Date(timeIntervalSince1970: $0) } ?? now
        let event = EventFactory(
            provider: SendGridProvider.name, eventID: id, outboxID: fields.string("nudge_id"), channel: "email", at: at)
        switch type {
        case "processed": return event(.processed)
        case "deferred": return event(.deferred, detail: fields.string("response"))
        case "delivered": return event(.delivered, detail: fields.string("response"))
        case "open": return event(.opened)
        case "click": return event(.clicked)
        case "bounce":
            // `blocked` is a refusal of this message (content, reputation), not a dead address.
            let bounceType = fields.string("type") ?? "bounce"
            let detail = [bounceType, fields.string("status"), fields.string("reason")].compactMap { $0 }
                .joined(separator: ": ")
            return event(
                .bounced, detail: detail, consent: bounceType == "bounce" ? optOut("email", reason: "hard bounce") : [])
        case "dropped": return event(.dropped, detail: fields.string("reason"))
        case "spamreport": return event(.complained, consent: optOut("email", reason: "spam complaint"))
        case "unsubscribe", "group_unsubscribe":
            return event(.unsubscribed, detail: type, consent: optOut("email", reason: "unsubscribed at SendGrid"))
        default: return .ignore
        }
    }
}
