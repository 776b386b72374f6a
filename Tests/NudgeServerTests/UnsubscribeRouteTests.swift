import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NudgeEngine
import NudgeProviders
import NudgeServer
import NudgeStore
import NudgeTestSupport
import Testing
import NudgeCore

@Suite("GET and POST /unsubscribe/{token}")
struct UnsubscribeRouteTests {
    let fixture: ServerFixture
    let keys = ProviderKeys()

    init() async throws {
        fixture = try await ServerFixture.make()
    }

    static let path = "/unsubscribe/" + ProviderKeys.links.token(customerID: "c1")
    static let oneClick: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]

    @Test("GET shows a confirmation page that posts back, and changes nothing (mail scanners fetch links)")
    func page() async throws {
        try await fixture.app(keys.settings).test(.router) { client async throws in
            let response = try await client.execute(uri: Self.path, method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "text/html; charset=utf-8")
            #expect(response.text.contains(#"<form method="post""#))
            #expect(response.text.contains("Bean There Café"))
            #expect(!response.text.contains("c1@example.com"))
        }
        #expect(try fixture.counts() == (0, 0))
        #expect(try fixture.optIns("c1") == (true, true))
    }

    @Test("a one-click POST (RFC 8058) turns email consent off and records why; a second POST is answered too")
    func oneClick() async throws {
        try await fixture.app(keys.settings).test(.router) { client async throws in
            let response = try await client.post(Self.path, headers: Self.oneClick, body: "List-Unsubscribe=One-Click")
            #expect(response.status == .ok)
            #expect(response.text.contains("no longer receive emails"))
            fixture.clock.advance(by: 5)
            #expect(try await client.post(Self.path, headers: Self.oneClick, body: "confirm=yes").status == .ok)
        }
        #expect(try fixture.optIns("c1") == (false, true))
        let events = try fixture.database.deliveryEvents(customerID: "c1")
        #expect(events.map(\.kind) == [.unsubscribed, .unsubscribed])
        #expect(events.map(\.provider) == ["unsubscribe", "unsubscribe"])
        #expect(events.map(\.detail) == ["unsubscribe page", "one-click (RFC 8058)"])
        #expect(try fixture.database.consentChanges(customerID: "c1").first?.change.reason == "unsubscribe link")
        #expect(try fixture.optIns("c2") == (true, true))
    }

    @Test("a POST repeated at the same instant is answered 200 and recorded once")
    func sameInstant() async throws {
        try await fixture.app(keys.settings).test(.router) { client async throws in
            for _ in 0..<2 {
                #expect(
                    try await client.post(Self.path, headers: Self.oneClick, body: "List-Unsubscribe=One-Click").status
                        == .ok)
            }
        }
        #expect(try fixture.counts() == (1, 1))
    }

    @Test(
        "a forged, unsigned or unknown customer's token gets 404 on GET and POST and changes nothing",
        arguments: [
            "/unsubscribe/" + UnsubscribeLinks(baseURL: "https://x", secret: "other").token(customerID: "c1"),
            "/unsubscribe/" + UnsubscribeLinks(baseURL: "https://x", secret: nil).token(customerID: "c1"),
            "/unsubscribe/" + ProviderKeys.links.token(customerID: "nobody"),
            "/unsubscribe/garbage",
        ])
    func forged(path: String) async throws {
        try await fixture.app(keys.settings).test(.router) { client async throws in
            #expect(try await client.execute(uri: path, method: .get).status == .notFound)
            #expect(
                try await client.post(path, headers: Self.oneClick, body: "List-Unsubscribe=One-Click").status
                    == .notFound)
        }
        #expect(try fixture.counts() == (0, 0))
        #expect(try fixture.optIns("c1") == (true, true))
    }

    @Test("without the unsubscribe secret the routes answer 503")
    func notConfigured() async throws {
        var settings = keys.settings
        settings.unsubscribe = nil
        try await fixture.app(settings).test(.router) { client async throws in
            #expect(try await client.execute(uri: Self.path, method: .get).status == .serviceUnavailable)
            #expect(try await client.post(Self.path, body: "List-Unsubscribe=One-Click").status == .serviceUnavailable)
        }
        #expect(try fixture.optIns("c1") == (true, true))
    }

    @Test("GET /healthz answers 200")
    func health() async throws {
        try await fixture.app(ServerSettings()).test(.router) { client async throws in
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
        }
    }
}
