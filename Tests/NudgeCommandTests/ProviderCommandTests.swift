import Foundation
import GRDB
import NudgeStore
import Testing

@Suite("send-test, provider checks and history, run as a process")
struct ProviderCommandTests {
    @Test("send-test renders the workflow for the customer, sends it to the test address, and writes no ledger or outbox row")
    func sendTest() throws {
        let project = try DemoProject.make(customers: 200, now: "2026-11-25T15:00:00Z")
        let before = try project.database().writer.read { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM ledger") ?? -1, try Int.fetchOne(db, sql: "SELECT count(*) FROM outbox") ?? -1)
        }
        let result = try project.nudge([
            "send-test", "--workflow", "win-back", "--customer", "c00002", "--to", "+15550001111", "--now",
            "2026-11-25T15:00:00Z",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("sent sms to +15550001111 through file"))
        #expect(result.stdout.contains("we miss you"))
        let lines = try project.outboxLines()
        let sent = try #require(lines.first { $0.fields["to"] as? String == "+15550001111" })
        #expect(sent.fields["customer"] as? String == "c00002")
        #expect(sent.fields["workflow"] as? String == "win-back")
        #expect(sent.id.hasPrefix("test-"))
        let after = try project.database().writer.read { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM ledger") ?? -1, try Int.fetchOne(db, sql: "SELECT count(*) FROM outbox") ?? -1)
        }
        #expect(after == before)
    }

    @Test("send-test names what is wrong: an unknown workflow or customer, a channel the workflow does not send")
    func sendTestErrors() throws {
        let project = try DemoProject.make(customers: 50, now: "2026-11-25T15:00:00Z")
        let unknownWorkflow = try project.nudge(["send-test", "--workflow", "win-bak", "--customer", "c00002", "--to", "a@b.example"])
        #expect(unknownWorkflow.status == 1)
        #expect(unknownWorkflow.stderr.contains("no workflow 'win-bak' (did you mean 'win-back'?)"))
        let unknownCustomer = try project.nudge(["send-test", "--workflow", "win-back", "--customer", "nobody", "--to", "a@b.example"])
        #expect(unknownCustomer.status == 1)
        #expect(unknownCustomer.stderr.contains("no customer 'nobody'"))
        let wrongChannel = try project.nudge(["send-test", "--workflow", "welcome", "--customer", "c00002", "--to", "+15550001111"])
        #expect(wrongChannel.status == 1)
        #expect(wrongChannel.stderr.contains("--channel"))
        let badChannel = try project.nudge(["send-test", "--workflow", "welcome", "--customer", "c00002", "--to", "x", "--channel", "fax"])
        #expect(badChannel.status == 2)
    }

    @Test("check names a provider's missing secret by its variable, never a value, and warns about unsubscribe links and long SMS text")
    func checkProviders() throws {
        let directory = try NudgeProcess.temporaryDirectory().appendingPathComponent("project")
        try #require(try NudgeProcess.run(["init", directory.path]).status == 0)
        let config = directory.appendingPathComponent("nudge.yaml")
        var text = try String(contentsOf: config, encoding: .utf8)
        text = text.replacingOccurrences(
            of: "  email:  { provider: file, path: outbox/email.jsonl }",
            with: "  email:  { provider: sendgrid, api_key_env: NUDGE_TEST_NEVER_SET_KEY, from: hello@cafe.example }")
        try text.write(to: config, atomically: true, encoding: .utf8)
        let welcome = directory.appendingPathComponent("Templates/welcome.email.mustache")
        try String(contentsOf: welcome, encoding: .utf8).replacingOccurrences(of: "{{unsubscribe_url}}", with: "https://cafe.example")
            .write(to: welcome, atomically: true, encoding: .utf8)
        let sms = directory.appendingPathComponent("Templates/win-back.sms.mustache")
        try ("Hi {{customer.first_name}}! " + String(repeating: "We miss you. ", count: 14) + "Reply STOP to opt out\n")
            .write(to: sms, atomically: true, encoding: .utf8)

        let result = try NudgeProcess.run(["check", "--project", directory.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("nudge.yaml:"))
        #expect(result.stderr.contains("warning: channel 'email' reads its api_key_env from the environment variable NUDGE_TEST_NEVER_SET_KEY, which is not set here"))
        #expect(result.stderr.contains("Templates/welcome.email.mustache:1:1: warning: this email has no unsubscribe link"))
        #expect(result.stderr.contains("Templates/win-back.sms.mustache:1:1: warning: the fixed text of this SMS alone takes 2 segments (GSM-7"))

        let run = try NudgeProcess.run(["run", "--project", directory.path, "--db", directory.appendingPathComponent("x.sqlite").path])
        #expect(run.status == 1)
        #expect(run.stderr.contains("NUDGE_TEST_NEVER_SET_KEY"))
    }

    @Test("dry-run shows the segments and encoding of every SMS")
    func dryRunSegments() throws {
        let project = try DemoProject.make(customers: 400, now: "2026-11-25T15:00:00Z")
        let messages = try project.dryRun(now: "2026-11-25T15:00:00Z")
        let sms = messages.filter { $0["channel"] as? String == "sms" && $0["status"] as? String == "send" }
        try #require(!sms.isEmpty)
        for message in sms {
            #expect(message["segments"] as? Int == 1)
            #expect(message["encoding"] as? String == "GSM-7")
        }
        #expect(messages.filter { $0["channel"] as? String == "email" }.allSatisfy { $0["segments"] == nil })
    }
}
