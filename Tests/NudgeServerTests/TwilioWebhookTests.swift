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

@Suite("POST /webhooks/twilio/status and /webhooks/twilio/inbound")
struct TwilioWebhookTests {
    let fixture: ServerFixture
    let keys = ProviderKeys()

    init() async throws {
        fixture = try await ServerFixture.make()
    }

    static func status(_ status: String, sid: String = "SM1", errorCode: String? = nil) -> [(
        name: String, value: String
    )] {
        var parameters = [
            (name: "MessageSid", value: sid), (name: "SmsSid", value: sid), (name: "MessageStatus", value: status),
            (name: "SmsStatus", value: status), (name: "AccountSid", value: "AC1"),
            (name: "From", value: "+15557122661"),
            (name: "To", value: "+15550001111"), (name: "ApiVersion", value: "2010-04-01"),
        ]
        if let errorCode { parameters.append((name: "ErrorCode", value: errorCode)) }
        return parameters
    }

    static func inbound(_ body: String, sid: String = "SMin1", from: String = ServerFixture.sharedPhone)
        -> [(name: String, value: String)]
    {
        [
            (name: "MessageSid", value: sid), (name: "From", value: from), (name: "To", value: "+15557122661"),
            (name: "Body", value: body), (name: "NumMedia", value: "0"),
        ]
    }

    static let statusPath = "/webhooks/twilio/status?nudge_id=msg_sms"

    @Test("a signed status callback is recorded on the outbox message named in its URL")
    func delivered() async throws {
        let request = ProviderKeys.twilioRequest(Self.statusPath, parameters: Self.status("delivered"))
        try await fixture.app(keys.settings).test(.router) { client async throws in
            let response = try await client.post(Self.statusPath, headers: request.headers, body: request.body)
            #expect(response.status == .ok)
        }
        let event = try #require(try fixture.database.deliveryEvents(outboxID: "msg_sms").first)
        #expect(event.kind == .delivered)
        #expect(event.customerID == "c1")
        #expect(event.channel == "sms")
        #expect(event.eventID == "SM1:delivered")
        #expect(event.at == ServerFixture.start)
    }

    @Test("error 21610 (the recipient replied STOP) turns SMS consent off; another failure does not")
    func optedOut() async throws {
        try await fixture.app(keys.settings).test(.router) { client async throws in
            let stop = ProviderKeys.twilioRequest(
                Self.statusPath, parameters: Self.status("failed", errorCode: "21610"))
            #expect(try await client.post(Self.statusPath, headers: stop.headers, body: stop.body).status == .ok)
            let path = "/webhooks/twilio/status?nudge_id=msg_c3"
            let unreachable = ProviderKeys.twilioRequest(
                path, parameters: Self.status("undelivered", sid: "SM3", errorCode: "30003"))
            #expect(try await client.post(path, headers: unreachable.headers, body: unreachable.body).status == .ok)
        }
        let stopped = try #require(try fixture.database.deliveryEvents(outboxID: "msg_sms").first)
        #expect(stopped.kind == .failed)
        #expect(stopped.detail == "failed: error 21610")
        #expect(try fixture.optIns("c1") == (true, false))
        let unreachable = try #require(try fixture.database.deliveryEvents(outboxID: "msg_c3").first)
        #expect(unreachable.kind == .failed)
        #expect(unreachable.detail == "undelivered: error 30003")
        #expect(try fixture.optIns("c3") == (true, true))
    }

    @Test("a retried callback is recorded once: by I-Twilio-Idempotency-Token, else by message and status")
    func duplicates() async throws {
        let request = ProviderKeys.twilioRequest(Self.statusPath, parameters: Self.status("sent"))
        var withToken = request.headers
        withToken[HTTPField.Name("I-Twilio-Idempotency-Token")!] = "idem-1"
        try await fixture.app(keys.settings).test(.router) { [withToken] client async throws in
            #expect(try await client.post(Self.statusPath, headers: request.headers, body: request.body).status == .ok)
            let again = try await client.post(Self.statusPath, headers: request.headers, body: request.body)
            #expect(again.status == .ok)
            #expect(again.text.contains(#""duplicates":1"#))
            for _ in 0..<2 {
                #expect(try await client.post(Self.statusPath, headers: withToken, body: request.body).status == .ok)
            }
        }
        #expect(
            try fixture.database.deliveryEvents(outboxID: "msg_sms").map(\.eventID).sorted() == ["SM1:sent", "idem-1"])
    }

    @Test("Twilio's signature over the URL with an explicit :443 is accepted")
    func explicitPort() async throws {
        let request = ProviderKeys.twilioRequest(
            Self.statusPath, parameters: Self.status("delivered"),
            signedURL: "https://hooks.example.com:443" + Self.statusPath)
        try await fixture.app(keys.settings).test(.router) { client async throws in
            #expect(try await client.post(Self.statusPath, headers: request.headers, body: request.body).status == .ok)
        }
    }

    enum Tampering: String, CaseIterable, Sendable {
        case body, outboxInQuery, wrongToken, missingSignature, otherHost
    }

    @Test("a callback that does not verify is refused with 401 and changes nothing", arguments: Tampering.allCases)
    func refused(_ tampering: Tampering) async throws {
        let parameters = Self.status("failed", errorCode: "21610")
        var request = ProviderKeys.twilioRequest(Self.statusPath, parameters: parameters)
        var path = Self.statusPath
        switch tampering {
        case .body: request.body = request.body.replacingOccurrences(of: "21610", with: "21611")
        case .outboxInQuery: path = "/webhooks/twilio/status?nudge_id=msg_c3"
        case .wrongToken: request = ProviderKeys.twilioRequest(Self.statusPath, parameters: parameters, token: "other")
        case .missingSignature: request.headers[HTTPField.Name("X-Twilio-Signature")!] = nil
        case .otherHost:
            request = ProviderKeys.twilioRequest(
                Self.statusPath, parameters: parameters, signedURL: "https://evil.example.com" + Self.statusPath)
        }
        let (sent, sentPath) = (request, path)
        try await fixture.app(keys.settings).test(.router) { client async throws in
            #expect(try await client.post(sentPath, headers: sent.headers, body: sent.body).status == .unauthorized)
        }
        #expect(try fixture.counts() == (0, 0))
        #expect(try fixture.optIns("c1") == (true, true))
        #expect(try fixture.optIns("c3") == (true, true))
    }

    @Test("STOP turns SMS consent off for every customer with the number, START turns it back on")
    func stopAndStart() async throws {
        let path = "/webhooks/twilio/inbound"
        try await fixture.app(keys.settings).test(.router) { client async throws in
            let stop = ProviderKeys.twilioRequest(path, parameters: Self.inbound("  Stop \n"))
            let response = try await client.post(path, headers: stop.headers, body: stop.body)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("text/xml") == true)
            #expect(response.text.contains("<Response/>"))
        }
        #expect(try fixture.optIns("c1") == (true, false))
        #expect(try fixture.optIns("c2") == (true, false))
        #expect(try fixture.optIns("c3") == (true, true))
        #expect(try fixture.database.deliveryEvents(customerID: "c2").map(\.kind) == [.stopped])

        fixture.clock.advance(by: 60)
        try await fixture.app(keys.settings).test(.router) { client async throws in
            let start = ProviderKeys.twilioRequest(path, parameters: Self.inbound("start", sid: "SMin2"))
            #expect(try await client.post(path, headers: start.headers, body: start.body).status == .ok)
        }
        #expect(try fixture.optIns("c1") == (true, true))
        #expect(try fixture.optIns("c2") == (true, true))
        #expect(try fixture.database.consentChanges(customerID: "c1").map(\.change.optIn) == [true, false])
    }

    @Test(
        "an inbound message sent again is recorded once; other words change nothing",
        arguments: [
            "STOPALL", "unsubscribe", "Cancel", "END", "quit",
        ])
    func stopWords(word: String) async throws {
        let path = "/webhooks/twilio/inbound"
        try await fixture.app(keys.settings).test(.router) { client async throws in
            let stop = ProviderKeys.twilioRequest(path, parameters: Self.inbound(word))
            #expect(try await client.post(path, headers: stop.headers, body: stop.body).status == .ok)
            #expect(try await client.post(path, headers: stop.headers, body: stop.body).status == .ok)
            let chat = ProviderKeys.twilioRequest(
                path, parameters: Self.inbound("please stop by tomorrow", sid: "SMin9"))
            #expect(try await client.post(path, headers: chat.headers, body: chat.body).status == .ok)
        }
        #expect(try fixture.counts() == (2, 2))
        #expect(try fixture.optIns("c1").sms == false)
    }

    @Test("without an auth token or a public URL the routes answer 503")
    func notConfigured() async throws {
        var noToken = keys.settings
        noToken.webhooks = noToken.webhooks.filter { !($0 is TwilioWebhooks) } + [TwilioWebhooks(verifier: nil)]
        var noURL = keys.settings
        noURL.publicURL = nil
        for settings in [noToken, noURL] {
            let request = ProviderKeys.twilioRequest(Self.statusPath, parameters: Self.status("delivered"))
            try await fixture.app(settings).test(.router) { client async throws in
                #expect(
                    try await client.post(Self.statusPath, headers: request.headers, body: request.body).status
                        == .serviceUnavailable)
                #expect(
                    try await client.post("/webhooks/twilio/inbound", headers: request.headers, body: request.body)
                        .status == .serviceUnavailable)
            }
        }
    }
}
