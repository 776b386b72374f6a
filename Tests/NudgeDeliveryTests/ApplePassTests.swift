import Crypto
import CryptoExtras
import Foundation
import NudgeProviders
import SwiftASN1
import Testing
import X509
import NudgeTestSupport

@Suite("Apple Wallet passes: rendered, manifested, signed and zipped")
struct ApplePassTests {
    static let passJSON = """
        {
          "formatVersion": 1,
          "organizationName": "{{business.name}}",
          "description": "{{card.name}}",
          "storeCard": {
            "primaryFields": [{ "key": "stamps", "label": "Stamps", "value": {{card.stamps}}, "changeMessage": "You have %@ stamps" }],
            "secondaryFields": [{ "key": "member", "label": "Member", "value": "{{customer.name}}" }]
          }
        }
        """

    static func template() throws -> (URL, PassTemplate) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("nudge-pass-\(UUID().uuidString)")
            .appendingPathComponent("member.pass")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("en.lproj"), withIntermediateDirectories: true)
        try passJSON.write(to: folder.appendingPathComponent("pass.json"), atomically: true, encoding: .utf8)
        try Data([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]).write(to: folder.appendingPathComponent("icon.png"))
        try Data("\"stamps\" = \"Stamps\";".utf8).write(to: folder.appendingPathComponent("en.lproj/pass.strings"))
        return (folder, try PassTemplate(folder: folder))
    }

    static func content(message: (String, String)? = ("Two stamps to go", "Your free coffee is close")) -> PassContent {
        PassContent(
            serialNumber: "ana-1", passTypeIdentifier: "pass.com.beanthere.loyalty", teamIdentifier: "ABCDE12345",
            webService: ("https://nudge.beanthere.example/passkit", PassPackage.authenticationToken(serial: "ana-1", secret: "s3cret")),
            message: message,
            values: [
                "customer": ["name": #"Ana "Bean" O'Neil & co\"#], "card": ["name": "Coffee card", "stamps": "8"],
                "business": ["name": "Bean There Café"],
            ])
    }

    /// The files of a zipped pass, by name.
    static func unzip(_ data: Data) throws -> [String: Data] { try passFiles(data) }

    @Test("pass.json is the template rendered for the customer, with the pass's identity, web service and message")
    func passJSON() throws {
        let (folder, template) = try Self.template()
        defer { try? FileManager.default.removeItem(at: folder.deletingLastPathComponent()) }
        let data = try PassPackage.passJSON(template, Self.content())
        let pass = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(pass["serialNumber"] as? String == "ana-1")
        #expect(pass["passTypeIdentifier"] as? String == "pass.com.beanthere.loyalty")
        #expect(pass["teamIdentifier"] as? String == "ABCDE12345")
        #expect(pass["webServiceURL"] as? String == "https://nudge.beanthere.example/passkit")
        #expect(pass["authenticationToken"] as? String == PassPackage.authenticationToken(serial: "ana-1", secret: "s3cret"))
        #expect((pass["authenticationToken"] as? String)?.count == 64)
        #expect(pass["organizationName"] as? String == "Bean There Café")
        let card = try #require(pass["storeCard"] as? [String: Any])
        let primary = try #require((card["primaryFields"] as? [[String: Any]])?.first)
        #expect(primary["value"] as? Int == 8)
        let member = try #require((card["secondaryFields"] as? [[String: Any]])?.first)
        #expect(member["value"] as? String == #"Ana "Bean" O'Neil & co\"#, "values are escaped for JSON, not HTML")
        let message = try #require((card["backFields"] as? [[String: Any]])?.first)
        #expect(message["key"] as? String == PassPackage.messageField)
        #expect(message["label"] as? String == "Two stamps to go")
        #expect(message["value"] as? String == "Your free coffee is close")
        #expect(message["changeMessage"] as? String == "%@")
        // No message: no field; no style: an error naming the file.
        let plain = try JSONSerialization.jsonObject(with: try PassPackage.passJSON(template, Self.content(message: nil))) as? [String: Any]
        #expect((plain?["storeCard"] as? [String: Any])?["backFields"] == nil)
        try #"{"formatVersion": 1}"#.write(to: folder.appendingPathComponent("pass.json"), atomically: true, encoding: .utf8)
        #expect {
            _ = try PassPackage.passJSON(try PassTemplate(folder: folder), Self.content())
        } throws: { error in
            "\(error)".contains("pass.json: the pass needs one style")
        }
    }

    @Test("the .pkpass holds every file, a manifest of their SHA-1s, and a signature openssl verifies against the CA")
    func signedPackage() throws {
        let (folder, template) = try Self.template()
        let work = folder.deletingLastPathComponent()
        defer { try? FileManager.default.removeItem(at: work) }
        let certificates = try TestPassCertificates.shared
        let signer = try PassSigner(certificatePEM: certificates.passPEM, wwdrPEM: certificates.wwdrPEM)
        let pkpass = try PassPackage.build(template, Self.content(), signer: signer, at: Date())
        let files = try Self.unzip(pkpass)
        #expect(Set(files.keys) == ["pass.json", "icon.png", "en.lproj/pass.strings", "manifest.json", "signature"])
        let manifestData = try #require(files["manifest.json"])
        let manifest = try #require(try JSONSerialization.jsonObject(with: manifestData) as? [String: String])
        #expect(Set(manifest.keys) == ["pass.json", "icon.png", "en.lproj/pass.strings"])
        for (name, hash) in manifest {
            let data = try #require(files[name])
            #expect(hash == Insecure.SHA1.hash(data: data).map { String(format: "%02x", $0) }.joined(), "\(name)")
        }
        let signature = work.appendingPathComponent("signature")
        let manifestFile = work.appendingPathComponent("manifest.json")
        let root = work.appendingPathComponent("root.pem")
        try files["signature"]!.write(to: signature)
        try files["manifest.json"]!.write(to: manifestFile)
        try certificates.rootPEM.write(to: root, atomically: true, encoding: .utf8)
        let verify = [
            "smime", "-verify", "-binary", "-inform", "DER", "-in", signature.path, "-content", manifestFile.path,
            "-CAfile", root.path, "-purpose", "any", "-out", "/dev/null",
        ]
        guard let verified = try openssl(verify) else { return }
        #expect(verified.status == 0, "\(verified.output)")
        #expect(verified.output.contains("Verification successful"))
        // The signature carries the WWDR intermediate beside the pass certificate.
        let certs = try #require(try openssl(["pkcs7", "-inform", "DER", "-in", signature.path, "-print_certs", "-noout"]))
        #expect(certs.output.contains("Worldwide Developer Relations") && certs.output.contains("Pass Type ID"))
        // A manifest changed after signing does not verify.
        try Data(files["manifest.json"]!.reversed()).write(to: manifestFile)
        let tampered = try #require(try openssl(verify))
        #expect(tampered.status != 0)
    }

    @Test("certificates that cannot sign are refused with what is wrong, never quoting a key")
    func badCertificates() throws {
        let certificates = try TestPassCertificates.shared
        let other = try TestPassCertificates.other
        func problem(_ pem: String, _ wwdr: String) -> String {
            do {
                _ = try PassSigner(certificatePEM: pem, wwdrPEM: wwdr)
                return "accepted"
            } catch {
                return error.description
            }
        }
        #expect(problem("not pem", certificates.wwdrPEM) == "the pass certificate is not PEM text")
        #expect(problem(certificates.wwdrPEM, certificates.wwdrPEM).contains("holds no private key"))
        let mismatched = certificates.passPEM.components(separatedBy: "-----BEGIN PRIVATE KEY-----")[0]
            + "-----BEGIN PRIVATE KEY-----" + other.passPEM.components(separatedBy: "-----BEGIN PRIVATE KEY-----")[1]
        #expect(problem(mismatched, certificates.wwdrPEM) == "the private key is not the pass certificate's")
        #expect(problem(certificates.passPEM, "x") == "the WWDR certificate is not a PEM certificate")
        #expect(problem(certificates.passPEM, certificates.wwdrPEM) == "accepted")
    }
}
