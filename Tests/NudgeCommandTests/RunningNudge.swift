import Foundation
import GRDB
import NudgeStore
import NudgeTestSupport
import Testing
import NudgeCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A `nudge` child process started in the background: its output is collected as it arrives, and it can be
/// signalled (SIGKILL to simulate a crash, SIGTERM/SIGINT for a graceful stop) and waited for with a timeout.
final class RunningNudge: @unchecked Sendable {
    let process: ChildProcess
    let arguments: [String]
    private let lock = NSLock()
    private var outData = Data()
    private var errData = Data()
    private let readers = DispatchGroup()

    /// Starts `nudge ARGUMENTS` (or `executable`, such as a shell running nudge) in `directory`, with `environment`
    /// added to this process's environment.
    init(_ arguments: [String], in directory: URL?, environment: [String: String] = [:], executable: String? = nil) throws {
        self.arguments = arguments
        process = try ChildProcess(
            executable ?? NudgeProcess.executable.path, arguments,
            environment: ProcessInfo.processInfo.environment.merging(environment) { _, new in new },
            directory: directory?.path, output: .pipe, error: .pipe)
        collect(process.output!, isError: false)
        collect(process.error!, isError: true)
    }

    private func collect(_ handle: FileHandle, isError: Bool) {
        readers.enter()
        Thread.detachNewThread { [self] in
            while true {
                let data = handle.availableData
                if data.isEmpty { break }
                lock.withLock {
                    if isError { errData.append(data) } else { outData.append(data) }
                }
            }
            readers.leave()
        }
    }

    var pid: Int32 { process.pid }

    /// The standard error received so far.
    var stderr: String { lock.withLock { String(decoding: errData, as: UTF8.self) } }

    /// The standard output received so far.
    var stdout: String { lock.withLock { String(decoding: outData, as: UTF8.self) } }

    /// Sends `signal` to the child (a no-op once it has been reaped).
    func send(_ signal: Int32) {
        process.send(signal)
    }

    /// Polls standard error until it contains `text`; false when `timeout` passes first or the child exits.
    func waitForStderr(containing text: String, timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if stderr.contains(text) { return true }
            if !process.isRunning { return stderr.contains(text) }
            usleep(10_000)
        }
        return false
    }

    /// Polls `condition` until it holds (true), or the child exits or `timeout` passes (false).
    func wait(until condition: () -> Bool, timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline && process.isRunning {
            if condition() { return true }
            usleep(500)
        }
        return false
    }

    /// How the child ended.
    struct Outcome {
        var result: NudgeProcess.Result
        /// Killed by a signal rather than exiting.
        var wasSignalled: Bool
        /// The child did not end within the timeout and was killed by the test.
        var timedOut: Bool
    }

    /// Waits (polling) until the child exits, killing it after `timeout`; then collects all of its output.
    func wait(timeout: TimeInterval = 30) -> Outcome {
        var timedOut = false
        var ended = process.wait(timeout: timeout)
        if ended == nil {
            timedOut = true
            kill(pid, SIGKILL)
            ended = process.wait(timeout: 30)
        }
        // Its pipes are its own (close-on-exec here, closed in every other child): they end when it does.
        _ = readers.wait(timeout: .now() + 30)
        let termination = ended ?? ChildProcess.Termination(status: SIGKILL, signalled: true)
        return Outcome(
            result: NudgeProcess.Result(status: termination.status, stdout: stdout, stderr: stderr),
            wasSignalled: termination.signalled, timedOut: timedOut)
    }

    /// Kills the child with SIGKILL (a crash: no handler runs) and reaps it.
    @discardableResult
    func crash() -> Outcome {
        send(SIGKILL)
        return wait(timeout: 10)
    }
}

extension NudgeProcess {
    /// Starts `nudge` with `arguments` without waiting for it.
    static func start(_ arguments: [String], in directory: URL? = nil) throws -> RunningNudge {
        try RunningNudge(arguments, in: directory)
    }
}

/// A project made by `nudge init` with a demo database, and what its runs left behind: the outbox files
/// (`outbox/<channel>.jsonl`) and the `outbox` and `ledger` tables.
struct DemoProject {
    let directory: URL
    static let databaseName = "demo.sqlite"

    /// `nudge init` in a fresh temporary folder, then `nudge demo --customers N --now T` (without `--now` when
    /// `now` is nil: the demo is then placed around the current time).
    static func make(customers: Int, now: String?) throws -> DemoProject {
        let parent = try NudgeProcess.temporaryDirectory()
        let directory = parent.appendingPathComponent("project")
        let initialized = try NudgeProcess.run(["init", directory.path])
        try #require(initialized.status == 0, "\(initialized.stderr)")
        let project = DemoProject(directory: directory)
        // Each run leaves its retries to the next one here (the tests drive retries run by run); the drain window
        // has tests of its own.
        let config = directory.appendingPathComponent("nudge.yaml")
        try (try String(contentsOf: config, encoding: .utf8) + "\ndelivery:\n  drain_window: 0s\n")
            .write(to: config, atomically: true, encoding: .utf8)
        let demo = try project.nudge(["demo", "--customers", "\(customers)"] + (now.map { ["--now", $0] } ?? []))
        try #require(demo.status == 0, "\(demo.stderr)")
        return project
    }

    var databasePath: String { directory.appendingPathComponent(Self.databaseName).path }
    var outboxDirectory: URL { directory.appendingPathComponent("outbox") }

    /// Runs `nudge COMMAND --db demo.sqlite ARGUMENTS…` in the project folder.
    func nudge(_ arguments: [String]) throws -> NudgeProcess.Result {
        try NudgeProcess.run(withDatabase(arguments), in: directory)
    }

    /// Starts `nudge COMMAND --db demo.sqlite ARGUMENTS…` in the project folder without waiting.
    func start(_ arguments: [String], environment: [String: String] = [:]) throws -> RunningNudge {
        try RunningNudge(withDatabase(arguments), in: directory, environment: environment)
    }

    private func withDatabase(_ arguments: [String]) -> [String] {
        guard let command = arguments.first, !["init", "check"].contains(command) else { return arguments }
        return [command, "--db", Self.databaseName] + arguments.dropFirst()
    }

    /// Replaces `old` with `new` in nudge.yaml (exactly one occurrence).
    func editConfig(replacing old: String, with new: String) throws {
        let url = directory.appendingPathComponent("nudge.yaml")
        let text = try String(contentsOf: url, encoding: .utf8)
        try #require(text.components(separatedBy: old).count == 2, "nudge.yaml should contain '\(old)' once")
        try text.replacingOccurrences(of: old, with: new).write(to: url, atomically: true, encoding: .utf8)
    }

    /// The raw bytes of every outbox file, by file name.
    func outboxFileContents() throws -> [String: Data] {
        guard FileManager.default.fileExists(atPath: outboxDirectory.path) else { return [:] }
        var contents: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: outboxDirectory.path)
        where name.hasSuffix(".jsonl") {
            contents[name] = try Data(contentsOf: outboxDirectory.appendingPathComponent(name))
        }
        return contents
    }

    /// The total size in bytes of the outbox files.
    func outboxSize() throws -> Int {
        guard FileManager.default.fileExists(atPath: outboxDirectory.path) else { return 0 }
        return try FileManager.default.contentsOfDirectory(atPath: outboxDirectory.path).reduce(0) { total, name in
            let attributes = try FileManager.default.attributesOfItem(
                atPath: outboxDirectory.appendingPathComponent(name).path)
            return total + ((attributes[.size] as? NSNumber)?.intValue ?? 0)
        }
    }

    /// Outbox files whose last byte is not a newline: a line torn by a crash mid-write.
    func tornFiles() throws -> [String] {
        try outboxFileContents().filter { !$0.value.isEmpty && $0.value.last != UInt8(ascii: "\n") }.keys.sorted()
    }

    /// Every complete line of every outbox file, parsed; records an issue for a malformed line, and for a torn last
    /// line unless `allowingTornTail` (right after a crash, before the next run repairs the file).
    func outboxLines(allowingTornTail: Bool = false, sourceLocation: SourceLocation = #_sourceLocation) throws
        -> [FileLine]
    {
        var lines: [FileLine] = []
        for (name, data) in try outboxFileContents().sorted(by: { $0.key < $1.key }) {
            let text = String(decoding: data, as: UTF8.self)
            if !allowingTornTail {
                #expect(
                    text.isEmpty || text.hasSuffix("\n"), "\(name) ends with a torn line",
                    sourceLocation: sourceLocation)
            }
            for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
                let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                guard let object, let id = object["id"] as? String else {
                    Issue.record(
                        "\(name): not a complete JSON object with an id: \(line.prefix(120))",
                        sourceLocation: sourceLocation)
                    continue
                }
                lines.append(FileLine(file: name, id: id, fields: object))
            }
        }
        return lines
    }

    /// Opens the demo database (already migrated by the commands).
    func database() throws -> AppDatabase {
        try AppDatabase.open(path: databasePath)
    }

    /// Every outbox row.
    func outboxRows() throws -> [OutboxMessage] {
        try database().reader.read { db in try OutboxMessage.fetchAll(db) }
    }

    /// Every ledger row as `workflow|customer|occurrence`.
    func ledgerKeys() throws -> [String] {
        try database().reader.read { db in
            try Row.fetchAll(db, sql: "SELECT workflow_id, customer_id, occurrence FROM ledger").map { row -> String in
                let workflow: String = row["workflow_id"]
                let customer: String = row["customer_id"]
                let occurrence: String = row["occurrence"]
                return "\(workflow)|\(customer)|\(occurrence)"
            }
        }
    }

    /// `nudge dry-run --format json --render --now T`, one object per planned message.
    func dryRun(now: String) throws -> [[String: Any]] {
        let result = try nudge(["dry-run", "--format", "json", "--render", "--now", now])
        try #require(result.status == 0, "\(result.stderr)")
        return try result.stdout.split(separator: "\n").map { line in
            try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        }
    }
}

/// One line of an outbox file.
struct FileLine {
    var file: String
    var id: String
    var fields: [String: Any]
}

/// The identity of a planned message: workflow, customer, occurrence and channel (and template, since a workflow
/// may send several messages per occurrence).
struct MessageKey: Hashable, Comparable, CustomStringConvertible {
    var workflow: String
    var customer: String
    var occurrence: String
    var channel: String?
    var template: String

    init(workflow: String, customer: String, occurrence: String, channel: String?, template: String) {
        self.workflow = workflow
        self.customer = customer
        self.occurrence = occurrence
        self.channel = channel
        self.template = template
    }

    /// From a dry-run object or an outbox file line.
    init(_ object: [String: Any]) {
        self.init(
            workflow: object["workflow"] as? String ?? "?", customer: object["customer"] as? String ?? "?",
            occurrence: object["occurrence"] as? String ?? "?", channel: object["channel"] as? String,
            // A holdout's row has no template: null in JSON, empty in the outbox.
            template: object["template"] as? String ?? "")
    }

    init(_ row: OutboxMessage) {
        self.init(
            workflow: row.workflowId, customer: row.customerId, occurrence: row.occurrence, channel: row.channel,
            template: row.template)
    }

    var description: String { "\(workflow)/\(customer)/\(occurrence)/\(channel ?? "-")/\(template)" }

    static func < (a: MessageKey, b: MessageKey) -> Bool { a.description < b.description }
}

/// A deterministic generator so that a failing iteration can be replayed.
typealias SeededGenerator = SplitMix64

/// ISO 8601 instants `days` after `start` (`2026-11-25T15:00:00Z` + 1 day, …).
func isoInstant(_ start: String, plusDays days: Int) -> String {
    let formatter = ISO8601DateFormatter()
    let date = formatter.date(from: start)!.addingTimeInterval(Double(days) * 86_400)
    return formatter.string(from: date)
}
