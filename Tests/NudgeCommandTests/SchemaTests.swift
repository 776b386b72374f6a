import Foundation
import NudgeTestSupport
import Testing

/// Runs Tests/Scripts/validate_schema.py (Python `jsonschema`, an independent draft 2020-12 validator) on `files` with
/// `schema`; nil when Python or its packages are missing (then a CI run fails, another skips with a reason).
private func validate(schema: URL, files: [URL]) throws -> (status: Int32, output: String)? {
    guard try runTool("/usr/bin/env", ["python3", "-c", "import jsonschema, yaml"]).status == 0 else {
        reportMissingTool(
            "python3 with jsonschema and pyyaml is missing", skipped: "validating the schema needs python3 with jsonschema and pyyaml")
        return nil
    }
    let script = NudgeProcess.repositoryRoot.appendingPathComponent("Tests/Scripts/validate_schema.py").path
    return try runTool("/usr/bin/env", ["python3", script, schema.path] + files.map(\.path))
}

@Suite("nudge schema, checked by an independent validator")
struct SchemaTests {
    @Test("init writes the schemas under .nudge/ and points each file at its schema; every example validates")
    func examplesValidate() throws {
        let project = try NudgeProcess.temporaryDirectory().appendingPathComponent("project")
        #expect(try NudgeProcess.run(["init", project.path]).status == 0)
        let workflowSchema = project.appendingPathComponent(".nudge/workflow.schema.json")
        let configSchema = project.appendingPathComponent(".nudge/config.schema.json")
        // The files init writes are what `nudge schema` prints.
        #expect(try String(contentsOf: workflowSchema, encoding: .utf8) == NudgeProcess.run(["schema"]).stdout)
        #expect(try String(contentsOf: configSchema, encoding: .utf8) == NudgeProcess.run(["schema", "config"]).stdout)
        let names = try FileManager.default.contentsOfDirectory(atPath: project.appendingPathComponent("Workflows").path)
            .filter { !$0.hasSuffix(".test.yaml") }.sorted()
        #expect(names.count == 14)
        for name in names {
            let text = try String(contentsOf: project.appendingPathComponent("Workflows/\(name)"), encoding: .utf8)
            #expect(text.hasPrefix("# yaml-language-server: $schema=../.nudge/workflow.schema.json\n"))
        }
        #expect(
            try String(contentsOf: project.appendingPathComponent("nudge.yaml"), encoding: .utf8)
                .hasPrefix("# yaml-language-server: $schema=.nudge/config.schema.json\n"))
        // Test files are no workflows: they carry no schema line.
        #expect(
            try !String(contentsOf: project.appendingPathComponent("Workflows/welcome.test.yaml"), encoding: .utf8)
                .contains("yaml-language-server"))

        guard
            let workflows = try validate(
                schema: workflowSchema, files: names.map { project.appendingPathComponent("Workflows/\($0)") })
        else { return }
        #expect(workflows.status == 0, "\(workflows.output)")
        #expect(workflows.output.split(separator: "\n").count { $0.hasPrefix("ok ") } == 14)
        // The repository's own project too (its files carry no schema line).
        let root = NudgeProcess.repositoryRoot
        let own = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("Workflows").path)
            .filter { !$0.hasSuffix(".test.yaml") }.map { root.appendingPathComponent("Workflows/\($0)") }
        #expect(try validate(schema: workflowSchema, files: own)?.status == 0)
        let config = try #require(try validate(schema: configSchema, files: [project.appendingPathComponent("nudge.yaml"), root.appendingPathComponent("nudge.yaml")]))
        #expect(config.status == 0, "\(config.output)")
    }

    @Test("the schema and check agree: what check refuses the schema flags, what check takes it takes")
    func agreement() throws {
        let project = try NudgeProcess.temporaryDirectory().appendingPathComponent("project")
        #expect(try NudgeProcess.run(["init", project.path]).status == 0)
        let workflowSchema = project.appendingPathComponent(".nudge/workflow.schema.json")
        let configSchema = project.appendingPathComponent(".nudge/config.schema.json")
        let workflow = project.appendingPathComponent("Workflows/extra.yaml")
        let valid = """
            id: extra
            trigger:
              inactivity: { days: [30, 60] }
            when:
              - customer.visits_total >= 1
            exit_when: customer.days_since_last_activity < 7
            actions:
              - split:
                  a: { weight: 50, then: [ { send: { channel: [email, sms], template: win-back } }, { wait: 7d },
                                           { when: "customer.visits_total >= 1" }, { send: { channel: sms, template: win-back-reminder } } ] }
                  holdout: { weight: 10 }
            catch_up: 2d
            send_at: "10:00"
            category: marketing
            priority: 5
            on_cap: defer
            max_defer: 2d

            """
        try valid.write(to: workflow, atomically: true, encoding: .utf8)
        #expect(try NudgeProcess.run(["check"], in: project).status == 0)
        guard let accepted = try validate(schema: workflowSchema, files: [workflow]) else { return }
        #expect(accepted.status == 0, "\(accepted.output)")

        let broken: [(String, String)] = [
            ("trigger:", "tigger:"),
            ("days: [30, 60]", "days: [30, -1]"),
            ("channel: sms, template", "channel: fax, template"),
            ("catch_up: 2d", "catch_up: 2 days"),
            ("send_at: \"10:00\"", "send_at: \"25:00\""),
            ("on_cap: defer", "on_cap: later"),
            ("weight: 10", "weight: 0"),
            ("{ wait: 7d }", "{ wait: 7d, send: { channel: sms, template: x } }"),
        ]
        for (from, to) in broken {
            try valid.replacingOccurrences(of: from, with: to).write(to: workflow, atomically: true, encoding: .utf8)
            #expect(try NudgeProcess.run(["check"], in: project).status == 1, "check takes \(to)")
            #expect(try validate(schema: workflowSchema, files: [workflow])?.status == 1, "the schema takes \(to)")
        }
        try FileManager.default.removeItem(at: workflow)

        // nudge.yaml: providers with their own settings, one provider per platform.
        let config = project.appendingPathComponent("nudge.yaml")
        let original = try String(contentsOf: config, encoding: .utf8)
        let channels = """
            channels:
              email: { provider: sendgrid, api_key_env: SENDGRID_API_KEY, from: hello@example.com }
              sms:   { provider: file, path: outbox/sms.jsonl }
              push:
                android: { provider: fcm, project_id: app, credentials_env: FCM_CREDENTIALS }
                ios:     { provider: apns, team_id: ABCDE12345, key_id: XYZ987ABCD, key_env: APNS_KEY, topic: com.example.app }
              wallet: { provider: file, path: outbox/wallet.jsonl }
            intelligence: { refit: 7d, clv_months: 12 }
            delivery: { drain_window: 60s }

            """
        let start = try #require(original.range(of: "channels:"))
        let end = try #require(original.range(of: "\n\n", range: start.upperBound..<original.endIndex))
        let good = original.replacingCharacters(in: start.lowerBound..<end.upperBound, with: channels)
        try good.write(to: config, atomically: true, encoding: .utf8)
        #expect(try NudgeProcess.run(["check"], in: project).status == 0)
        #expect(try validate(schema: configSchema, files: [config])?.status == 0)
        let badConfigs: [(String, String)] = [
            ("from: hello@example.com", "from: hello@example.com, colour: red"),  // a setting sendgrid does not have
            ("ios:     { provider: apns", "ios:     { provider: fcm"),  // fcm does not serve iOS… and lacks apns' keys
            ("android:", "androd:"),
            ("{ provider: file, path: outbox/sms.jsonl }", "{ provider: fcm, project_id: app, credentials_env: X }"),
            ("clv_months: 12", "clv_months: 0"),
            ("- { max: 2, per: 7d }", "- { max: 2, every: 7d }"),
        ]
        for (from, to) in badConfigs {
            #expect(good.contains(from), "\(from)")
            try good.replacingOccurrences(of: from, with: to).write(to: config, atomically: true, encoding: .utf8)
            #expect(try NudgeProcess.run(["check"], in: project).status == 1, "check takes \(to)")
            #expect(try validate(schema: configSchema, files: [config])?.status == 1, "the schema takes \(to)")
        }
    }

    @Test("schema prints one document per kind; another kind is a usage error")
    func kinds() throws {
        for kind in ["workflow", "config"] {
            let result = try NudgeProcess.run(["schema", kind])
            #expect(result.status == 0)
            let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
            #expect(object?["$schema"] as? String == "https://json-schema.org/draft/2020-12/schema")
        }
        #expect(try NudgeProcess.run(["schema", "nope"]).status == 2)
    }
}
