import Foundation
import NudgeLanguage
import NudgePostgres
import PostgresNIO
import NudgeTestSupport
import Testing

/// The `nudge` executable pointed at PostgreSQL with `--db postgres://…` prints what it prints for a SQLite file.
@Suite("nudge commands on PostgreSQL", .serialized, .enabled(if: PostgresServer.isAvailable))
struct CommandTests {
    static var executable: URL {
        let besideTests = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("nudge")
        if FileManager.default.isExecutableFile(atPath: besideTests.path) { return besideTests }
        return SameBehaviourTests.repository.appendingPathComponent(".build/debug/nudge")
    }

    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func nudge(_ arguments: [String], project: URL = SameBehaviourTests.repository) throws -> Output {
        let process = try ChildProcess(
            executable.path, arguments + ["--project", project.path], output: .pipe, error: .pipe)
        // Standard error is read beside standard output, so that neither pipe fills while the other is read.
        let stderrRead = DispatchGroup()
        nonisolated(unsafe) var stderr = Data()
        stderrRead.enter()
        Thread.detachNewThread {
            stderr = process.error!.readDataToEndOfFile()
            stderrRead.leave()
        }
        let stdout = process.output!.readDataToEndOfFile()
        stderrRead.wait()
        guard let termination = process.wait(timeout: 300) else {
            throw ChildProcessError(description: "nudge \(arguments.joined(separator: " ")) did not end within 5 minutes")
        }
        return Output(
            status: termination.status, stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self))
    }

    /// A copy of the repository's example project in `directory`, so that its file outboxes are written there.
    static func exampleProject(in directory: URL) throws -> URL {
        let project = directory.appendingPathComponent("project")
        try FileManager.default.createDirectory(at: project, withIntermediateDirectories: true)
        for item in ["nudge.yaml", "Workflows", "Templates"] {
            try FileManager.default.copyItem(
                at: SameBehaviourTests.repository.appendingPathComponent(item), to: project.appendingPathComponent(item))
        }
        return project
    }

    @Test("import, dry-run, run, status, workflows and history print the same on both stores")
    func sameOutput() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("nudge-pg-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let files = try SyntheticCSV(count: 300).write(to: directory)
        let project = try Self.exampleProject(in: directory)
        let url = try await PostgresServer.freshDatabase()
        let stores = [directory.appendingPathComponent("cli.sqlite").path, url.description]
        var outputs: [[String]] = []
        for store in stores {
            var printed: [String] = []
            for kind in ["customers", "visits", "offers", "progress"] {
                let imported = try Self.nudge(["import", kind, try #require(files[kind]), "--db", store], project: project)
                #expect(imported.status == 0, "\(imported.stderr)")
            }
            let now = "2026-11-28T15:00:00Z"
            let plan = try Self.nudge(
                ["dry-run", "--db", store, "--now", now, "--format", "json", "--render"], project: project)
            #expect(plan.status == 0, "\(plan.stderr)")
            printed.append(plan.stdout)
            let table = try Self.nudge(["dry-run", "--db", store, "--now", now], project: project)
            printed.append(table.stdout)
            let run = try Self.nudge(["run", "--db", store, "--now", now], project: project)
            #expect(run.status == 0, "\(run.stderr)")
            let status = try Self.nudge(["status", "--db", store, "--format", "json"], project: project)
            printed.append(status.stdout)
            let workflows = try Self.nudge(["workflows", "--db", store, "--now", now, "--format", "json"], project: project)
            #expect(workflows.status == 0, "\(workflows.stderr)")
            printed.append(workflows.stdout)
            let customer = try #require(plan.stdout.split(separator: "\n").first.flatMap {
                (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
            }?["customer"] as? String)
            let history = try Self.nudge(["history", customer, "--db", store, "--format", "json"], project: project)
            #expect(history.status == 0, "\(history.stderr)")
            // Ids and times differ between the two runs; what was sent, where and why must not.
            printed.append(
                history.stdout.split(separator: "\n").map {
                    $0.replacing(/"id":"[^"]*"/, with: "").replacing(/"(created|delivered)_at":"[^"]*"/, with: "")
                }.joined(separator: "\n"))
            outputs.append(printed)
        }
        #expect(outputs[0] == outputs[1])
        #expect(outputs[0][0].split(separator: "\n").count > 10, "someone is due")
        try await PostgresServer.drop(url)
        try? FileManager.default.removeItem(at: directory)
    }

    @Test("demo writes the same customers to PostgreSQL and prints the same dry-run; run again, it replaces them")
    func demo() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("nudge-pg-demo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = try await PostgresServer.freshDatabase()
        let now = "2026-11-25T09:00:00Z"
        var outputs: [String] = []
        for store in [directory.appendingPathComponent("demo.sqlite").path, url.description] {
            let demo = try Self.nudge(["demo", "--db", store, "--now", now, "--format", "json", "--customers", "800"])
            #expect(demo.status == 0, "\(demo.stderr)")
            outputs.append(demo.stdout)
        }
        #expect(outputs[0] == outputs[1])
        #expect(outputs[0].split(separator: "\n").count > 10, "someone is due")
        // A second demo with fewer customers replaces the first: the dry-run sees only the new ones.
        let smaller = try Self.nudge(["demo", "--db", url.description, "--now", now, "--format", "json", "--customers", "40"])
        #expect(smaller.status == 0, "\(smaller.stderr)")
        let again = try Self.nudge(["dry-run", "--db", url.description, "--now", now, "--format", "json"])
        #expect(again.stdout == smaller.stdout)
        #expect(again.stdout.split(separator: "\n").count < outputs[0].split(separator: "\n").count)
        try await PostgresServer.drop(url)
        try? FileManager.default.removeItem(at: directory)
    }

    @Test("send-test renders the same message from either store and leaves both stores' ledger and outbox alone")
    func sendTest() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("nudge-pg-send-\(UUID().uuidString)")
        let project = try Self.exampleProject(in: directory)
        let url = try await PostgresServer.freshDatabase()
        let now = "2026-11-25T15:00:00Z"
        var rendered: [String] = []
        for store in [directory.appendingPathComponent("demo.sqlite").path, url.description] {
            let demo = try Self.nudge(["demo", "--db", store, "--now", now, "--customers", "200"], project: project)
            #expect(demo.status == 0, "\(demo.stderr)")
            let sent = try Self.nudge(
                ["send-test", "--db", store, "--workflow", "win-back", "--customer", "c00002", "--to", "+15550001111", "--now", now],
                project: project)
            #expect(sent.status == 0, "\(sent.stderr)")
            #expect(sent.stderr.contains("sent sms to +15550001111 through file"))
            rendered.append(sent.stdout)
        }
        #expect(rendered[0] == rendered[1])
        #expect(rendered[0].contains("we miss you"))
        let store = try await PostgresStore.connect(url, password: nil, logger: PostgresServer.logger)
        for try await count in try await store.client.query("SELECT (SELECT count(*) FROM ledger) + (SELECT count(*) FROM outbox)")
            .decode(Int64.self)
        {
            #expect(count == 0, "send-test wrote no ledger or outbox row")
        }
        await store.close()
        try await PostgresServer.drop(url)
        try? FileManager.default.removeItem(at: directory)
    }

    @Test("an unreachable server, a missing database or a missing password variable is one line and exit 1")
    func connectionErrors() throws {
        let refused = try Self.nudge(["dry-run", "--db", "postgres://nudge@127.0.0.1:1/x"])
        #expect(refused.status == 1)
        #expect(refused.stderr.hasPrefix("postgres://nudge@127.0.0.1:1/x: error: cannot connect to PostgreSQL at 127.0.0.1:1: "))
        #expect(refused.stderr.split(separator: "\n").count == 1)
        var missing = try DatabaseURL(parsing: try #require(PostgresServer.url))
        missing.database = "nudge_no_such_database"
        let absent = try Self.nudge(["status", "--db", missing.description])
        #expect(absent.status == 1)
        #expect(absent.stderr.contains("database \"nudge_no_such_database\" does not exist"))
        let withPassword = try Self.nudge(["status", "--db", "postgres://a:secret@127.0.0.1/x"])
        #expect(withPassword.status == 1)
        #expect(withPassword.stderr.contains("must not hold a password"))
        #expect(!withPassword.stderr.contains("secret@"))
    }
}
