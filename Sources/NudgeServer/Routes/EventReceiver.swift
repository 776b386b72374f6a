public import Foundation
public import HTTPTypes
public import Hummingbird
public import Logging
import NIOCore
public import NudgeStore
public import NudgeCore

/// A provider's report mapped for the store: the event and the consent changes it causes (a change with an empty
/// customer id applies to the customer of the event's outbox message).
public struct ReceivedEvent {
    public var event: DeliveryEvent
    public var consent: [ConsentChange] = []
}

/// What a provider's report means to Nudge: an event to record, or nothing (a kind Nudge does not track).
public enum MappedEvent {
    case record(ReceivedEvent)
    case ignore
}

/// Makes the mapped events of one provider report: the fields they share, then a kind each.
public struct EventFactory {
    public var provider: String
    public var eventID: String
    public var outboxID: String?
    public var customerID: String?
    public var channel: String
    public var at: Date

    public init(
        provider: String, eventID: String, outboxID: String? = nil, customerID: String? = nil, channel: String,
        at: Date
    ) {
        self.provider = provider
        self.eventID = eventID
        self.outboxID = outboxID
        self.customerID = customerID
        self.channel = channel
        self.at = at
    }

    public func callAsFunction(_ kind: DeliveryEvent.Kind, detail: String? = nil, consent: [ConsentChange] = []) -> MappedEvent
    {
        .record(
            ReceivedEvent(
                event: DeliveryEvent(
                    provider: provider, eventID: eventID, outboxID: outboxID, customerID: customerID, channel: channel,
                    kind: kind, at: at, detail: detail),
                consent: consent))
    }
}

/// The answer to a provider: how many events were new, already recorded, or of kinds Nudge does not track.
public struct ReceiptSummary: ResponseEncodable, Equatable {
    public var recorded = 0
    public var duplicates = 0
    public var ignored = 0
}

/// What the routes share: the settings, the store, the clock and the memory of signature tokens.
public struct EventReceiver: Sendable {
    public let settings: ServerSettings
    public let database: any EventStore
    /// The passes and their registrations, for Apple's PassKit web service (nil: its routes answer 503).
    public let passes: (any PassStore & PlanningStore)?
    public let now: @Sendable () -> Date
    public let replays: ReplayGuard

    /// The largest webhook body read (SendGrid batches events).
    public static let webhookBodyLimit = 4 << 20

    /// Records `mapped` events, each in its own transaction (a duplicate changes nothing), and logs each by its
    /// provider, kind and outbox id, never by address.
    public func record(_ mapped: [MappedEvent], logger: Logger) async throws -> ReceiptSummary {
        var summary = ReceiptSummary()
        let receivedAt = now()
        for item in mapped {
            guard case .record(let received) = item else {
                summary.ignored += 1
                continue
            }
            let event = received.event
            var metadata: Logger.Metadata = [
                "event.provider": "\(event.provider)", "event.kind": "\(event.kind.rawValue)",
            ]
            if let outboxID = event.outboxID { metadata["outbox.id"] = "\(outboxID)" }
            guard try await database.record(event, consent: received.consent, receivedAt: receivedAt) else {
                summary.duplicates += 1
                logger.debug("duplicate delivery event ignored", metadata: metadata)
                continue
            }
            summary.recorded += 1
            logger.info("delivery event recorded", metadata: metadata)
            for change in received.consent {
                var consent = metadata
                consent["consent.channel"] = "\(change.channel)"
                consent["consent.opt_in"] = "\(change.optIn)"
                let customer = change.customerID.isEmpty ? event.customerID : change.customerID
                if let customer { consent["customer.ref"] = "\(customer)" }
                logger.notice("consent changed", metadata: consent)
            }
        }
        return summary
    }

    /// The request's body, at most `limit` bytes (413 beyond).
    public func body(of request: Request, limit: Int = EventReceiver.webhookBodyLimit) async throws -> Data {
        var request = request
        let buffer = try await request.collectBody(upTo: limit)
        return Data(buffer.readableBytesView)
    }

    /// Whether a signed timestamp (seconds since 1970) is within the tolerance of the clock.
    public func isFresh(_ seconds: Double) -> Bool {
        abs(now().timeIntervalSince1970 - seconds) <= settings.tolerance
    }

    /// The 401 for a request that does not verify, logged with the reason (never the signature).
    public func rejected(_ provider: String, _ reason: String, logger: Logger) -> HTTPError {
        logger.notice("webhook rejected", metadata: ["event.provider": "\(provider)", "rejection.reason": "\(reason)"])
        return HTTPError(.unauthorized, message: "the request is not signed by \(provider): \(reason)")
    }

    /// The 503 of a route whose key is not in the environment (the reason is logged at start, not told callers).
    public static let notConfigured = HTTPError(.serviceUnavailable, message: "not configured")
}

extension HTTPFields {
    /// The first value of the field called `name`.
    public subscript(named name: String) -> String? {
        get { HTTPField.Name(name).flatMap { self[$0] } }
        set {
            if let field = HTTPField.Name(name) { self[field] = newValue }
        }
    }
}

/// The consent change of an opt-out reported about an outbox message (whose customer the store looks up).
public func optOut(_ channel: String, reason: String) -> [ConsentChange] {
    [ConsentChange(customerID: "", channel: channel, optIn: false, reason: reason)]
}
