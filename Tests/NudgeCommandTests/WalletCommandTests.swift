import CryptoExtras
import Foundation
import GRDB
import NudgeStore
import NudgeTestSupport
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

    @Test("wallet pass writes a signed .pkpass of the customer's card and latest wallet message; errors name what is missing")
    func applePass() throws {
        let project = try DemoProject.make(customers: 60, now: "2026-11-25T15:00:00Z")
        try project.editConfig(
            replacing: "  wallet: { provider: file, path: outbox/wallet.jsonl }",
            with: """
                  wallet:
                    apple: { provider: apple_wallet, pass_type_id: pass.com.beanthere.loyalty, team_id: ABCDE12345,
                             certificate_env: NUDGE_TEST_PASS_CERT, wwdr_certificate: wwdr.pem, template: member,
                             auth_secret_env: NUDGE_TEST_PASS_SECRET }
                """)
        let unready = try project.nudge(["check"])
        #expect(unready.status == 1)
        #expect(unready.stderr.contains("error: wwdr_certificate: cannot read wwdr.pem"), "\(unready.stderr)")
        #expect(unready.stderr.contains("error: template: Templates/member.pass/pass.json: cannot read the pass template"))
        let certificates = try TestPassCertificates.shared
        try project.writeApplePassFiles(certificates)
        let check = try project.nudge(["check"])
        #expect(check.status == 0, "\(check.stderr)")
        #expect(!check.stderr.contains("apple_wallet"), "serve.public_url is set: \(check.stderr)")
        // A customer with a card and a wallet message recorded on their pass (the pass id they have, or the one
        // `wallet pass` gives them).
        let (customer, card, serial) = try #require(
            try project.database().writer.read { db -> (String, Int, String)? in
                guard let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT p.customer_id, p.stamps, coalesce(nullif(c.wallet_pass_id, ''), c.id)
                        FROM progress p JOIN customer c ON c.id = p.customer_id
                        ORDER BY p.updated_at DESC, p.offer_id LIMIT 1
                        """)
                else { return nil }
                return (row[0], row[1], row[2])
            })
        try project.database().writer.write { db in
            try db.execute(sql: "UPDATE progress SET updated_at = updated_at + 1000000000 WHERE customer_id = ? AND stamps = ?", arguments: [customer, card])
            try db.execute(
                sql: """
                    INSERT INTO pass_update (pass_type_id, serial, customer_id, tag, updated_at, outbox_id, header, body)
                    VALUES ('pass.com.beanthere.loyalty', ?, ?, 1, 5, 'msg_w1', 'Two stamps to go', 'Your free coffee is close')
                    """, arguments: [serial, customer])
        }
        let output = project.directory.appendingPathComponent("member.pkpass")
        func pass(_ who: String, environment: [String: String]) throws -> NudgeProcess.Result {
            let script = "'\(NudgeProcess.executable.path)' wallet pass --db \(DemoProject.databaseName) '\(who)' > member.pkpass"
            return try RunningNudge(["-c", script], in: project.directory, environment: environment, executable: "/bin/sh")
                .wait(timeout: 60).result
        }
        let missing = try pass(customer, environment: [:])
        #expect(missing.status == 1 && missing.stderr.contains("NUDGE_TEST_PASS_CERT"), "\(missing.stderr)")
        let environment = ["NUDGE_TEST_PASS_CERT": certificates.passPEM, "NUDGE_TEST_PASS_SECRET": "s3cret"]
        let made = try pass(customer, environment: environment)
        #expect(made.status == 0, "\(made.stderr)")
        #expect(made.stderr.contains("wrote the pass of customer '\(customer)'"))
        let files = try passFiles(Data(contentsOf: output))
        #expect(Set(files.keys) == ["pass.json", "icon.png", "manifest.json", "signature"])
        let passData = try #require(files["pass.json"])
        let json = try #require(try JSONSerialization.jsonObject(with: passData) as? [String: Any])
        #expect(json["serialNumber"] as? String == serial)
        #expect(json["webServiceURL"] as? String == "https://nudge.beanthere.example/passkit")
        #expect((json["authenticationToken"] as? String)?.count == 64)
        let style = try #require(json["storeCard"] as? [String: Any])
        #expect((style["primaryFields"] as? [[String: Any]])?.first?["value"] as? Int == card)
        let back = (style["backFields"] as? [[String: Any]])?.first
        #expect(back?["label"] as? String == "Two stamps to go" && back?["value"] as? String == "Your free coffee is close")
        let stored = try project.database().writer.read { db in
            try Row.fetchOne(db, sql: "SELECT wallet_pass_id, wallet_platform FROM customer WHERE id = ?", arguments: [customer])
        }
        #expect(stored?["wallet_pass_id"] as String? == serial)
        // The signature verifies against the test root.
        if let verified = try project.verifyPassSignature(files, rootPEM: certificates.rootPEM) {
            #expect(verified.status == 0, "\(verified.output)")
        }
        let unknown = try pass("nobody", environment: environment)
        #expect(unknown.status == 1 && unknown.stderr.contains("no customer 'nobody'"))
    }
}
