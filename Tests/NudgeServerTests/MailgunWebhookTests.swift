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

@Suite("POST /webhooks/mailgun")
struct MailgunWebhookTests {
    let fixture: ServerFixture
    let keys = ProviderKeys()

    init() async throws {
        fixture = try await ServerFixture.make()
    }

    /// Event data of `type` about `msg_email`, at 2026-11-25T09:58:20.5Z.
    static func eventData(_ type: String, id: String = "mg-1", extra: String = "") -> String {
        #"{"event":"\#(type)","id":"\#(id)","timestamp":1795600700.5,"recipient":"c1@example.com","user-variables":{"nudge_id":"msg_email"}\#(extra)}"#
    }

    static let headers: HTTPFields = [.contentType: "application/json"]

    @Test("a signed event is recorded with its kind and time, on the outbox message and its customer")
    func records() async throws {
        let body = ProviderKeys.mailgunBody(Self.eventData("delivered"), token: "t1", timestamp: fixture.clock.now)
        try await fixture.app(keys.settings).test(.router) { client async throws in
            let response = try await client.post("/webhooks/mailgun", headers: Self.headers, body: body)
            #expect(response.status == .ok)
            #expect(response.text.contains(#""recorded":1"#))
        }
        let event = try #require(try fixture.database.deliveryEvents(outboxID: "msg_email").first)
        #expect(event.kind == .delivered)
        #expect(event.provider == "mailgun")
        #expect(event.customerID == "c1")
        #expect(event.at == Date(timeIntervalSince1970: 1_795_600_700.5))
    }

    @Test(
        "consent follows the event: a hard bounce, a complaint or an unsubscribe turns email off; a block or an expiry does not",
        arguments: [
            (
                "failed",
                #","severity":"permanent","reason":"bounce","delivery-status":{"code":550,"message":"No such user"}"#,
                false, DeliveryEvent.Kind.bounced
            ),
            ("failed", #","severity":"temporary","reason":"generic","delivery-status":{"code":421}"#, true, .deferred),
            ("failed", #","severity":"permanent","reason":"esp-block","delivery-status":{"code":554}"#, true, .failed),
            ("failed", #","severity":"permanent","reason":"old","delivery-status":{"code":421}"#, true, .failed),
            ("failed", #","severity":"permanent","reason":"generic","delivery-status":{"code":551}"#, false, .bounced),
            ("complained", "", false, .complained),
            ("unsubscribed", "", false, .unsubscribed),
            ("opened", "", true, .opened),
            ("clicked", "", true, .clicked),
        ])
    func consent(type: String, extra: String, emailStaysOn: Bool, kind: DeliveryEvent.Kind) async throws {
        let body = ProviderKeys.mailgunBody(
            Self.eventData(type, extra: extra), token: "t1", timestamp: fixture.clock.now)
        try await fixture.app(keys.settings).test(.router) { client async throws in
            #expect(try await client.post("/webhooks/mailgun", headers: Self.headers, body: body).status == .ok)
        }
        #expect(try fixture.database.deliveryEvents(outboxID: "msg_email").map(\.kind) == [kind])
        #expect(try fixture.optIns("c1").email == emailStaysOn)
    }

    @Test("a permanent failure keeps Mailgun's reason and code as its detail")
    func failureDetail() async throws {
        let extra =
            #","severity":"permanent","reason":"bounce","delivery-status":{"code":550,"message":"No such user"}"#
        let body = ProviderKeys.mailgunBody(
            Self.eventData("failed", extra: extra), token: "t1", timestamp: fixture.clock.now)
        try await fixture.app(keys.settings).test(.router) { client async throws in
            _ = try await client.post("/webhooks/mailgun", headers: Self.headers, body: body)
        }
        #expect(try fixture.database.deliveryEvents(outboxID: "msg_email").first?.detail == "bounce: 550: No such user")
    }

    @Test("the same event under a new token is answered 200 and recorded once")
    func duplicate() async throws {
        try await fixture.app(keys.settings).test(.router) { client async throws in
            for token in ["t1", "t2"] {
                let body = ProviderKeys.mailgunBody(
                    Self.eventData("delivered"), token: token, timestamp: fixture.clock.now)
                #expect(try await client.post("/webhooks/mailgun", headers: Self.headers, body: body).status == .ok)
            }
        }
        #expect(try fixture.counts().events == 1)
    }

    @Test("a token seen before is refused, even with other event data (the signature does not cover it)")
    func replay() async throws {
        try await fixture.app(keys.settings).test(.router) { client async throws in
            let first = ProviderKeys.mailgunBody(Self.eventData("delivered"), token: "t1", timestamp: fixture.clock.now)
            #expect(try await client.post("/webhooks/mailgun", headers: Self.headers, body: first).status == .ok)
            let replayed = ProviderKeys.mailgunBody(
                Self.eventData("complained", id: "mg-2"), token: "t1", timestamp: fixture.clock.now)
            #expect(
                try await client.post("/webhooks/mailgun", headers: Self.headers, body: replayed).status
                    == .unauthorized)
        }
        #expect(try fixture.counts() == (1, 0))
        #expect(try fixture.optIns("c1").email)
    }

    enum Tampering: String, CaseIterable, Sendable {
        case wrongKey, missingSignature, staleTimestamp, changedToken
    }

    @Test("a request that does not verify is refused with 401 and changes nothing", arguments: Tampering.allCases)
    func refused(_ tampering: Tampering) async throws {
        let data = Self.eventData("complained")
        let body: String
        switch tampering {
        case .wrongKey: body = ProviderKeys.mailgunBody(data, token: "t1", timestamp: fixture.clock.now, key: "other")
        case .missingSignature: body = #"{"event-data":\#(data)}"#
        case .staleTimestamp:
            body = ProviderKeys.mailgunBody(data, token: "t1", timestamp: fixture.clock.now.addingTimeInterval(-301))
        case .changedToken:
            body = ProviderKeys.mailgunBody(data, token: "t1", timestamp: fixture.clock.now)
                .replacingOccurrences(of: #""token":"t1""#, with: #""token":"t2""#)
        }
        try await fixture.app(keys.settings).test(.router) { client async throws in
            #expect(
                try await client.post("/webhooks/mailgun", headers: Self.headers, body: body).status == .unauthorized)
        }
        #expect(try fixture.counts() == (0, 0))
        #expect(try fixture.optIns("c1").email)
    }

    @Test("a body that is not JSON, or event data without event and id, is refused with 400")
    func malformed() async throws {
        try await fixture.app(keys.settings).test(.router) { client async throws in
            #expect(
                try await client.post("/webhooks/mailgun", headers: Self.headers, body: "event=delivered").status
                    == .badRequest)
            let noID = ProviderKeys.mailgunBody(#"{"event":"delivered"}"#, token: "t1", timestamp: fixture.clock.now)
            #expect(try await client.post("/webhooks/mailgun", headers: Self.headers, body: noID).status == .badRequest)
        }
        #expect(try fixture.counts().events == 0)
    }

    @Test("without a signing key the route answers 503")
    func notConfigured() async throws {
        var settings = keys.settings
        settings.webhooks = settings.webhooks.filter { !($0 is MailgunWebhooks) } + [MailgunWebhooks(verifier: nil)]
        let body = ProviderKeys.mailgunBody(Self.eventData("delivered"), token: "t1", timestamp: fixture.clock.now)
        try await fixture.app(settings).test(.router) { client async throws in
            #expect(
                try await client.post("/webhooks/mailgun", headers: Self.headers, body: body).status
                    == .serviceUnavailable)
        }
    }
}
