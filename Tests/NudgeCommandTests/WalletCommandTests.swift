import CryptoExtras
import Foundation
import GRDB
import NudgeStore
import Testing

@Suite("nudge wallet link, run as a process")
struct WalletCommandTests {
    static let issuer = "3388000000022195611"
    static let variable = "NUDGE_TEST_GOOGLE_WALLET_CREDENTIALS"

    /// A service account key file with a key made for this test (never a committed secret).
    static func credentials(_ key: _RSA.Signing.PrivateKey) throws -> String {
        let object: [String: Any] = [
            "type": "service_account", "project_id": "bean-there-wallet", "private_key_id": "k1",
            "private_key": key.pkcs8PEMRepresentation, "client_email": "wallet@bean-there-wallet.iam.gserviceaccount.com",
            "token_uri": "http://127.0.0.1:9/token",
        ]
        return String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
    }

    /// `nudge wallet link --db demo.sqlite CUSTOMER` in the project, with `environment` added.
    static func link(_ project: DemoProject, _ customer: String, environment: [String: String] = [:]) throws -> NudgeProcess.Result {
        try RunningNudge(
            ["wallet", "link", "--db", DemoProject.databaseName, customer], in: project.directory, environment: environment
        ).wait(timeout: 60).result
    }

    static func decode(_ part: Substring) -> [String: Any]? {
        var base64 = part.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64).flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
    }

    @Test("a customer without a pass gets one and a signed Save to Google Wallet link; errors name what is missing")
    func link() throws {
        let project = try DemoProject.make(customers: 60, now: "2026-11-25T15:00:00Z")
        let noGoogle = try Self.link(project, "c00002")
        #expect(noGoogle.status == 1)
        #expect(noGoogle.stderr.contains("'wallet link' needs a google_wallet provider"))
        try project.editConfig(
            replacing: "  wallet: { provider: file, path: outbox/wallet.jsonl }",
            with: """
                  wallet:
                    google: { provider: google_wallet, issuer_id: "\(Self.issuer)", credentials_env: \(Self.variable), class_id: stamp-card }
                    apple:  { provider: file, path: outbox/wallet.jsonl }
                """)
        let customer = try #require(
            try project.database().writer.read { db in
                try String.fetchOne(db, sql: "SELECT id FROM customer WHERE wallet_pass_id IS NULL ORDER BY id LIMIT 1")
            })
        let missing = try Self.link(project, customer)
        #expect(missing.status == 1)
        #expect(missing.stderr.contains(Self.variable))
        let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let environment = [Self.variable: try Self.credentials(key)]
        let unknown = try Self.link(project, "nobody", environment: environment)
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("no customer 'nobody'"))

        let linked = try Self.link(project, customer, environment: environment)
        #expect(linked.status == 0, "\(linked.stderr)")
        #expect(linked.stderr.contains("gets wallet pass \(customer)"))
        let url = linked.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(url.hasPrefix("https://pay.google.com/gp/v/save/"))
        let parts = url.dropFirst("https://pay.google.com/gp/v/save/".count).split(separator: ".")
        try #require(parts.count == 3)
        var signature = parts[2].replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while signature.count % 4 != 0 { signature += "=" }
        #expect(
            key.publicKey.isValidSignature(
                _RSA.Signing.RSASignature(rawRepresentation: try #require(Data(base64Encoded: signature))),
                for: Data("\(parts[0]).\(parts[1])".utf8), padding: .insecurePKCS1v1_5))
        let claims = try #require(Self.decode(parts[1]))
        #expect(claims["typ"] as? String == "savetowallet")
        let object = try #require(((claims["payload"] as? [String: Any])?["loyaltyObjects"] as? [[String: Any]])?.first)
        #expect(object["id"] as? String == "\(Self.issuer).\(customer)")
        #expect(object["classId"] as? String == "\(Self.issuer).stamp-card")
        let stored = try project.database().writer.read { db in
            try Row.fetchOne(db, sql: "SELECT wallet_pass_id, wallet_platform FROM customer WHERE id = ?", arguments: [customer])
        }
        #expect(stored?["wallet_pass_id"] as String? == customer)
        #expect(stored?["wallet_platform"] as String? == "google")
        // Again: the same pass.
        let again = try Self.link(project, customer, environment: environment)
        #expect(again.status == 0 && again.stderr.contains("has wallet pass \(customer)"))
    }
}
