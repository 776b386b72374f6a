import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NudgeProviders
import NudgeServer
import Testing

@Suite("The server over a real socket")
struct LiveServerTests {
    @Test("a signed Twilio STOP over HTTP on loopback turns SMS consent off")
    func liveStop() async throws {
        let fixture = try await ServerFixture.make()
        let path = "/webhooks/twilio/inbound"
        let request = ProviderKeys.twilioRequest(
            path,
            parameters: [
                (name: "MessageSid", value: "SMlive"), (name: "From", value: "+15550002222"),
                (name: "Body", value: "STOP"),
            ])
        let app = fixture.app(
            ProviderKeys().settings, configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client async throws in
            #expect(try await Self.patiently { try await client.execute(uri: "/healthz", method: .get) }.status == .ok)
            // Twilio repeats a webhook it got no answer to; the repeat is recognised by its MessageSid.
            #expect(try await Self.patiently { try await client.post(path, headers: request.headers, body: request.body) }.status == .ok)
        }
        #expect(try fixture.optIns("c3") == (true, false))
    }

    /// `request`, tried again (up to three times in all) when the test client's fixed 20 s read timeout passes: with
    /// the whole suite running on two cores, the server's handlers can wait that long for a thread.
    static func patiently<T>(_ request: () async throws -> T) async throws -> T {
        var attempt = 1
        while true {
            do {
                return try await request()
            } catch TestClient.Error.readTimeout where attempt < 3 {
                attempt += 1
            }
        }
    }
}
