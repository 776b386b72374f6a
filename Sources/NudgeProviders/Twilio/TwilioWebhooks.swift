import Foundation
import HTTPTypes
public import Hummingbird
import NudgeStore
public import NudgeServer
import NudgeCore

/// Twilio's routes of `nudge serve`: message status callbacks and incoming messages (STOP, START).
public struct TwilioWebhooks: ProviderWebhooks {
    static let statusPath = "/webhooks/twilio/status"
    static let inboundPath = "/webhooks/twilio/inbound"
    /// Verifies requests; nil (or no `serve.public_url`, which Twilio signs): the routes answer 503.
    public var verifier: TwilioSignature?
    /// Why there is no verifier, as found in nudge.yaml.
    public var problem: String

    public init(verifier: TwilioSignature?, problem: String? = nil) {
        self.verifier = verifier
        self.problem = problem ?? "no Twilio auth token"
    }

    public func routes(_ settings: ServerSettings) -> [ServerSettings.RouteStatus] {
        let problem: String? =
            verifier == nil
            ? problem
            : settings.publicURL == nil ? "serve.public_url is not set (Twilio signs the URL it calls)" : nil
        return [Self.statusPath, Self.inboundPath].map {
            ServerSettings.RouteStatus(method: "POST", path: $0, problem: problem)
        }
    }

    public func add(to router: Router<BasicRequestContext>, receiver: EventReceiver) {
        router.post(RouterPath(Self.statusPath)) { request, context in
            try await status(request, context: context, receiver: receiver)
        }
        router.post(RouterPath(Self.inboundPath)) { request, context in
            try await inbound(request, context: context, receiver: receiver)
        }
    }

    /// Replies that opt a number out of SMS (Twilio's defaults), compared trimmed and uppercased.
    static let stopWords: Set<String> = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"]
    /// Replies that opt a number back in.
    static let startWords: Set<String> = ["START", "YES", "UNSTOP"]
    /// Twilio's error for a message to a number that replied STOP.
    static let optedOutError = "21610"

    /// `POST /webhooks/twilio/status?nudge_id=…`: a message's status callback.
    func status(_ request: Request, context: some RequestContext, receiver: EventReceiver) async throws -> ReceiptSummary {
        let parameters = try await verifiedForm(request, context: context, receiver: receiver)
        guard let sid = parameters[first: "MessageSid"] ?? parameters[first: "SmsSid"],
            let status = parameters[first: "MessageStatus"] ?? parameters[first: "SmsStatus"]
        else { throw HTTPError(.badRequest, message: "a status callback needs MessageSid and MessageStatus") }
        let eventID = request.headers[named: "I-Twilio-Idempotency-Token"] ?? "\(sid):\(status)"
        let outboxID = request.uri.queryParameters["nudge_id"].map(String.init)
        let mapped = Self.statusEvent(
            status: status, errorCode: parameters[first: "ErrorCode"],
            event: EventFactory(
                provider: TwilioProvider.name, eventID: eventID, outboxID: outboxID, channel: "sms", at: receiver.now()))
        return try await receiver.record([mapped], logger: context.logger)
    }

    /// A `MessageStatus` in Nudge's terms; statuses on the way (queued, sending, …) are not recorded.
    static func statusEvent(status: String, errorCode: String?, event: EventFactory) -> MappedEvent {
        switch status {
        case "sent": return event(.sent)
        case "delivered": return event(.delivered)
        case "read": return event(.opened)
        case "canceled": return event(.dropped)
        case "failed", "undelivered":
            let detail = errorCode.map { "\(status): error \($0)" } ?? status
            let consent =
                errorCode == optedOutError ? optOut("sms", reason: "replied STOP (Twilio \(optedOutError))") : []
            return event(.failed, detail: detail, consent: consent)
        default: return .ignore
        }
    }

    /// `POST /webhooks/twilio/inbound`: an SMS to the business's number. STOP and START words change the SMS
    /// consent of every customer with the sender's number; the answer is an empty TwiML reply (Twilio answers
    /// STOP and START itself).
    func inbound(
        _ request: Request, context: some RequestContext, receiver: EventReceiver
    ) async throws -> EditedResponse<String> {
        let parameters = try await verifiedForm(request, context: context, receiver: receiver)
        guard let sid = parameters[first: "MessageSid"] ?? parameters[first: "SmsSid"],
            let from = parameters[first: "From"]
        else { throw HTTPError(.badRequest, message: "an incoming message needs MessageSid and From") }
        let word = (parameters[first: "Body"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines).uppercased()
        let kind: DeliveryEvent.Kind? =
            Self.stopWords.contains(word) ? .stopped : Self.startWords.contains(word) ? .started : nil
        if let kind {
            let customers = try await receiver.database.customerIDs(phone: from)
            let at = receiver.now()
            // One event per customer with the number (several may share one), or one naming nobody.
            let mapped: [MappedEvent]
            if customers.isEmpty {
                mapped = [EventFactory(provider: TwilioProvider.name, eventID: sid, channel: "sms", at: at)(kind, detail: word)]
            } else {
                mapped = customers.map { customer in
                    let event = EventFactory(
                        provider: TwilioProvider.name, eventID: "\(sid):\(customer)", customerID: customer, channel: "sms", at: at)
                    let change = ConsentChange(
                        customerID: customer, channel: "sms", optIn: kind == .started, reason: word)
                    return event(kind, detail: word, consent: [change])
                }
            }
            _ = try await receiver.record(mapped, logger: context.logger)
        }
        return EditedResponse(
            headers: [.contentType: "text/xml; charset=utf-8"],
            response: "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>")
    }

    /// The form parameters of a request whose `X-Twilio-Signature` verifies against the public URL it was sent to
    /// (`serve.public_url` + path + query).
    private func verifiedForm(
        _ request: Request, context: some RequestContext, receiver: EventReceiver
    ) async throws -> [(name: String, value: String)] {
        guard let verifier, let publicURL = receiver.settings.publicURL else { throw EventReceiver.notConfigured }
        let body = try await receiver.body(of: request, limit: 64 << 10)
        guard let parameters = FormParameters.parse(String(decoding: body, as: UTF8.self)) else {
            throw HTTPError(.badRequest, message: "expected a form-encoded body")
        }
        guard let signature = request.headers[named: "X-Twilio-Signature"] else {
            throw receiver.rejected(TwilioProvider.name, "missing X-Twilio-Signature", logger: context.logger)
        }
        guard verifier.isValid(signature, url: publicURL + request.uri.string, parameters: parameters) else {
            throw receiver.rejected(
                TwilioProvider.name, "signature does not verify for \(publicURL)\(request.uri.path)", logger: context.logger)
        }
        return parameters
    }
}
