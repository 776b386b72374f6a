import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NudgeProviders
import NudgeServer
import NudgeStore
import NudgeTestSupport
import Testing
import NudgeCore

@Suite("POST /webhooks/sendgrid")
struct SendGridWebhookTests {
    let fixture: ServerFixture
    let keys = ProviderKeys()

    init() async throws {
        fixture = try await ServerFixture.make()
    }

    /// One event of `type` about `msg_email`, at 2026-11-25T09:58:20Z.
    static func event(_ type: String, id: String, extra: String = "") -> String {
        #"{"email":"c1@example.com","timestamp":1795600700,"event":"\#(type)","sg_event_id":"\#(id)","sg_message_id":"sgm1","nudge_id":"msg_email"\#(extra)}"#
    }

    @Test("a signed batch is recorded with each event's kind and time, on the outbox message and its customer")
    func recordsBatch() async throws {
        let body =
            "["
            + [Self.event("delivered", id: "e1"), Self.event("open", id: "e2"), Self.event("click", id: "e3")]
            .joined(separator: ",") + "]"
        let headers = try keys.sendGridHeaders(body, timestamp: fixture.clock.now)
        try await fixture.app(keys.settings).test(.router) { client async throws in
            let response = try await client.post("/webhooks/sendgrid", headers: headers, body: body)
            #expect(response.status == .ok)
            #expect(response.text.contains(#""recorded":3"#))
        }
        let events = try fixture.database.deliveryEvents(outboxID: "msg_email")
        #expect(events.map(\.kind) == [.delivered, .opened, .clicked])
        #expect(events.allSatisfy { $0.customerID == "c1" && $0.channel == "email" && $0.provider == "sendgrid" })
        #expect(events.allSatisfy { $0.at == Date(timeIntervalSince1970: 1_795_600_700) })
        #expect(try fixture.optIns("c1") == (true, true))
    }

    @Test("an event sent again is answered 200 and recorded once")
    func duplicate() async throws {
        let body = "[" + Self.event("delivered", id: "e1") + "]"
        let headers = try keys.sendGridHeaders(body, timestamp: fixture.clock.now)
        try await fixture.app(keys.settings).test(.router) { client async throws in
            #expect(try await client.post("/webhooks/sendgrid", headers: headers, body: body).status == .ok)
            let again = try await client.post("/webhooks/sendgrid", headers: headers, body: body)
            #expect(again.status == .ok)
            #expect(again.text.contains(#""duplicates":1"#))
        }
        #expect(try fixture.counts().events == 1)
    }

    @Test(
        "consent follows the event: hard bounce, spam report and unsubscribe turn email off; a block or a drop does not",
        arguments: [
            (
                "bounce", #","type":"bounce","reason":"550 unknown user","status":"5.1.1""#, false,
                DeliveryEvent.Kind.bounced
            ),
            ("bounce", #","type":"blocked","reason":"554 blocked","status":"5.7.1""#, true, .bounced),
            ("spamreport", "", false, .complained),
            ("unsubscribe", "", false, .unsubscribed),
            ("group_unsubscribe", #","asm_group_id":1"#, false, .unsubscribed),
            ("dropped", #","reason":"Bounced Address""#, true, .dropped),
            ("deferred", #","response":"421 try later""#, true, .deferred),
        ])
    func consent(type: String, extra: String, emailStaysOn: Bool, kind: DeliveryEvent.Kind) async throws {
        let body = "[" + Self.event(type, id: "e-\(type)", extra: extra) + "]"
        let headers = try keys.sendGridHeaders(body, timestamp: fixture.clock.now)
        try await fixture.app(keys.settings).test(.router) { client async throws in
            #expect(try await client.post("/webhooks/sendgrid", headers: headers, body: body).status == .ok)
        }
        #expect(try fixture.optIns("c1") == (emailStaysOn, true))
        #expect(try fixture.database.deliveryEvents(outboxID: "msg_email").map(\.kind) == [kind])
        #expect(
            try fixture.database.consentChanges(customerID: "c1").map(\.change.optIn) == (emailStaysOn ? [] : [false]))
    }

    @Test("a bounce keeps SendGrid's words as its detail")
    func bounceDetail() async throws {
        let body =
            "["
            + Self.event("bounce", id: "b1", extra: #","type":"bounce","reason":"550 unknown user","status":"5.1.1""#)
            + "]"
        let headers = try keys.sendGridHeaders(body, timestamp: fixture.clock.now)
        try await fixture.app(keys.settings).test(.router) { client async throws in
            _ = try await client.post("/webhooks/sendgrid", headers: headers, body: body)
        }
        #expect(
            try fixture.database.deliveryEvents(outboxID: "msg_email").first?.detail
                == "bounce: 5.1.1: 550 unknown user")
    }

    enum Tampering: String, CaseIterable, Sendable {
        case body, wrongKey, missingSignature, missingTimestamp, staleTimestamp, futureTimestamp
    }

    @Test("a request that does not verify is refused with 401 and changes nothing", arguments: Tampering.allCases)
    func refused(_ tampering: Tampering) async throws {
        let body = "[" + Self.event("bounce", id: "e1", extra: #","type":"bounce""#) + "]"
        var sentBody = body
        var headers: HTTPFields
        switch tampering {
        case .body:
            headers = try keys.sendGridHeaders(body, timestamp: fixture.clock.now)
            sentBody = body.replacingOccurrences(of: "msg_email", with: "msg_sms")
        case .wrongKey:
            headers = try ProviderKeys().sendGridHeaders(body, timestamp: fixture.clock.now)
        case .missingSignature:
            headers = try keys.sendGridHeaders(body, timestamp: fixture.clock.now)
            headers[HTTPField.Name("X-Twilio-Email-Event-Webhook-Signature")!] = nil
        case .missingTimestamp:
            headers = try keys.sendGridHeaders(body, timestamp: fixture.clock.now)
            headers[HTTPField.Name("X-Twilio-Email-Event-Webhook-Timestamp")!] = nil
        case .staleTimestamp:
            headers = try keys.sendGridHeaders(body, timestamp: fixture.clock.now.addingTimeInterval(-301))
        case .futureTimestamp:
            headers = try keys.sendGridHeaders(body, timestamp: fixture.clock.now.addingTimeInterval(301))
        }
        let (sentHeaders, sent) = (headers, sentBody)
        try await fixture.app(keys.settings).test(.router) { client async throws in
            #expect(
                try await client.post("/webhooks/sendgrid", headers: sentHeaders, body: sent).status == .unauthorized)
        }
        #expect(try fixture.counts() == (0, 0))
        #expect(try fixture.optIns("c1") == (true, true))
    }

    @Test("a timestamp within 300 s of the clock is accepted")
    func tolerance() async throws {
        let body = "[" + Self.event("delivered", id: "e1") + "]"
        let headers = try keys.sendGridHeaders(body, timestamp: fixture.clock.now.addingTimeInterval(-299))
        try await fixture.app(keys.settings).test(.router) { client async throws in
            #expect(try await client.post("/webhooks/sendgrid", headers: headers, body: body).status == .ok)
        }
    }

    @Test(
        "a signed body that is not an array of events is refused with 400 and records nothing",
        arguments: [
            "not json", #"{"event":"delivered"}"#, #"[{"event":"delivered","sg_event_id":"e1"},{"event":"open"}]"#,
        ])
    func malformed(body: String) async throws {
        let headers = try keys.sendGridHeaders(body, timestamp: fixture.clock.now)
        try await fixture.app(keys.settings).test(.router) { client async throws in
            #expect(try await client.post("/webhooks/sendgrid", headers: headers, body: body).status == .badRequest)
        }
        #expect(try fixture.counts().events == 0)
    }

    @Test("events of kinds Nudge does not track are answered 200 and not recorded")
    func ignored() async throws {
        let body = "[" + Self.event("group_resubscribe", id: "e1") + "]"
        let headers = try keys.sendGridHeaders(body, timestamp: fixture.clock.now)
        try await fixture.app(keys.settings).test(.router) { client async throws in
            let response = try await client.post("/webhooks/sendgrid", headers: headers, body: body)
            #expect(response.status == .ok)
            #expect(response.text.contains(#""ignored":1"#))
        }
        #expect(try fixture.counts().events == 0)
    }

    @Test("without a SendGrid key the route answers 503")
    func notConfigured() async throws {
        var settings = keys.settings
        settings.webhooks = settings.webhooks.filter { !($0 is SendGridWebhooks) } + [SendGridWebhooks(verifier: nil)]
        let body = "[" + Self.event("delivered", id: "e1") + "]"
        let headers = try keys.sendGridHeaders(body, timestamp: fixture.clock.now)
        try await fixture.app(settings).test(.router) { client async throws in
            #expect(
                try await client.post("/webhooks/sendgrid", headers: headers, body: body).status == .serviceUnavailable)
        }
        #expect(try fixture.counts().events == 0)
    }
}
