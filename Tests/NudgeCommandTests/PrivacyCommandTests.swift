import Foundation
import GRDB
import NudgeStore
import Testing
import NudgeCore

/// GDPR access and erasure as a user runs them: `nudge customers export` and `nudge customers erase`.
@Suite("nudge customers export and erase")
struct PrivacyCommandTests {
    static let now = "2026-11-25T10:00:00Z"
    static let key = ["NUDGE_ERASURE_KEY": "a-long-erasure-key-for-tests"]
    /// What must not survive the erasure of c1 anywhere: name, email, phone, birth date.
    static let personal = ["Zelda Quartermain", "zelda.quartermain@example.org", "+15557654321", "1984-07-19"]

    /// A project with two customers who signed up an hour ago, c1's visits, and a workflow that texts c1's birth
    /// date; `nudge run` has delivered the welcome email and the text to the `file` provider's outputs.
    static func project() throws -> URL {
        let directory = try NudgeProcess.temporaryDirectory()
        _ = try NudgeProcess.run(["init", directory.path])
        let files = [
            "customers.csv": """
                id,name,email,phone,birth_date,email_opt_in,sms_opt_in,signed_up_at,timezone,favorite_drink
                c1,Zelda Quartermain,zelda.quartermain@example.org,+15557654321,1984-07-19,yes,yes,2026-11-25T09:00:00Z,Europe/London,latte
                c2,Bo Chen,bo@example.com,+15550000002,1990-01-02,yes,yes,2026-11-25T09:00:00Z,,tea
                """,
            "visits.csv": """
                customer_id,visited_at,amount
                c1,2026-10-01T09:00:00Z,4.50
                c1,2026-11-01T09:00:00Z,6.00
                c2,2026-11-02T09:00:00Z,3.00
                """,
            "Workflows/sms-hello.yaml": """
                id: sms-hello
                trigger:
                  signup: { days_after: 0 }
                actions:
                  - send: { channel: sms, template: sms-hello }
                """,
            "Templates/sms-hello.sms.mustache": "Hi {{customer.first_name}}, born {{customer.birth_date}}: a coffee on us.\n",
        ]
        for (path, text) in files {
            try text.write(to: directory.appendingPathComponent(path), atomically: true, encoding: .utf8)
        }
        for (kind, file) in [("customers", "customers.csv"), ("visits", "visits.csv")] {
            let imported = try NudgeProcess.run(["import", kind, file], in: directory)
            try #require(imported.status == 0, "\(imported.stderr)")
        }
        let run = try NudgeProcess.run(["run", "--now", now], in: directory)
        try #require(run.status == 0, "\(run.stderr)")
        return directory
    }

    static func database(_ directory: URL) -> String { directory.appendingPathComponent("nudge.sqlite").path }

    /// Records what a provider reported: a bounce whose payload names the address, and an SMS opt-out.
    static func recordEvents(_ directory: URL) throws {
        let database = try AppDatabase.open(path: database(directory))
        let message = try #require(try database.history(customerID: "c1").first { $0.message.channel == "email" })
        let at = try #require(ISO8601.parse(now, zone: TimeZone(identifier: "UTC")!))
        _ = try database.record(
            DeliveryEvent(
                provider: "sendgrid", eventID: "ev-1", outboxID: message.message.id, customerID: "c1", channel: "email",
                kind: .bounced, at: at, detail: "550 mailbox zelda.quartermain@example.org unavailable"),
            receivedAt: at)
        _ = try database.record(
            DeliveryEvent(provider: "twilio", eventID: "SM1:c1", customerID: "c1", channel: "sms", kind: .stopped, at: at, detail: "STOP"),
            consent: [ConsentChange(customerID: "c1", channel: "sms", optIn: false, reason: "STOP")], receivedAt: at)
    }

    /// Every text value of every table of the SQLite file, as `table.column: value`.
    static func everyValue(_ path: String) throws -> [String] {
        let queue = try DatabaseQueue(path: path)
        return try queue.read { db in
            var values: [String] = []
            for table in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'") {
                for row in try Row.fetchAll(db, sql: "SELECT * FROM \"\(table)\"") {
                    for (column, value) in row {
                        if let text = String.fromDatabaseValue(value) { values.append("\(table).\(column): \(text)") }
                    }
                }
            }
            return values
        }
    }

    static func outputs(_ directory: URL) throws -> String {
        let outbox = directory.appendingPathComponent("outbox")
        return try FileManager.default.contentsOfDirectory(atPath: outbox.path).sorted().map {
            try String(contentsOf: outbox.appendingPathComponent($0), encoding: .utf8)
        }.joined()
    }

    @Test("customers export prints everything held about a customer as one JSON document")
    func export() throws {
        let directory = try Self.project()
        defer { try? FileManager.default.removeItem(at: directory) }
        try Self.recordEvents(directory)
        let result = try NudgeProcess.run(["customers", "export", "c1", "--now", Self.now], in: directory)
        #expect(result.status == 0, "\(result.stderr)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(document["customer"] as? String == "c1")
        let profile = try #require(document["profile"] as? [String: Any])
        #expect(profile["name"] as? String == "Zelda Quartermain")
        #expect(profile["phone"] as? String == "+15557654321")
        #expect((profile["attributes"] as? [String: Any])?["favorite_drink"] as? String == "latte")
        let visits = try #require(document["visits"] as? [[String: Any]])
        #expect(visits.map { $0["amount"] as? Double } == [4.5, 6.0])
        let ledger = try #require(document["ledger"] as? [[String: Any]])
        #expect(Set(ledger.compactMap { $0["workflow"] as? String }) == ["welcome", "sms-hello"])
        for key in ["profile", "visits", "progress", "ledger", "outbox", "delivery_events", "consent_changes", "pass_registrations"] {
            #expect(document[key] != nil, "\(key)")
        }
        let messages = try #require(document["outbox"] as? [[String: Any]])
        let text = try #require(messages.first { $0["channel"] as? String == "sms" })
        #expect(text["to"] as? String == "+15557654321")
        #expect((text["body"] as? String)?.contains("born 1984-07-19") == true)
        #expect((text["attempts"] as? [[String: Any]])?.first?["outcome"] as? String == "delivered")
        let email = try #require(messages.first { $0["channel"] as? String == "email" })
        #expect(email["to"] as? String == "zelda.quartermain@example.org")
        #expect(email["heading_key"] as? String == "subject")
        let events = try #require(document["delivery_events"] as? [[String: Any]])
        #expect(Set(events.compactMap { $0["kind"] as? String }) == ["bounced", "stopped"])
        let consent = try #require(document["consent_changes"] as? [[String: Any]])
        #expect(consent.first?["channel"] as? String == "sms" && consent.first?["opt_in"] as? Bool == false)
        let unknown = try NudgeProcess.run(["customers", "export", "nobody"], in: directory)
        #expect(unknown.status == 1 && unknown.stderr.contains("no customer 'nobody'"))
    }

    @Test("customers erase leaves no name, email, phone or birth date in any table or file output")
    func erase() throws {
        let directory = try Self.project()
        defer { try? FileManager.default.removeItem(at: directory) }
        try Self.recordEvents(directory)
        let path = Self.database(directory)
        let before = try Self.everyValue(path)
        for value in Self.personal { #expect(before.contains { $0.contains(value) }, "the test's data holds \(value)") }
        #expect(try Self.outputs(directory).contains("zelda.quartermain@example.org"))

        // Without NUDGE_ERASURE_KEY (the database makes a key of its own) and without --include-files: the database
        // is clean, the outputs' lines are listed.
        let erased = try NudgeProcess.run(["customers", "erase", "c1"], in: directory)
        #expect(erased.status == 0, "\(erased.stderr)")
        #expect(erased.stdout.contains("erased customer c1"))
        #expect(erased.stdout.contains("outbox/email.jsonl: line 1 holds messages to this customer"))
        #expect(erased.stdout.contains("outbox/sms.jsonl: line 1 holds messages to this customer"))
        #expect(erased.stdout.contains("rewrite them with --include-files"))
        let after = try Self.everyValue(path)
        for value in Self.personal {
            #expect(!after.contains { $0.contains(value) }, "\(after.filter { $0.contains(value) })")
        }
        #expect(!after.contains { $0.hasSuffix(": c1") || $0.contains("SM1:c1") }, "the id itself is gone")
        #expect(after.contains { $0.contains("Bo Chen") }, "other customers stay")
        // The deleted rows' bytes are overwritten in the file as well.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        for value in Self.personal.prefix(3) { #expect(bytes.range(of: Data(value.utf8)) == nil, "\(value) in the file") }
        #expect(try Self.outputs(directory).contains("zelda.quartermain@example.org"))

        let files = try NudgeProcess.run(["customers", "erase", "c1", "--include-files"], in: directory)
        #expect(files.status == 0, "\(files.stderr)")
        #expect(files.stdout.contains("was erased at"))
        #expect(files.stdout.contains("outbox/sms.jsonl: 1 line rewritten without the personal fields"))
        let outputs = try Self.outputs(directory)
        for value in Self.personal + ["Zelda", "\"customer\":\"c1\""] { #expect(!outputs.contains(value), "\(value)") }
        #expect(outputs.contains("Bo Chen") || outputs.contains("bo@example.com"), "other customers' lines stay")
        let lines = outputs.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        #expect(lines.filter { $0["erased"] as? Bool == true }.count == 2)
        #expect(lines.allSatisfy { ($0["id"] as? String)?.hasPrefix("msg_") == true })

        let gone = try NudgeProcess.run(["customers", "show", "c1"], in: directory)
        #expect(gone.status == 1)

        // Imported again, c1 is not sent what they were sent before: dedup asks the ledger under the keyed hash,
        // with the database's key.
        #expect(try NudgeProcess.run(["import", "customers", "customers.csv"], in: directory).status == 0)
        let plan = try NudgeProcess.run(["dry-run", "--now", Self.now, "--format", "json"], in: directory)
        #expect(plan.status == 0 && plan.stdout.isEmpty, "\(plan.stdout)\(plan.stderr)")
        // A key set later does not replace the database's: its erasures keep being recognised.
        let other = try RunningNudge(
            ["dry-run", "--now", Self.now], in: directory, environment: ["NUDGE_ERASURE_KEY": "another-long-key-entirely"]
        ).wait(timeout: 120).result
        #expect(other.status == 0, "the database's own key still matches: \(other.stderr)")
    }

    @Test("erased with NUDGE_ERASURE_KEY: a customer imported again is not sent anything twice; runs need that key")
    func reimport() throws {
        let directory = try Self.project()
        defer { try? FileManager.default.removeItem(at: directory) }
        let erased = try RunningNudge(["customers", "erase", "c1"], in: directory, environment: Self.key)
            .wait(timeout: 120).result
        #expect(erased.status == 0, "\(erased.stderr)")
        let again = try NudgeProcess.run(["import", "customers", "customers.csv"], in: directory)
        #expect(again.status == 0, "\(again.stderr)")

        let withoutKey = try NudgeProcess.run(["dry-run", "--now", Self.now], in: directory)
        #expect(withoutKey.status == 1 && withoutKey.stderr.contains("NUDGE_ERASURE_KEY"))
        let wrongKey = try RunningNudge(
            ["dry-run", "--now", Self.now], in: directory, environment: ["NUDGE_ERASURE_KEY": "another-long-key-entirely"]
        ).wait(timeout: 120).result
        #expect(wrongKey.status == 1 && wrongKey.stderr.contains("not the key customers were erased with"))

        let plan = try RunningNudge(
            ["dry-run", "--now", Self.now, "--format", "json"], in: directory, environment: Self.key
        ).wait(timeout: 120).result
        #expect(plan.status == 0, "\(plan.stderr)")
        #expect(plan.stdout.isEmpty, "nothing is sent again: \(plan.stdout)")
        #expect(plan.stderr.contains("already sent"))
        let run = try RunningNudge(["run", "--now", Self.now], in: directory, environment: Self.key).wait(timeout: 120).result
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("planned 0 to send"), "\(run.stderr)")
    }
}
