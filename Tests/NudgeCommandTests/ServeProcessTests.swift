import Foundation
import GRDB
import NudgeStore
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

@Suite("nudge serve, run as a process")
struct ServeProcessTests {
    static let environment = ["NUDGE_UNSUBSCRIBE_SECRET": "test-unsubscribe-secret"]

    @Test("an emailed unsubscribe link, one-click POSTed to nudge serve on loopback, turns email off for the next plan")
    func unsubscribeRoundTrip() async throws {
        let project = try DemoProject.make(customers: 400, now: "2026-11-25T15:00:00Z")
        try project.editConfig(
            replacing: "# unsubscribe_secret_env: NUDGE_UNSUBSCRIBE_SECRET",
            with: "unsubscribe_secret_env: NUDGE_UNSUBSCRIBE_SECRET")
        // The link as the email carries it (signed: the secret is in the environment).
        let dryRun = try project.start(
            ["dry-run", "--format", "json", "--render", "--now", "2026-11-25T15:00:00Z"], environment: Self.environment)
        let planned = dryRun.wait(timeout: 120).result
        try #require(planned.status == 0, "\(planned.stderr)")
        let emails = try planned.stdout.split(separator: "\n").compactMap {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }.filter { $0["channel"] as? String == "email" && $0["status"] as? String == "send" }
        let email = try #require(emails.first)
        let customer = try #require(email["customer"] as? String)
        let body = try #require(email["body"] as? String)
        let prefix = "https://nudge.beanthere.example/unsubscribe/"
        let start = try #require(body.range(of: prefix))
        let token = String(body[start.upperBound...].prefix { $0 != "\"" })
        #expect(!token.hasSuffix(".unsigned"))

        let server = try project.start(["serve", "--port", "0"], environment: Self.environment)
        defer { server.send(SIGKILL) }
        #expect(server.waitForStderr(containing: "listening on http://127.0.0.1:", timeout: 60), "\(server.stderr)")
        let line = try #require(server.stderr.split(separator: "\n").first { $0.contains("listening on http://127.0.0.1:") })
        let port = try #require(Int(line.split(separator: ":").last ?? ""))
        let url = try #require(URL(string: "http://127.0.0.1:\(port)/unsubscribe/\(token)"))

        // A GET (a mail scanner following the link) shows the confirmation page and changes nothing.
        let (page, pageResponse) = try await URLSession.shared.data(from: url)
        #expect((pageResponse as? HTTPURLResponse)?.statusCode == 200)
        #expect(String(decoding: page, as: UTF8.self).contains("<form"))
        #expect(try emailOptIn(project, customer) == true)

        // RFC 8058 one-click.
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data("List-Unsubscribe=One-Click".utf8)
        let (_, response) = try await URLSession.shared.data(for: request)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        #expect(try emailOptIn(project, customer) == false)

        // A forged token changes nothing.
        var forged = URLRequest(url: try #require(URL(string: "http://127.0.0.1:\(port)/unsubscribe/YzAwMDAx.AAAA")))
        forged.httpMethod = "POST"
        let (_, refused) = try await URLSession.shared.data(for: forged)
        #expect((refused as? HTTPURLResponse)?.statusCode == 404)

        server.send(SIGTERM)
        #expect(server.wait(timeout: 30).result.status == 0)

        let history = try project.nudge(["history", customer])
        #expect(history.stdout.contains("unsubscribed") || history.stdout.contains("opted out"), "\(history.stdout)")
        let after = try project.dryRun(now: "2026-11-25T15:00:00Z")
        #expect(!after.contains { $0["customer"] as? String == customer && $0["channel"] as? String == "email" })
    }

    @Test("serve refuses to start when the unsubscribe secret it is told to use is not set, naming the variable")
    func missingSecret() throws {
        let project = try DemoProject.make(customers: 20, now: "2026-11-25T15:00:00Z")
        try project.editConfig(
            replacing: "# unsubscribe_secret_env: NUDGE_UNSUBSCRIBE_SECRET",
            with: "unsubscribe_secret_env: NUDGE_UNSUBSCRIBE_SECRET")
        let server = try project.start(["serve", "--port", "0"], environment: ["NUDGE_UNSUBSCRIBE_SECRET": ""])
        let result = server.wait(timeout: 60).result
        #expect(result.status == 1)
        #expect(result.stderr.contains("NUDGE_UNSUBSCRIBE_SECRET"))
    }

    func emailOptIn(_ project: DemoProject, _ customer: String) throws -> Bool? {
        try project.database().writer.read { db in
            try Bool.fetchOne(db, sql: "SELECT email_opt_in FROM customer WHERE id = ?", arguments: [customer])
        }
    }

    @Test("the example project as `nudge init` writes it serves webhooks without an unsubscribe secret (that route off)")
    func servesWithoutSecret() throws {
        let project = try DemoProject.make(customers: 20, now: "2026-11-25T15:00:00Z")
        let server = try project.start(["serve", "--port", "0"], environment: ["NUDGE_UNSUBSCRIBE_SECRET": ""])
        defer { server.send(SIGKILL) }
        #expect(server.waitForStderr(containing: "listening on http://127.0.0.1:", timeout: 60), "\(server.stderr)")
        #expect(
            server.stderr.split(separator: "\n").contains { $0.contains("/unsubscribe/{token} ") && $0.hasSuffix("off (503): serve.unsubscribe_secret_env is not set in nudge.yaml") },
            "\(server.stderr)")
        server.send(SIGTERM)
        #expect(server.wait(timeout: 30).result.status == 0)
    }
}
