import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NudgeLanguage
import NudgeProviders
import NudgeServer
import NudgeStore
import NudgeTestSupport
import Testing
import NudgeCore

@Suite("Apple's PassKit web service of nudge serve: what it refuses")
struct PassKitServiceTests {
    let fixture: ServerFixture
    static let passType = "pass.com.beanthere.loyalty"

    init() async throws {
        fixture = try await ServerFixture.make()
        try await fixture.database.writer.write { db in
            try db.execute(sql: "UPDATE customer SET wallet_pass_id = 'c1-pass', wallet_platform = 'apple' WHERE id = 'c1'")
        }
    }

    /// The service of an `apple_wallet` channel whose files are written into the fixture's folder.
    func settings(publicURL: String? = "https://nudge.example") throws -> ServerSettings {
        let certificates = try TestPassCertificates.shared
        let root = fixture.directory
        try certificates.wwdrPEM.write(to: root.appendingPathComponent("wwdr.pem"), atomically: true, encoding: .utf8)
        let folder = root.appendingPathComponent("Templates/member.pass")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try #"{ "formatVersion": 1, "storeCard": { "primaryFields": [{ "key": "s", "value": {{card.stamps}} }] } }"#
            .write(to: folder.appendingPathComponent("pass.json"), atomically: true, encoding: .utf8)
        let passes = try ApplePasses(
            settings: [
                "pass_type_id": Self.passType, "team_id": "ABCDE12345", "certificate_env": "CERT",
                "wwdr_certificate": "wwdr.pem", "template": "member", "auth_secret_env": "SECRET",
            ],
            environment: ["CERT": certificates.passPEM, "SECRET": "s3cret"], resolve: { root.appendingPathComponent($0).path },
            publicURL: publicURL, businessName: "Bean There")
        return ServerSettings(publicURL: publicURL, webhooks: [PassKitService(passes: passes)])
    }

    static let token = PassPackage.authenticationToken(serial: "c1-pass", secret: "s3cret")
    static let registration = "/passkit/v1/devices/d1/registrations/\(passType)/c1-pass"
    static func authorized(_ token: String = PassKitServiceTests.token) -> HTTPFields {
        [.authorization: "ApplePass \(token)", .contentType: "application/json"]
    }

    func registrations() throws -> Int {
        try fixture.database.passRegistrations(customerID: "c1").filter { $0.unregisteredAt == nil }.count
    }

    @Test("wrong or missing tokens are 401, other pass types and unknown serials 404, bad bodies 400: nothing changes")
    func refusals() async throws {
        let settings = try settings()
        try await fixture.app(settings, passes: fixture.database).test(.router) { client async throws in
            let body = #"{"pushToken":"abcd"}"#
            #expect(try await client.post(Self.registration, headers: Self.authorized(String(repeating: "0", count: 64)), body: body).status == .unauthorized)
            #expect(try await client.post(Self.registration, headers: [.contentType: "application/json"], body: body).status == .unauthorized)
            // Another pass's token does not open this one.
            let other = PassPackage.authenticationToken(serial: "c2-pass", secret: "s3cret")
            #expect(try await client.post(Self.registration, headers: Self.authorized(other), body: body).status == .unauthorized)
            let otherType = "/passkit/v1/devices/d1/registrations/pass.com.other/c1-pass"
            #expect(try await client.post(otherType, headers: Self.authorized(), body: body).status == .notFound)
            let unknown = "/passkit/v1/devices/d1/registrations/\(Self.passType)/nobody"
            let nobodyToken = PassPackage.authenticationToken(serial: "nobody", secret: "s3cret")
            #expect(try await client.post(unknown, headers: Self.authorized(nobodyToken), body: body).status == .notFound)
            #expect(try await client.post(Self.registration, headers: Self.authorized(), body: "{}").status == .badRequest)
            #expect(try await client.post(Self.registration, headers: Self.authorized(), body: #"{"pushToken":""}"#).status == .badRequest)
            #expect(try registrations() == 0)
            // Registered; a DELETE with a wrong token leaves it.
            #expect(try await client.post(Self.registration, headers: Self.authorized(), body: body).status == .created)
            #expect(try await client.execute(uri: Self.registration, method: .delete, headers: Self.authorized(String(repeating: "1", count: 64))).status == .unauthorized)
            #expect(try registrations() == 1)
            #expect(try await client.execute(uri: "/passkit/v1/passes/\(Self.passType)/c1-pass", method: .get).status == .unauthorized)
            // The list names no pass of another type, and a log that is not JSON is refused.
            #expect(try await client.execute(uri: "/passkit/v1/devices/d1/registrations/pass.com.other", method: .get).status == .noContent)
            #expect(try await client.post("/passkit/v1/log", headers: [.contentType: "application/json"], body: "logs").status == .badRequest)
            #expect(try await client.execute(uri: Self.registration, method: .delete, headers: Self.authorized()).status == .ok)
            #expect(try registrations() == 0)
        }
    }

    @Test("without serve.public_url or the store, every route answers 503")
    func notConfigured() async throws {
        let withoutURL = try settings(publicURL: nil)
        #expect(withoutURL.routes.filter { $0.path.hasPrefix("/passkit/") }.allSatisfy { $0.problem?.contains("serve.public_url") == true })
        try await fixture.app(withoutURL, passes: fixture.database).test(.router) { client async throws in
            #expect(try await client.post(Self.registration, headers: Self.authorized(), body: #"{"pushToken":"a"}"#).status == .serviceUnavailable)
        }
        try await fixture.app(try settings()).test(.router) { client async throws in
            #expect(try await client.post(Self.registration, headers: Self.authorized(), body: #"{"pushToken":"a"}"#).status == .serviceUnavailable)
        }
        #expect(try registrations() == 0)
    }
}
