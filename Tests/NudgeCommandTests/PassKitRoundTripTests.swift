import Foundation
import GRDB
import NudgeCore
import NudgeStore
import NudgeTestSupport
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

extension DemoProject {
    static let passTypeID = "pass.com.beanthere.loyalty"

    /// Writes what an `apple_wallet` channel reads besides its secrets: the WWDR certificate of `certificates` as
    /// `wwdr.pem`, and the pass template `Templates/member.pass/` (pass.json showing the card's stamps, an icon).
    func writeApplePassFiles(_ certificates: TestPassCertificates) throws {
        try certificates.wwdrPEM.write(to: directory.appendingPathComponent("wwdr.pem"), atomically: true, encoding: .utf8)
        let folder = directory.appendingPathComponent("Templates/member.pass")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try """
            { "formatVersion": 1, "organizationName": "{{business.name}}", "description": "{{card.name}}",
              "storeCard": { "primaryFields": [{ "key": "stamps", "label": "Stamps", "value": {{card.stamps}} }],
                             "secondaryFields": [{ "key": "member", "label": "Member", "value": "{{customer.name}}" }] } }
            """.write(to: folder.appendingPathComponent("pass.json"), atomically: true, encoding: .utf8)
        try Data([0x89, 0x50, 0x4e, 0x47]).write(to: folder.appendingPathComponent("icon.png"))
    }

    /// The files of a `.pkpass` archive, by name.
    static func passFiles(_ data: Data) throws -> [String: Data] { try NudgeTestSupport.passFiles(data) }

    /// Whether the `signature` of pass `files` verifies against `rootPEM` with `openssl smime -verify` (nil: no
    /// openssl here).
    func verifyPassSignature(_ files: [String: Data], rootPEM: String) throws -> (status: Int32, output: String)? {
        let work = directory.appendingPathComponent("verify-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        try (files["signature"] ?? Data()).write(to: work.appendingPathComponent("signature"))
        try (files["manifest.json"] ?? Data()).write(to: work.appendingPathComponent("manifest.json"))
        try rootPEM.write(to: work.appendingPathComponent("root.pem"), atomically: true, encoding: .utf8)
        return try openssl([
            "smime", "-verify", "-binary", "-inform", "DER", "-in", work.appendingPathComponent("signature").path,
            "-content", work.appendingPathComponent("manifest.json").path, "-CAfile",
            work.appendingPathComponent("root.pem").path, "-purpose", "any", "-out", "/dev/null",
        ])
    }
}

@Suite("Apple Wallet passes updated through nudge serve's PassKit web service, run as processes")
struct PassKitRoundTripTests {
    /// A request to the PassKit web service of a running `nudge serve`.
    struct PassKit {
        let base: String

        func send(
            _ method: String, _ path: String, token: String? = nil, body: String? = nil, headers: [String: String] = [:]
        ) async throws -> (status: Int, data: Data, headers: [String: String]) {
            var request = URLRequest(url: try #require(URL(string: base + "/passkit/v1" + path)))
            request.httpMethod = method
            if let token { request.setValue("ApplePass \(token)", forHTTPHeaderField: "Authorization") }
            if let body {
                request.httpBody = Data(body.utf8)
                request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            }
            for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
            let (data, response) = try await URLSession.shared.data(for: request)
            let http = try #require(response as? HTTPURLResponse)
            var fields: [String: String] = [:]
            for (name, value) in http.allHeaderFields {
                if let name = name as? String, let value = value as? String { fields[name.lowercased()] = value }
            }
            return (http.statusCode, data, fields)
        }
    }

    /// Waits for a child process on a thread of its own: the concurrency pool has a thread per core, and the fake APNs
    /// of this process must answer the child meanwhile.
    static func waitOffPool(_ running: RunningNudge, timeout: TimeInterval) async -> NudgeProcess.Result {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: running.wait(timeout: timeout).result) }
        }
    }

    @Test("register a device, send a wallet message: the device gets the empty push, lists the pass, fetches it signed with the message and stamps")
    func roundTrip() async throws {
        // Child processes are waited for off the concurrency pool (`offPool`): this process's fake APNs, and other
        // tests' loopback servers, need its threads meanwhile.
        let project = try await offPool { try DemoProject.make(customers: 60, now: "2026-11-25T15:00:00Z") }
        let certificates = try TestPassCertificates.shared
        try project.writeApplePassFiles(certificates)
        // A one-off wallet message to everyone on the 26th at 10:00 in New York.
        try """
            id: pass-news
            name: Pass news
            category: transactional
            trigger:
              once: { at: "2026-11-26T10:00" }
            actions:
              - send: { channel: wallet, template: pass-news }
            catch_up: 1d
            """.write(
            to: project.directory.appendingPathComponent("Workflows/pass-news.yaml"), atomically: true, encoding: .utf8)
        try """
            ---
            header: News for {{customer.first_name}}
            ---
            Our winter blend is in: bring your card.
            """.write(
            to: project.directory.appendingPathComponent("Templates/pass-news.wallet.mustache"), atomically: true,
            encoding: .utf8)
        // The customer whose card changed last, and the stamps on it.
        let (customer, stamps) = try #require(
            try await project.database().writer.read { db -> (String, Int)? in
                guard let row = try Row.fetchOne(
                    db, sql: "SELECT customer_id, stamps FROM progress ORDER BY updated_at DESC, offer_id LIMIT 1")
                else { return nil }
                return (row[0], row[1])
            })
        let environment = ["NUDGE_TEST_PASS_CERT": certificates.passPEM, "NUDGE_TEST_PASS_SECRET": "s3cret"]

        try await FakePassAPNs.with(passTypeID: DemoProject.passTypeID, trusting: certificates) { apns, apnsURL, caFile in
            try project.editConfig(
                replacing: "  wallet: { provider: file, path: outbox/wallet.jsonl }",
                with: """
                      wallet: { provider: apple_wallet, pass_type_id: \(DemoProject.passTypeID), team_id: ABCDE12345,
                                certificate_env: NUDGE_TEST_PASS_CERT, wwdr_certificate: wwdr.pem, template: member,
                                auth_secret_env: NUDGE_TEST_PASS_SECRET, base_url: "\(apnsURL)", ca_file: "\(caFile)" }
                    """)
            // The member adds the pass: its serial and token are in its pass.json.
            let script =
                "'\(NudgeProcess.executable.path)' wallet pass --db \(DemoProject.databaseName) '\(customer)' > member.pkpass"
            let issued = try await offPool {
                try RunningNudge(["-c", script], in: project.directory, environment: environment, executable: "/bin/sh")
                    .wait(timeout: 60).result
            }
            try #require(issued.status == 0, "\(issued.stderr)")
            let issuedFiles = try DemoProject.passFiles(Data(contentsOf: project.directory.appendingPathComponent("member.pkpass")))
            let issuedPass = try #require(
                try JSONSerialization.jsonObject(with: issuedFiles["pass.json"] ?? Data()) as? [String: Any])
            let serial = try #require(issuedPass["serialNumber"] as? String)
            let token = try #require(issuedPass["authenticationToken"] as? String)

            let server = try project.start(["serve", "--port", "0"], environment: environment)
            defer { server.send(SIGKILL) }
            let listening = try await offPool { server.waitForStderr(containing: "listening on http://127.0.0.1:", timeout: 60) }
            #expect(listening, "\(server.stderr)")
            let line = try #require(server.stderr.split(separator: "\n").first { $0.contains("listening on http://127.0.0.1:") })
            let port = try #require(Int(line.split(separator: ":").last ?? ""))
            let passKit = PassKit(base: "http://127.0.0.1:\(port)")
            let device = "d0c5e1b2a3f4"
            let pushToken = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
            let registration = "/devices/\(device)/registrations/\(DemoProject.passTypeID)/\(serial)"

            // A wrong token is refused and registers nothing.
            let forged = try await passKit.send("POST", registration, token: String(repeating: "0", count: 64), body: #"{"pushToken":"\#(pushToken)"}"#)
            #expect(forged.status == 401)
            let before = try await passKit.send("GET", "/devices/\(device)/registrations/\(DemoProject.passTypeID)")
            #expect(before.status == 204)
            // Registered (201), and again (200).
            let registered = try await passKit.send("POST", registration, token: token, body: #"{"pushToken":"\#(pushToken)"}"#)
            #expect(registered.status == 201)
            let again = try await passKit.send("POST", registration, token: token, body: #"{"pushToken":"\#(pushToken)"}"#)
            #expect(again.status == 200)
            let listed = try await passKit.send("GET", "/devices/\(device)/registrations/\(DemoProject.passTypeID)")
            #expect(listed.status == 200)
            let firstList = try #require(try JSONSerialization.jsonObject(with: listed.data) as? [String: Any])
            #expect(firstList["serialNumbers"] as? [String] == [serial])
            let tagBefore = try #require(firstList["lastUpdated"] as? String)
            let log = try await passKit.send("POST", "/log", body: #"{"logs":["a device could not fetch a pass"]}"#)
            #expect(log.status == 200)

            // The plan sends the message to the customer whose pass has a device, and suppresses it for the others
            // that have a pass, with the reason.
            let planned = try await offPool {
                try project.dryRun(now: "2026-11-26T15:00:00Z").filter { $0["workflow"] as? String == "pass-news" }.map {
                    ($0["customer"] as? String ?? "", $0["status"] as? String ?? "", $0["reason"] as? String ?? "")
                }
            }
            let mine = planned.filter { $0.0 == customer }
            #expect(mine.count == 1 && mine.first?.1 == "send", "\(mine)")
            let others = planned.filter { $0.0 != customer && $0.1 == "suppressed" }
            #expect(others.contains { $0.2.contains("no device has registered") }, "\(planned.prefix(5))")
            #expect(!planned.contains { $0.0 != customer && $0.1 == "send" })

            // The run records the message on the pass and pushes {} to the device, over TLS with the pass certificate.
            let run = await Self.waitOffPool(
                try project.start(["run", "--now", "2026-11-26T15:00:00Z"], environment: environment), timeout: 120)
            #expect(run.status == 0, "\(run.stderr)")
            let pushes = apns.received
            #expect(!pushes.isEmpty)
            #expect(pushes.allSatisfy { $0.device == pushToken && $0.topic == DemoProject.passTypeID && $0.payload == "{}" && $0.status == 200 }, "\(pushes)")
            let delivered = try project.outboxRows().filter { $0.workflowId == "pass-news" && $0.customerId == customer }
            #expect(delivered.map(\.status) == [.delivered], "\(delivered)")

            // The device asks what changed since its tag: the pass; then nothing more.
            let changed = try await passKit.send(
                "GET", "/devices/\(device)/registrations/\(DemoProject.passTypeID)?passesUpdatedSince=\(tagBefore)")
            #expect(changed.status == 200)
            let list = try #require(try JSONSerialization.jsonObject(with: changed.data) as? [String: Any])
            #expect(list["serialNumbers"] as? [String] == [serial])
            let tag = try #require(list["lastUpdated"] as? String)
            #expect(Int(tag)! > Int(tagBefore)!)
            let unchanged = try await passKit.send(
                "GET", "/devices/\(device)/registrations/\(DemoProject.passTypeID)?passesUpdatedSince=\(tag)")
            #expect(unchanged.status == 204)

            // It fetches the pass: signed, with the message and the stamps.
            #expect(try await passKit.send("GET", "/passes/\(DemoProject.passTypeID)/\(serial)").status == 401)
            let fetched = try await passKit.send("GET", "/passes/\(DemoProject.passTypeID)/\(serial)", token: token)
            #expect(fetched.status == 200)
            #expect(fetched.headers["content-type"] == "application/vnd.apple.pkpass")
            let files = try DemoProject.passFiles(fetched.data)
            let pass = try #require(try JSONSerialization.jsonObject(with: files["pass.json"] ?? Data()) as? [String: Any])
            let style = try #require(pass["storeCard"] as? [String: Any])
            #expect((style["primaryFields"] as? [[String: Any]])?.first?["value"] as? Int == stamps)
            let message = try #require((style["backFields"] as? [[String: Any]])?.first)
            #expect((message["label"] as? String)?.hasPrefix("News for") == true)
            #expect(message["value"] as? String == "Our winter blend is in: bring your card.")
            #expect(message["changeMessage"] as? String == "%@")
            if let verified = try await offPool({ try project.verifyPassSignature(files, rootPEM: certificates.rootPEM) }) {
                #expect(verified.status == 0, "\(verified.output)")
            }
            // Unchanged since its Last-Modified: 304.
            let lastModified = try #require(fetched.headers["last-modified"])
            let notModified = try await passKit.send(
                "GET", "/passes/\(DemoProject.passTypeID)/\(serial)", token: token, headers: ["If-Modified-Since": lastModified])
            #expect(notModified.status == 304)

            // send-test records its message on the pass named by --to and pushes it, as a run does.
            let sent = await Self.waitOffPool(
                try project.start(
                    [
                        "send-test", "--workflow", "pass-news", "--customer", customer, "--to", serial, "--channel", "wallet",
                        "--now", "2026-11-27T15:00:00Z",
                    ], environment: environment), timeout: 60)
            #expect(sent.status == 0, "\(sent.stderr)")
            #expect(apns.received.count == pushes.count + 1)
            let afterTest = try await passKit.send(
                "GET", "/devices/\(device)/registrations/\(DemoProject.passTypeID)?passesUpdatedSince=\(tag)")
            #expect(afterTest.status == 200)

            // The device removes the pass; history shows both.
            #expect(try await passKit.send("DELETE", registration, token: token).status == 200)
            server.send(SIGTERM)
            #expect(await Self.waitOffPool(server, timeout: 30).status == 0)
            let history = try await offPool { try project.nudge(["history", customer]) }
            #expect(history.stdout.contains("registered") && history.stdout.contains("unregistered"), "\(history.stdout)")
            #expect(history.stdout.contains("pass-news"))
            // The customer's data export names the device (GDPR access).
            let exported = try await offPool {
                try NudgeProcess.run(["customers", "export", customer, "--db", DemoProject.databaseName], in: project.directory)
            }
            let document = try #require(
                try JSONSerialization.jsonObject(with: Data(exported.stdout.utf8)) as? [String: Any], "\(exported.stderr)")
            let devices = try #require(document["pass_registrations"] as? [[String: Any]])
            #expect(devices.map { $0["device"] as? String } == [device] && devices.first?["unregistered_at"] as? String != nil)
        }
    }
}
