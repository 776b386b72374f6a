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
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
            #expect(try await client.post(path, headers: request.headers, body: request.body).status == .ok)
        }
        #expect(try fixture.optIns("c3") == (true, false))
    }
}
