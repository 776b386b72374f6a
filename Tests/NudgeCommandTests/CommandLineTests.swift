import ArgumentParser
import Foundation
import NudgeLanguage
import NudgeStore
import NudgeTestSupport
import Testing
#if canImport(FoundationXML)
import FoundationXML
#endif

@testable import nudge

/// Runs the built `nudge` executable as a child process, as a user would.
struct NudgeProcess {
    static var executable: URL {
        let besideTests = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("nudge")
        if FileManager.default.isExecutableFile(atPath: besideTests.path) { return besideTests }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/debug/nudge")
    }

    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs the command to completion (killing it after two minutes) and returns its status and output.
    static func run(_ arguments: [String], in directory: URL? = nil) throws -> Result {
        try RunningNudge(arguments, in: directory).wait(timeout: 120).result
    }

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("nudge-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

@Suite("nudge, run as a process")
struct CommandLineTests {
    @Test("check passes on the repository's own project")
    func checkExample() throws {
        let result = try NudgeProcess.run(["check", "--project", NudgeProcess.repositoryRoot.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("ok: "))
    }

    @Test("check fails with PATH:LINE:COL diagnostics and exit 1")
    func checkBroken() throws {
        let project = NudgeProcess.repositoryRoot.appendingPathComponent("Tests/NudgeEngineTests/Golden/broken-project")
        let result = try NudgeProcess.run(["check"], in: project)
        #expect(result.status == 1)
        #expect(result.stderr.contains("Workflows/broken.yaml:3:1: error: unknown key 'tigger' in a workflow (did you mean 'trigger'?)"))
        let json = try NudgeProcess.run(["check", "--format", "json"], in: project)
        #expect(json.status == 1)
        let decoded = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]]
        #expect(decoded?.contains { $0["file"] as? String == "Workflows/broken.yaml" && $0["line"] as? Int == 3 } == true)
    }

    @Test("check lints a template no workflow sends; --strict fails on warnings; --format github annotates the lines")
    func checkLintStrictGitHub() throws {
        let project = try NudgeProcess.temporaryDirectory().appendingPathComponent("project")
        #expect(try NudgeProcess.run(["init", project.path]).status == 0)
        // The example project as `nudge init` writes it is clean, even under --strict.
        let clean = try NudgeProcess.run(["check", "--strict"], in: project)
        #expect(clean.status == 0, "\(clean.stderr)")
        try "Two for one, today only {{customer.first_name}}!\n".write(
            to: project.appendingPathComponent("Templates/old-promo.sms.mustache"), atomically: true, encoding: .utf8)
        let warned = try NudgeProcess.run(["check"], in: project)
        #expect(warned.status == 0)
        #expect(
            warned.stderr.contains(
                "Templates/old-promo.sms.mustache:1:1: warning: no workflow sends this template (sms 'old-promo')"),
            "\(warned.stderr)")
        let strict = try NudgeProcess.run(["check", "--strict"], in: project)
        #expect(strict.status == 1)
        #expect(strict.stderr.contains("1 warning (--strict: failing)"), "\(strict.stderr)")
        let github = try NudgeProcess.run(["check", "--format", "github"], in: project)
        #expect(github.status == 0)
        #expect(
            github.stdout.split(separator: "\n").map(String.init) == [
                "::warning file=Templates/old-promo.sms.mustache,line=1,col=1::no workflow sends this template (sms 'old-promo') (delete it, or send it from a workflow)"
            ], "\(github.stdout)")
        // Errors too, with the characters GitHub reserves escaped.
        let broken = NudgeProcess.repositoryRoot.appendingPathComponent("Tests/NudgeEngineTests/Golden/broken-project")
        let failing = try NudgeProcess.run(["check", "--format", "github"], in: broken)
        #expect(failing.status == 1)
        #expect(
            failing.stdout.contains(
                "::error file=Workflows/broken.yaml,line=3,col=1::unknown key 'tigger' in a workflow (did you mean 'trigger'?)"),
            "\(failing.stdout)")
        #expect(NudgeCommand.Check.annotation(
            Diagnostic(.error, "50% off\nnow", at: SourceLocation(file: "a:b,c.yaml", line: 2, column: 0)))
            == "::error file=a%3Ab%2Cc.yaml,line=2::50%25 off%0Anow")
    }

    @Test("test runs the workflow tests init ships, fails with FILE:LINE on a broken one, and writes JUnit XML")
    func workflowTests() throws {
        let project = try NudgeProcess.temporaryDirectory().appendingPathComponent("project")
        #expect(try NudgeProcess.run(["init", project.path]).status == 0)
        let workflows = try FileManager.default.contentsOfDirectory(atPath: project.appendingPathComponent("Workflows").path)
        let testFiles = workflows.filter { $0.hasSuffix(".test.yaml") }
        #expect(testFiles.count == workflows.count - testFiles.count && !testFiles.isEmpty)
        let passing = try NudgeProcess.run(["test"], in: project)
        #expect(passing.status == 0, "\(passing.stdout)\n\(passing.stderr)")
        #expect(passing.stdout.contains("in \(testFiles.count) files: "), "\(passing.stdout)")
        #expect(!passing.stdout.contains("FAIL"))

        // One expectation changed: the run fails at that step's line, naming the test.
        try """
            customers:
              - { id: c1, name: Ana, email: ana@example.com, email_opt_in: true, signed_up_at: 2025-01-01, timezone: UTC }
            visits:
              - { customer_id: c1, visited_at: 2026-09-20T10:00:00Z, amount: 4.50 }
            tests:
              - name: quiet
                steps:
                  - at: 2026-10-20T12:00:00Z
                    expect: []
              - name: nothing at all
                steps:
                  - at: 2026-09-25T12:00:00Z
                    expect: []
            """.write(to: project.appendingPathComponent("Workflows/extra.test.yaml"), atomically: true, encoding: .utf8)
        let failing = try NudgeProcess.run(["test", "Workflows/extra.test.yaml"], in: project)
        #expect(failing.status == 1)
        #expect(
            failing.stdout.contains("Workflows/extra.test.yaml:8: test 'quiet', step at 2026-10-20T12:00:00Z: expected 0 messages, got "),
            "\(failing.stdout)")
        #expect(failing.stdout.contains("ok    Workflows/extra.test.yaml: nothing at all (1 run)"))
        #expect(failing.stdout.hasSuffix("2 tests in 1 file: 1 passed, 1 failed\n"), "\(failing.stdout)")
        let picked = try NudgeProcess.run(["test", "--run", "^nothing", "Workflows/extra.test.yaml"], in: project)
        #expect(picked.status == 0, "\(picked.stdout)")
        // A pattern that picks no test is an error, not a silent pass.
        let none = try NudgeProcess.run(["test", "--run", "^nope$", "Workflows/extra.test.yaml"], in: project)
        #expect(none.status == 1 && none.stderr.contains("error: no test's name matches '--run ^nope$'"), "\(none.stderr)")

        let junit = try NudgeProcess.run(["test", "--format", "junit"], in: project)
        #expect(junit.status == 1)
        #expect(junit.stdout.hasPrefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"nudge test\" tests=\""))
        #expect(junit.stdout.components(separatedBy: "<testsuite ").count - 1 == testFiles.count + 1)
        #expect(junit.stdout.contains("<failure message=\"Workflows/extra.test.yaml:8: test &apos;quiet&apos;, step at 2026-10-20T12:00:00Z: expected 0 messages"))
        #expect(junit.stdout.contains("failures=\"1\" errors=\"0\""))
        #expect(junit.stderr.contains("1 failed"))
        #if canImport(FoundationXML)
        let parser = XMLParser(data: Data(junit.stdout.utf8))
        #expect(parser.parse(), "the JUnit report is well-formed XML")
        #endif

        // A file with mistakes runs none of its tests, names the places, and exits 1.
        try "tests:\n  - name: x\n    steps:\n      - at: soon\n        expect: []\n".write(
            to: project.appendingPathComponent("Workflows/extra.test.yaml"), atomically: true, encoding: .utf8)
        let broken = try NudgeProcess.run(["test", "Workflows/extra.test.yaml"], in: project)
        #expect(broken.status == 1)
        #expect(broken.stdout.contains("Workflows/extra.test.yaml:4:13: error: 'at' must be an ISO 8601 instant"), "\(broken.stdout)")
        #expect(broken.stdout.hasSuffix("0 tests in 1 file: 0 passed; 1 file with errors (none of its tests ran)\n"), "\(broken.stdout)")
        // The workflow loader leaves test files alone: check and dry-run are unaffected.
        #expect(try NudgeProcess.run(["check", "--strict"], in: project).status == 0)
        let missing = try NudgeProcess.run(["test", "Workflows/nope.test.yaml"], in: project)
        #expect(missing.status == 1 && missing.stderr.contains("Workflows/nope.test.yaml: error: no such test file"))
    }

    @Test("the README's workflow test passes against the repository's project")
    func readmeWorkflowTest() throws {
        let readme = try String(contentsOf: NudgeProcess.repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let start = try #require(readme.range(of: "```yaml\n# Workflows/win-back.test.yaml\n"))
        let end = try #require(readme.range(of: "```\n", range: start.upperBound..<readme.endIndex))
        let file = try NudgeProcess.temporaryDirectory().appendingPathComponent("readme.test.yaml")
        try String(readme[start.upperBound..<end.lowerBound]).write(to: file, atomically: true, encoding: .utf8)
        let result = try NudgeProcess.run(["test", "--project", NudgeProcess.repositoryRoot.path, file.path])
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("1 test in 1 file: 1 passed"))
    }

    @Test("explain answers for one customer in text and JSON, in the words of dry-run")
    func explain() throws {
        let directory = try NudgeProcess.temporaryDirectory()
        let db = directory.appendingPathComponent("demo.sqlite").path
        let root = NudgeProcess.repositoryRoot.path
        let now = "2026-11-25T15:00:00Z"
        #expect(try NudgeProcess.run(["demo", "--project", root, "--db", db, "--customers", "200", "--now", now]).status == 0)
        let plan = try NudgeProcess.run(["dry-run", "--project", root, "--db", db, "--now", now, "--format", "json"])
        let first = try #require(
            plan.stdout.split(separator: "\n").first.flatMap {
                try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            })
        let customer = try #require(first["customer"] as? String)
        let workflow = try #require(first["workflow"] as? String)
        let json = try NudgeProcess.run([
            "explain", customer, "--project", root, "--db", db, "--now", now, "--workflow", workflow, "--format", "json",
        ])
        #expect(json.status == 0, "\(json.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["customer"] as? String == customer)
        let workflows = try #require(object["workflows"] as? [[String: Any]])
        #expect(workflows.map { $0["workflow"] as? String } == [workflow])
        let occurrences = try #require(workflows[0]["occurrences"] as? [[String: Any]])
        // The occurrence dry-run plans is explained with dry-run's status.
        let explained = try #require(occurrences.first { $0["occurrence"] as? String == first["occurrence"] as? String })
        #expect(explained["in_window"] as? Bool == true)
        #expect(explained["status"] as? String == first["status"] as? String)
        let text = try NudgeProcess.run(["explain", customer, "--project", root, "--db", db, "--now", now])
        #expect(text.status == 0)
        #expect(text.stdout.contains("\n\(workflow) ("), "\(text.stdout)")
        #expect(text.stdout.contains("  \(first["occurrence"] as? String ?? "?")  due "))
        let unknown = try NudgeProcess.run(["explain", "nobody", "--project", root, "--db", db, "--now", now])
        #expect(unknown.status == 1 && unknown.stderr.contains("error: no customer 'nobody'"))
        let badWorkflow = try NudgeProcess.run(["explain", customer, "--project", root, "--db", db, "--workflow", "nope"])
        #expect(badWorkflow.status == 2)
    }

    @Test("diff REV plans the revision's project and the work tree's on the same customers and prints what differs")
    func diff() throws {
        let project = try NudgeProcess.temporaryDirectory().appendingPathComponent("project")
        #expect(try NudgeProcess.run(["init", project.path]).status == 0)
        func git(_ arguments: [String]) throws {
            let result = try runTool(
                "/usr/bin/env", ["git", "-C", project.path, "-c", "user.email=t@example.com", "-c", "user.name=T"] + arguments)
            #expect(result.status == 0, "\(result.output)")
        }
        // Outside a repository there is nothing to compare with.
        let outside = try NudgeProcess.run(["diff", "HEAD"], in: project)
        #expect(outside.status == 1 && outside.stderr.contains("is not in a git repository"), "\(outside.stderr)")
        try git(["init", "-q"])
        try git(["add", "-A"])
        try git(["commit", "-q", "-m", "examples"])
        let now = "2026-11-25T15:00:00Z"
        #expect(try NudgeProcess.run(["demo", "--customers", "300", "--now", now], in: project).status == 0)
        let db = ["--db", "demo.sqlite", "--now", now]
        let same = try NudgeProcess.run(["diff", "HEAD"] + db, in: project)
        #expect(same.status == 0)
        #expect(same.stdout.contains("\nno change\ntotal: 0 added, 0 removed, 0 changed; "), "\(same.stdout)")

        // win-back for regulars only, and a new welcome subject.
        let winBack = project.appendingPathComponent("Workflows/win-back.yaml")
        try String(contentsOf: winBack, encoding: .utf8)
            .replacingOccurrences(of: "customer.visits_total >= 1 ", with: "customer.visits_total >= 3 ")
            .write(to: winBack, atomically: true, encoding: .utf8)
        let welcome = project.appendingPathComponent("Templates/welcome.email.mustache")
        try String(contentsOf: welcome, encoding: .utf8).replacingOccurrences(of: "subject: Welcome to", with: "subject: Hello and welcome to")
            .write(to: welcome, atomically: true, encoding: .utf8)
        let plan = try NudgeProcess.run(["dry-run", "--format", "json"] + db, in: project)
        let before = try NudgeProcess.run(["diff", "HEAD", "--days", "2", "--format", "json"] + db, in: project)
        #expect(before.status == 0, "\(before.stderr)")
        let changes = try before.stdout.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        let removed = changes.filter { $0["change"] as? String == "removed" }
        #expect(!removed.isEmpty)
        #expect(removed.allSatisfy { $0["workflow"] as? String == "win-back" })
        // What the work tree plans now is never among the removed.
        let planned = Set(plan.stdout.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]).map { "\($0["customer"]!)|\($0["occurrence"]!)" }
        })
        #expect(removed.allSatisfy { !planned.contains("\($0["customer"]!)|\($0["occurrence"]!)") })
        let changed = changes.filter { $0["change"] as? String == "changed" }
        #expect(changed.allSatisfy { $0["workflow"] as? String == "welcome" && ($0["differences"] as? [String]) == ["subject differs"] })
        #expect(before.stderr.contains("\(removed.count) removed, \(changed.count) changed"), "\(before.stderr)")
        let text = try NudgeProcess.run(["diff", "HEAD", "--days", "2"] + db, in: project)
        #expect(text.stdout.contains("win-back: 0 added, \(removed.count) removed, 0 changed\n  - "), "\(text.stdout)")
        // The work tree is untouched.
        #expect(try String(contentsOf: winBack, encoding: .utf8).contains("customer.visits_total >= 3 "))

        let unknown = try NudgeProcess.run(["diff", "no-such-branch"] + db, in: project)
        #expect(unknown.status == 1 && unknown.stderr.contains("unknown git revision 'no-such-branch'"))
        // A revision whose project has errors is named as such.
        try "id: broken\ntigger: {}\n".write(to: project.appendingPathComponent("Workflows/broken.yaml"), atomically: true, encoding: .utf8)
        try git(["add", "-A"])
        try git(["commit", "-q", "-m", "broken"])
        try FileManager.default.removeItem(at: project.appendingPathComponent("Workflows/broken.yaml"))
        let broken = try NudgeProcess.run(["diff", "HEAD"] + db, in: project)
        #expect(broken.status == 1)
        #expect(broken.stderr.contains("HEAD:Workflows/broken.yaml:2:1: error: unknown key 'tigger'"), "\(broken.stderr)")
        #expect(broken.stderr.contains("error: the project at HEAD has errors"))
    }

    @Test("forecast simulates the next days on a copy: per day, workflow and channel, priced; a page with a chart")
    func forecast() throws {
        let project = try NudgeProcess.temporaryDirectory().appendingPathComponent("project")
        #expect(try NudgeProcess.run(["init", project.path]).status == 0)
        // The example nudge.yaml prices each channel.
        let config = try String(contentsOf: project.appendingPathComponent("nudge.yaml"), encoding: .utf8)
        #expect(config.contains("\npricing: { email: 0.0008, sms: 0.0079, push: 0, wallet: 0 }\n"))
        let now = "2026-11-25T15:00:00Z"
        #expect(try NudgeProcess.run(["demo", "--customers", "200", "--now", now], in: project).status == 0)
        let database = project.appendingPathComponent("demo.sqlite")
        let before = try Data(contentsOf: database)
        let page = project.appendingPathComponent("forecast.html")
        let json = try NudgeProcess.run(
            ["forecast", "--db", "demo.sqlite", "--now", now, "--days", "3", "--format", "json", "--html", page.path], in: project)
        #expect(json.status == 0, "\(json.stderr)")
        let rows = try json.stdout.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        #expect(!rows.isEmpty)
        for row in rows {
            let channel = try #require(row["channel"] as? String)
            let messages = try #require(row["messages"] as? Int)
            let cost = try #require(row["cost"] as? Double)
            if channel == "email" { #expect(abs(cost - Double(messages) * 0.0008) < 1e-9) }
            if channel == "sms" { #expect(abs(cost - Double(try #require(row["segments"] as? Int)) * 0.0079) < 1e-9) }
            if channel == "push" || channel == "wallet" { #expect(cost == 0) }
        }
        #expect(Set(rows.compactMap { $0["day"] as? String }).isSubset(of: ["2026-11-25", "2026-11-26", "2026-11-27", "2026-11-28"]))
        #expect(json.stderr.contains("no new visits, sign-ups or stamps assumed"))
        // The forecast of the days dry-run sees now includes what dry-run plans to send now.
        let plan = try NudgeProcess.run(["dry-run", "--db", "demo.sqlite", "--now", now, "--format", "json"], in: project)
        let sendNow = plan.stdout.split(separator: "\n").count { $0.contains("\"status\":\"send\"") && !$0.contains("\"send_after\":\"") }
        #expect(rows.reduce(0) { $0 + ($1["messages"] as? Int ?? 0) } >= sendNow)
        // The database file is untouched; the page is there, with its chart and no network.
        #expect(try Data(contentsOf: database) == before)
        let html = try String(contentsOf: page, encoding: .utf8)
        #expect(html.hasPrefix("<!doctype html>") && html.contains("<svg") && html.contains("<rect"))
        #expect(!html.replacingOccurrences(of: "http://www.w3.org/2000/svg", with: "").contains("http"))
        let table = try NudgeProcess.run(["forecast", "--db", "demo.sqlite", "--now", now, "--days", "2"], in: project)
        #expect(table.status == 0)
        #expect(table.stdout.contains("DAY         WORKFLOW"), "\(table.stdout)")
        #expect(table.stdout.contains("\ntotal: "))
        #expect(try NudgeProcess.run(["forecast", "--days", "0"], in: project).status == 2)
    }

    @Test("usage errors exit with status 2")
    func usageErrors() throws {
        let root = NudgeProcess.repositoryRoot.path
        for arguments in [
            ["bogus"],
            ["dry-run", "--project", root, "--now", "yesterday"],
            ["import", "--project", root, "shoppers", "x.csv"],
            ["dry-run", "--project", root, "--format", "xml"],
            ["dry-run", "--project", root, "--workflow", "wellcome"],
        ] {
            let result = try NudgeProcess.run(arguments)
            #expect(result.status == 2, "\(arguments): \(result.stderr)")
            #expect(!result.stderr.isEmpty)
        }
        let unknownWorkflow = try NudgeProcess.run(["dry-run", "--project", root, "--workflow", "wellcome"])
        #expect(unknownWorkflow.stderr.contains("did you mean 'welcome'?"))
    }

    @Test("import, then dry-run as JSON Lines; a bad file changes nothing")
    func importAndDryRun() throws {
        let directory = try NudgeProcess.temporaryDirectory()
        _ = try NudgeProcess.run(["init", directory.path])
        let customers = directory.appendingPathComponent("customers.csv")
        try """
            id,name,email,email_opt_in,signed_up_at,timezone,favorite_drink
            c1,Ana Lima,ana@example.com,yes,2026-11-25T08:00:00Z,Europe/London,latte
            c2,Bo Chen,,no,2026-11-25T09:00:00Z,,tea
            """.write(to: customers, atomically: true, encoding: .utf8)
        let imported = try NudgeProcess.run(["import", "customers", "customers.csv"], in: directory)
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stderr.contains("imported 2 customers rows"))

        let bad = directory.appendingPathComponent("bad.csv")
        try """
            id,name,email,signed_up_at
            c1,Changed Name,ana@example.com,2026-11-25T08:00:00Z
            c3,Cy,not-an-email,2026-11-25T08:00:00Z
            c4,Di,di@example.com,last tuesday
            """.write(to: bad, atomically: true, encoding: .utf8)
        let rejected = try NudgeProcess.run(["import", "customers", "bad.csv"], in: directory)
        #expect(rejected.status == 1)
        #expect(rejected.stderr.contains("bad.csv:3: 'email' is not an email address"))
        #expect(rejected.stderr.contains("bad.csv:4: 'signed_up_at' must be an ISO 8601"))

        let result = try NudgeProcess.run(
            ["dry-run", "--now", "2026-11-25T10:00:00Z", "--workflow", "welcome", "--format", "json", "--render"],
            in: directory)
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 2)
        let objects = try lines.map { try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        let first = try #require(objects.first { $0["customer"] as? String == "c1" })
        #expect(first["workflow"] as? String == "welcome")
        #expect(first["occurrence"] as? String == "signup")
        #expect(first["channel"] as? String == "email")
        #expect(first["status"] as? String == "send")
        #expect(first["due"] as? String == "2026-11-25T08:00:00Z")
        #expect(first["to"] as? String == "ana@example.com")
        #expect((first["subject"] as? String)?.contains("Ana") == true, "the rejected file did not rename Ana")
        let second = try #require(objects.first { $0["customer"] as? String == "c2" })
        #expect(second["status"] as? String == "suppressed")
        #expect(second["channel"] is NSNull)
        #expect(second["reason"] as? String == "no email address")
        #expect(result.stderr.contains("1 to send, 1 suppressed"))
    }

    @Test("dry-run without a database says how to get one")
    func missingDatabase() throws {
        let directory = try NudgeProcess.temporaryDirectory()
        _ = try NudgeProcess.run(["init", directory.path])
        let result = try NudgeProcess.run(["dry-run"], in: directory)
        #expect(result.status == 1)
        #expect(result.stderr.contains("no database here"))
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("nudge.sqlite").path))
    }

    @Test("demo writes a database and prints a dry-run of the example workflows")
    func demo() throws {
        let directory = try NudgeProcess.temporaryDirectory()
        _ = try NudgeProcess.run(["init", directory.path])
        let result = try NudgeProcess.run(["demo", "--customers", "500", "--now", "2026-11-25T15:00:00Z"], in: directory)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("DUE"))
        #expect(result.stdout.contains(" to send, "))
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("demo.sqlite").path))
        let again = try NudgeProcess.run(["init", directory.path])
        #expect(again.status == 1)
    }

    @Test("segments counts each segment; show lists a segment's members as a table, JSON Lines or CSV")
    func segments() throws {
        let directory = try NudgeProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        _ = try NudgeProcess.run(["init", directory.path])
        let now = "2026-11-25T15:00:00Z"
        #expect(try NudgeProcess.run(["demo", "--customers", "400", "--now", now], in: directory).status == 0)
        let db = ["--db", directory.appendingPathComponent("demo.sqlite").path, "--now", now]
        let list = try NudgeProcess.run(["segments", "--format", "json"] + db, in: directory)
        #expect(list.status == 0, "\(list.stderr)")
        let rows = try list.stdout.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        #expect(rows.map { $0["name"] as? String } == ["high_value", "frequent", "at_risk", "vip", "new", "regulars"])
        #expect(rows.allSatisfy { $0["count"] is Int && $0["description"] is String })
        let counts = Dictionary(uniqueKeysWithValues: rows.map { ($0["name"] as! String, $0["count"] as! Int) })
        #expect(counts["vip"]! > 0 && counts["vip"]! <= counts["high_value"]!)

        let show = try NudgeProcess.run(["segments", "show", "vip", "--format", "json"] + db, in: directory)
        #expect(show.status == 0, "\(show.stderr)")
        let members = try show.stdout.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        #expect(members.count == counts["vip"])
        #expect(members.allSatisfy { ($0["visits_30d"] as? Int ?? 0) >= 3 && $0["lifetime_value"] is NSNumber && $0["id"] is String })
        let ids = members.map { $0["id"] as! String }
        #expect(ids == ids.sorted())

        let csv = try NudgeProcess.run(["segments", "show", "vip", "--format", "csv"] + db, in: directory)
        let lines = csv.stdout.split(separator: "\n")
        #expect(lines.first == "id,name,email,visits_30d,lifetime_value")
        #expect(lines.count == members.count + 1)

        let table = try NudgeProcess.run(["segments"] + db, in: directory)
        #expect(table.stdout.hasPrefix("SEGMENT"))
        let unknown = try NudgeProcess.run(["segments", "show", "vipp"] + db, in: directory)
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("no segment 'vipp'; did you mean 'vip'?"))
    }

    @Test("model fit stores the fit; model show prints it as a table or JSON and writes the calibration chart")
    func model() throws {
        let directory = try NudgeProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        _ = try NudgeProcess.run(["init", directory.path])
        let now = "2026-11-25T15:00:00Z"
        #expect(try NudgeProcess.run(["demo", "--customers", "300", "--now", now], in: directory).status == 0)
        let db = ["--db", directory.appendingPathComponent("demo.sqlite").path]
        let none = try NudgeProcess.run(["model", "show"] + db, in: directory)
        #expect(none.status == 1)
        #expect(none.stderr.contains("no customer model fitted yet"))

        let fit = try NudgeProcess.run(["model", "fit", "--now", now] + db, in: directory)
        #expect(fit.status == 0, "\(fit.stderr)")
        #expect(fit.stdout.contains("BG/NBD"))
        let show = try NudgeProcess.run(["model", "show", "--format", "json"] + db, in: directory)
        #expect(show.status == 0, "\(show.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [String: Any])
        #expect(Set(json.keys) == ["bgnbd", "gamma_gamma", "customers", "repeat_customers", "fitted_at"])
        let bgnbd = try #require(json["bgnbd"] as? [String: Any])
        #expect(Set(bgnbd.keys) == ["r", "alpha", "a", "b", "log_likelihood"])
        #expect(json["fitted_at"] as? String == now)
        #expect((json["customers"] as? Int ?? 0) > 0)

        let chart = directory.appendingPathComponent("chart.html")
        let html = try NudgeProcess.run(["model", "show", "--html", chart.path] + db, in: directory)
        #expect(html.status == 0, "\(html.stderr)")
        let page = try String(contentsOf: chart, encoding: .utf8)
        #expect(page.contains("<svg") && page.contains("polyline") && page.contains("P(alive)"))
    }

    @Test("customers show explains one customer; customers list filters; export customers writes CSV")
    func customerProfile() throws {
        let directory = try NudgeProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        _ = try NudgeProcess.run(["init", directory.path])
        let now = "2026-11-25T15:00:00Z"
        #expect(try NudgeProcess.run(["demo", "--customers", "300", "--now", now], in: directory).status == 0)
        let db = ["--db", directory.appendingPathComponent("demo.sqlite").path, "--now", now]
        // The example workflows do not read the model: the first run fits it once its messages are out.
        let run = try NudgeProcess.run(["run"] + db, in: directory)
        #expect(run.status == 0 && run.stderr.contains("refitted the customer model in"), "\(run.stderr)")
        #expect(try NudgeProcess.run(["model", "fit"] + db, in: directory).status == 0)
        let show = try NudgeProcess.run(["customers", "show", "c00002", "--format", "json"] + db, in: directory)
        #expect(show.status == 0, "\(show.stderr)")
        let profile = try #require(try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [String: Any])
        for key in [
            "id", "visits_total", "segments", "p_alive", "churn_risk", "clv", "status", "lifecycle", "engagement_score",
            "next_action", "engagement", "progress", "consent_changes", "messages", "events", "model_fitted",
        ] {
            #expect(profile[key] != nil, "\(key)")
        }
        #expect(profile["id"] as? String == "c00002")
        #expect(profile["model_fitted"] as? Bool == true)
        let engagement = try #require(profile["engagement"] as? [String: Any])
        #expect(engagement["score"] as? Int == profile["engagement_score"] as? Int)
        let table = try NudgeProcess.run(["customers", "show", "c00002"] + db, in: directory)
        #expect(table.stdout.hasPrefix("customer c00002") && table.stdout.contains("engagement "))
        let unknown = try NudgeProcess.run(["customers", "show", "nobody"] + db, in: directory)
        #expect(unknown.status == 1 && unknown.stderr.contains("no customer 'nobody'"))

        // list filters by segment, status and text; export writes every customer as CSV.
        let vipCount = try NudgeProcess.run(["segments", "--format", "json"] + db, in: directory).stdout
            .split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .first { $0["name"] as? String == "vip" }?["count"] as? Int
        let vips = try NudgeProcess.run(["customers", "list", "--segment", "vip", "--format", "json"] + db, in: directory)
        let listed = vips.stdout.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        #expect(listed.count == vipCount && !listed.isEmpty)
        #expect(listed.allSatisfy { $0["status"] as? String == "vip" && $0["next_action"] as? String == "vip_thanks" })
        let churning = try NudgeProcess.run(["customers", "list", "--status", "churning", "--format", "csv"] + db, in: directory)
        #expect(churning.stdout.split(separator: "\n").count > 1, "the demo has churning customers")
        #expect(churning.stdout.split(separator: "\n").dropFirst().allSatisfy { $0.split(separator: ",", omittingEmptySubsequences: false)[3] == "churning" })
        let found = try NudgeProcess.run(["customers", "list", "--search", "C00002", "--format", "json"] + db, in: directory)
        #expect(found.stdout.split(separator: "\n").count == 1 && found.stdout.contains("\"id\":\"c00002\""))
        let export = try NudgeProcess.run(["export", "customers"] + db, in: directory)
        #expect(export.status == 0, "\(export.stderr)")
        let lines = export.stdout.split(separator: "\n")
        #expect(lines.count == 301)
        #expect(lines.first?.hasPrefix("id,name,email,phone,birth_date,timezone,signed_up_at,") == true)
        #expect(lines.first?.hasSuffix(",status,lifecycle,engagement_score,next_action") == true)
        let picked = try NudgeProcess.run(
            ["export", "customers", "--segment", "vip", "--fields", "id,segments,clv"] + db, in: directory)
        #expect(picked.stdout.split(separator: "\n").first == "id,segments,clv")
        #expect(picked.stdout.split(separator: "\n").count == (vipCount ?? 0) + 1)
        let bad = try NudgeProcess.run(["export", "customers", "--fields", "id,churn_rsk"] + db, in: directory)
        #expect(bad.status == 2 && bad.stderr.contains("did you mean 'churn_risk'?"))
    }

    @Test("dry-run, status, history and send-test write nothing: the database file keeps its bytes, no WAL is left")
    func readingWritesNothing() throws {
        let directory = try NudgeProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        _ = try NudgeProcess.run(["init", directory.path])
        let demo = try NudgeProcess.run(["demo", "--customers", "200", "--now", "2026-11-25T15:00:00Z"], in: directory)
        #expect(demo.status == 0, "\(demo.stderr)")
        let file = directory.appendingPathComponent("demo.sqlite")
        #expect(!FileManager.default.fileExists(atPath: file.path + "-wal"), "demo left its WAL")
        let before = try Data(contentsOf: file)
        let commands = [
            ["dry-run", "--now", "2026-11-26T15:00:00Z", "--format", "json"], ["status"], ["status", "--format", "json"],
            ["history", "c00001"], ["segments", "--now", "2026-11-26T15:00:00Z"],
            ["segments", "show", "at_risk", "--format", "csv"], ["customers", "show", "c00001"],
            ["send-test", "--workflow", "win-back", "--customer", "c00002", "--to", "+15550001111", "--now", "2026-11-26T15:00:00Z"],
        ]
        for arguments in commands {
            let result = try NudgeProcess.run(arguments + ["--db", file.path], in: directory)
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
            // Before the change, every open made the WAL file by creating and dropping a table, and its close
            // checkpointed: the file's change counter moved with each command.
            #expect(try Data(contentsOf: file) == before, "\(arguments) changed the database file")
            for suffix in ["-wal", "-shm"] {
                #expect(!FileManager.default.fileExists(atPath: file.path + suffix), "\(arguments) left \(suffix)")
            }
        }
    }
}

@Suite("Argument parsing")
struct ArgumentParsingTests {
    @Test("dry-run options")
    func dryRun() throws {
        let command = try NudgeCommand.parseAsRoot([
            "dry-run", "--project", "p", "--db", "x.sqlite", "--now", "2026-11-25", "--workflow", "a", "--workflow", "b",
            "--format", "json", "--render",
        ])
        let dryRun = try #require(command as? NudgeCommand.DryRun)
        #expect(dryRun.global.project == "p")
        #expect(dryRun.global.db == "x.sqlite")
        #expect(dryRun.workflows == ["a", "b"])
        #expect(dryRun.format == .json)
        #expect(dryRun.render)
    }

    @Test("a malformed --now is rejected before anything runs")
    func badNow() {
        #expect(throws: (any Error).self) { try NudgeCommand.parseAsRoot(["dry-run", "--now", "2026-13-01"]) }
    }

    @Test("import takes a kind and a file")
    func importKinds() throws {
        let command = try #require(try NudgeCommand.parseAsRoot(["import", "visits", "v.csv"]) as? NudgeCommand.Import)
        #expect(command.kind == .visits)
        #expect(command.file == "v.csv")
    }
}

@Suite("nudge workflows, run as a process")
struct WorkflowsCommandTests {
    @Test("a table of every workflow: status, what it sent in 7 and 30 days, next due time and trigger")
    func table() throws {
        let now = "2026-11-25T15:00:00Z"
        let project = try DemoProject.make(customers: 300, now: now)
        let run = try project.nudge(["run", "--now", now])
        #expect(run.status == 0, "\(run.stderr)")
        // The run delivered at the wall clock's time, after --now: asked a minute after --now, nothing counts yet.
        let before = try project.nudge(["workflows", "--now", "2026-11-25T15:01:00Z"])
        #expect(before.status == 0, "\(before.stderr)")
        let lines = before.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
            == "WORKFLOW STATUS SENT 7D SENT 30D NEXT DUE TRIGGER")
        #expect(lines.count == 15)
        let offer = try #require(lines.first { $0.hasPrefix("new-offer ") })
        #expect(offer.contains(" active ") && offer.hasSuffix("new_offer: {}"))
        let holiday = try #require(lines.first { $0.hasPrefix("holiday-hours ") })
        #expect(holiday.contains(" scheduled ") && holiday.contains("2026-12-20T10:00:00-05:00"))
        #expect(holiday.hasSuffix("once: { at: \"2026-12-20T10:00\" }"))
        let friday = try #require(lines.first { $0.hasPrefix("friday-regulars ") })
        // 27 November 2026 is a Friday.
        #expect(friday.contains(" active ") && friday.contains("2026-11-27T10:00:00-05:00"))
        // Asked now, the run's deliveries are in the last 7 days.
        let json = try project.nudge(["workflows", "--format", "json"])
        #expect(json.status == 0, "\(json.stderr)")
        let sent = json.stdout.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
        }.map { ($0["sent_7d"] as? Int) ?? -1 }
        let delivered = run.stderr.firstMatch(of: /delivered (\d+)/).map { Int($0.1)! } ?? -1
        #expect(sent.count == 14 && sent.reduce(0, +) == delivered && delivered > 0, "\(json.stdout)")
    }
}

@Suite("Journeys of the example project, run as a process")
struct JourneyCommandTests {
    @Test("a week after the win-back, run sends the reminders; check --db warns once a change renumbers that step")
    func reminders() throws {
        let now = "2026-11-25T15:00:00Z"
        let project = try DemoProject.make(customers: 3000, now: now)
        #expect(try project.nudge(["run", "--now", now]).status == 0)
        let week = "2026-12-02T15:00:00Z"
        let plan = try project.dryRun(now: week)
        let reminders = plan.filter { ($0["occurrence"] as? String)?.hasSuffix("/1") == true }
        #expect(!reminders.isEmpty)
        #expect(reminders.allSatisfy { $0["workflow"] as? String == "win-back" && $0["template"] as? String == "win-back-reminder" && $0["variant"] as? String == "invite" })
        let run = try project.nudge(["run", "--now", week])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try project.dryRun(now: week).isEmpty, "every step of the week went out once")

        let clean = try project.nudge(["check", "--db", project.databasePath, "--now", week])
        #expect(clean.status == 0 && !clean.stderr.contains("warning"), "\(clean.stderr)")
        // A step inserted before the reminder moves it to step 2.
        let file = project.directory.appendingPathComponent("Workflows/win-back.yaml")
        let text = try String(contentsOf: file, encoding: .utf8)
        try text.replacingOccurrences(
            of: "          - wait: 7d",
            with: "          - wait: 2d\n          - send: { channel: email, template: win-back }\n          - wait: 5d"
        ).write(to: file, atomically: true, encoding: .utf8)
        let warned = try project.nudge(["check", "--db", project.databasePath, "--now", week])
        #expect(warned.status == 0, "warnings only: \(warned.stderr)")
        #expect(
            warned.stderr.contains(
                "warning: journeys in flight had template 'win-back-reminder' as step 1 of 'win-back', which now sends it as step 2"),
            "\(warned.stderr)")
        // Without --db, check knows nothing of journeys.
        #expect(try !project.nudge(["check"]).stderr.contains("journeys in flight"))
    }
}

@Suite("The policy of the example project, run as a process")
struct PolicyCommandTests {
    @Test("with quiet hours on, a night dry-run shows send_after in the table and in JSON; a capped message names its cap")
    func quietHours() throws {
        let project = try DemoProject.make(customers: 3000, now: "2026-11-25T15:00:00Z")
        let config = project.directory.appendingPathComponent("nudge.yaml")
        let text = try String(contentsOf: config, encoding: .utf8)
        #expect(text.contains("  # quiet_hours: { from: \"21:00\", to: \"08:00\" }"))
        try text.replacingOccurrences(of: "  # quiet_hours:", with: "  quiet_hours:").write(to: config, atomically: true, encoding: .utf8)
        // 22:00 in New York.
        let night = "2026-11-26T03:00:00Z"
        let table = try project.nudge(["dry-run", "--now", night])
        #expect(table.status == 0, "\(table.stderr)")
        let held = table.stdout.split(separator: "\n").filter { $0.contains("(send after ") }
        #expect(!held.isEmpty, "\(table.stdout)")
        #expect(held.contains { $0.contains("(send after 2026-11-26T08:00:00-05:00)") })
        let plan = try project.dryRun(now: night)
        #expect(plan.allSatisfy { $0.keys.contains("send_after") && $0.keys.contains("variant") })
        let later = plan.compactMap { $0["send_after"] as? String }
        #expect(later.count == held.count)
        // Transactional messages go out at night too.
        #expect(plan.filter { $0["workflow"] as? String == "reward-ready" }.allSatisfy { $0["send_after"] is NSNull })
    }
}
