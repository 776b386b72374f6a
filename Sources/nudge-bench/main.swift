import Foundation
import NudgeEngine
import Logging
import NudgeLanguage
import NudgePostgres
import PostgresNIO
import NudgeCore

#if canImport(Glibc)
    import Glibc
#endif

// nudge-bench: reproducible figures for imports, the daily dry-run, run delivery and peak memory.
//
//   swift run -c release nudge-bench                   # 100,000 and 1,000,000 customers
//   swift run -c release nudge-bench --customers 200000
//   swift run -c release nudge-bench --db postgres://nudge@127.0.0.1:5432/nudge   # SQLite, then PostgreSQL
//
// Every step runs the release `nudge` binary as a child process, so each time is a whole process and each
// memory figure is that process's peak resident set (from wait4).

struct Options {
    var scales: [Int] = [100_000, 1_000_000]
    var matching = 7500
    var work = FileManager.default.temporaryDirectory.appendingPathComponent("nudge-bench")
    var keep = false
    var dryRuns = 5
    /// A PostgreSQL server to measure beside SQLite: each scale gets a fresh database `DBNAME_bench_N` on it.
    var database: DatabaseURL?

    init(_ arguments: [String]) {
        var i = 0
        while i < arguments.count {
            let argument = arguments[i]
            let value = i + 1 < arguments.count ? arguments[i + 1] : ""
            switch argument {
            case "--customers":
                scales = value.split(separator: ",").compactMap { Int($0.replacingOccurrences(of: "_", with: "")) }
                i += 1
            case "--matching":
                matching = Int(value) ?? matching
                i += 1
            case "--work":
                work = URL(fileURLWithPath: value)
                i += 1
            case "--dry-runs":
                dryRuns = max(1, Int(value) ?? dryRuns)
                i += 1
            case "--db":
                do {
                    database = try DatabaseURL(parsing: value)
                } catch {
                    FileHandle.standardError.write(Data("nudge-bench: --db: \(error)\n".utf8))
                    exit(2)
                }
                i += 1
            case "--keep": keep = true
            case "-h", "--help":
                print("usage: nudge-bench [--customers N[,N…]] [--matching M] [--dry-runs K] [--work DIR] [--db postgres://…] [--keep]")
                exit(0)
            default:
                FileHandle.standardError.write(Data("nudge-bench: unknown argument \(argument)\n".utf8))
                exit(2)
            }
            i += 1
        }
    }
}

/// A finished child process: wall time, peak memory, output.
struct Measured {
    var seconds: Double
    var peakBytes: Int
    var status: Int32
    var stderr: String
}

/// A child process started by `spawn`.
struct Child {
    var pid: pid_t
    var start: DispatchTime
    var errPath: String
}

/// Starts `executable` with `arguments` (and `--project directory`), stdout discarded, stderr to `errName`.
func spawn(_ executable: String, _ arguments: [String], in directory: URL, errName: String = ".bench-stderr") -> Child {
    let errPath = directory.appendingPathComponent(errName).path
    var actions: posix_spawn_file_actions_t = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    let argv: [UnsafeMutablePointer<CChar>?] =
        ([executable] + arguments + ["--project", directory.path]).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var pid: pid_t = 0
    let start = DispatchTime.now()
    let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
    posix_spawn_file_actions_destroy(&actions)
    guard spawned == 0 else {
        fatalError("cannot start \(executable): \(String(cString: strerror(spawned)))")
    }
    return Child(pid: pid, start: start, errPath: errPath)
}

/// Waits for `child`: wall time, peak RSS (ru_maxrss of the child), exit status, stderr.
func finish(_ child: Child) -> Measured {
    var status: Int32 = 0
    var usage = rusage()
    wait4(child.pid, &status, 0, &usage)
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - child.start.uptimeNanoseconds) / 1e9
    let stderr = (try? String(contentsOfFile: child.errPath, encoding: .utf8)) ?? ""
    let exit = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    return Measured(seconds: seconds, peakBytes: Int(usage.ru_maxrss) * 1024, status: exit, stderr: stderr)
}

/// Runs `executable` with `arguments` to the end.
func measure(_ executable: String, _ arguments: [String], in directory: URL) -> Measured {
    finish(spawn(executable, arguments, in: directory))
}

func mb(_ bytes: Int) -> String { String(format: "%.0f MB", Double(bytes) / 1_048_576) }
func rate(_ count: Int, _ seconds: Double) -> String { String(format: "%.0f", Double(count) / max(seconds, 1e-9)) }

func check(_ step: String, _ result: Measured) {
    guard result.status == 0 else {
        FileHandle.standardError.write(Data("nudge-bench: \(step) failed (exit \(result.status)):\n\(result.stderr)\n".utf8))
        exit(1)
    }
}

let options = Options(Array(CommandLine.arguments.dropFirst()))
let nudge = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("nudge").path
guard FileManager.default.isExecutableFile(atPath: nudge) else {
    FileHandle.standardError.write(Data("nudge-bench: build nudge first (swift build -c release)\n".utf8))
    exit(1)
}
let day0 = ISO8601.parse("2026-11-25T15:00:00Z", zone: TimeZone(identifier: "UTC")!)!
let day1 = day0.addingTimeInterval(86_400)
print("nudge-bench on \(ProcessInfo.processInfo.processorCount) cores, \(mb(Int(ProcessInfo.processInfo.physicalMemory))) memory")

for customers in options.scales {
    let label = customers >= 1_000_000 && customers % 1_000_000 == 0 ? "\(customers / 1_000_000)M" : "\(customers / 1000)k"
    let directory = options.work.appendingPathComponent("\(customers)")
    try? FileManager.default.removeItem(at: directory)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    try ExampleProject.scaffold(into: directory.path)

    let generated = DispatchTime.now()
    let data = SyntheticData(
        customers: customers, matching: options.matching, visitsPerCustomer: 3, progressShare: 0.5, day0: day0)
    let counts = try data.write(to: directory)
    let generation = Double(DispatchTime.now().uptimeNanoseconds - generated.uptimeNanoseconds) / 1e9
    print(
        "[\(label)] data: \(counts.customers) customers, \(counts.visits) visits, \(counts.progress) progress rows "
            + String(format: "(generated in %.1f s)", generation))

    var dryRunMedians: [Double] = []
    for store in ["sqlite"] + (options.database == nil ? [] : ["postgres"]) {
        var db: [String] = []
        var suffix = ""
        if store == "postgres", let base = options.database {
            db = ["--db", try await freshDatabase(base, name: "\(base.database)_bench_\(customers)").description]
            suffix = " postgres"
        } else {
            try? FileManager.default.removeItem(at: directory.appendingPathComponent("nudge.sqlite"))
        }
        for (kind, rows) in [("customers", counts.customers), ("offers", counts.offers), ("visits", counts.visits), ("progress", counts.progress)] {
            let result = measure(nudge, ["import", kind, directory.appendingPathComponent("\(kind).csv").path] + db, in: directory)
            check("import \(kind)", result)
            print(
                "[\(label)\(suffix)] import \(kind): \(rate(rows, result.seconds)) rows/s "
                    + String(format: "(%d rows in %.2f s), peak %@", rows, result.seconds, mb(result.peakBytes)))
        }

        let firstRun = measure(nudge, ["run", "--now", ISO8601.format(day0)] + db, in: directory)
        check("run", firstRun)
        let delivered = Int(firstRun.stderr.split(separator: "delivered ").dropFirst().first?.split(separator: ",").first ?? "0") ?? 0
        print(
            "[\(label)\(suffix)] first run: \(delivered) messages delivered "
                + String(format: "in %.3f s (whole process), peak %@", firstRun.seconds, mb(firstRun.peakBytes)))

        var times: [Double] = []
        var peak = 0
        var planned = ""
        for _ in 0..<options.dryRuns {
            let result = measure(nudge, ["dry-run", "--now", ISO8601.format(day1), "--format", "json"] + db, in: directory)
            check("dry-run", result)
            times.append(result.seconds)
            peak = max(peak, result.peakBytes)
            planned = String(result.stderr.split(separator: ";").first ?? "")
        }
        times.sort()
        dryRunMedians.append(times[times.count / 2])
        print(
            "[\(label)\(suffix)] daily dry-run: " + String(format: "%.1f ms median, %.1f ms min", times[times.count / 2] * 1000, times[0] * 1000)
                + " (whole process; \(planned)), peak \(mb(peak))")

        // Delivery throughput: a broadcast to about 100,000 customers through the file provider.
        let broadcast = directory.appendingPathComponent("broadcast")
        try? FileManager.default.removeItem(at: broadcast)
        try FileManager.default.createDirectory(at: broadcast.appendingPathComponent("Workflows"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: broadcast.appendingPathComponent("Templates"), withIntermediateDirectories: true)
        try String(contentsOf: directory.appendingPathComponent("nudge.yaml"), encoding: .utf8)
            .write(to: broadcast.appendingPathComponent("nudge.yaml"), atomically: true, encoding: .utf8)
        let windowDays = counts.catchUpDays(latest: 100_000, before: day0)
        try """
            id: broadcast
            trigger: { signup: { days_after: 0 } }
            catch_up: \(windowDays)d
            actions:
              - send: { channel: [email, sms, push], template: news }
            """.write(to: broadcast.appendingPathComponent("Workflows/broadcast.yaml"), atomically: true, encoding: .utf8)
        for (channel, text) in [
            ("email", "---\nsubject: News from {{business.name}}\n---\n<p>Hi {{customer.first_name}}, new autumn menu!</p>\n"),
            ("sms", "Hi {{customer.first_name}}, new autumn menu at {{business.name}}!\n"),
            ("push", "---\ntitle: New menu\n---\nHi {{customer.first_name}}, come and taste it.\n"),
        ] {
            try text.write(to: broadcast.appendingPathComponent("Templates/news.\(channel).mustache"), atomically: true, encoding: .utf8)
        }
        let sendRun = measure(nudge, ["run", "--now", ISO8601.format(day0)] + (db.isEmpty ? ["--db", directory.appendingPathComponent("nudge.sqlite").path] : db), in: broadcast)
        check("broadcast run", sendRun)
        let line = sendRun.stderr.split(separator: "\n").first { $0.contains("delivered") } ?? ""
        print("[\(label)\(suffix)] run delivery to the file provider: \(line.split(separator: ";").last.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""), peak \(mb(sendRun.peakBytes))")

        if store == "postgres", let database = db.last {
            try await runnerScaling(
                label: "\(label)\(suffix)", nudge: nudge, project: directory, database: database,
                // The latest 20,000 sign-ups.
                windowDays: counts.catchUpDays(latest: 20_000, before: day0),
                day0: day0)
        }
    }
    if dryRunMedians.count == 2 {
        print("[\(label)] daily dry-run on PostgreSQL: " + String(format: "%.2f× the SQLite figure", dryRunMedians[1] / dryRunMedians[0]))
    }

    if !options.keep { try? FileManager.default.removeItem(at: directory) }
}

/// Drops and creates database `name` on the server of `base`; returns its URL.
func freshDatabase(_ base: DatabaseURL, name: String) async throws -> DatabaseURL {
    var logger = Logger(label: "nudge-bench")
    logger.logLevel = .error
    let environment = ProcessInfo.processInfo.environment
    let admin = try await PostgresStore.connect(base, password: environment["PGPASSWORD"], logger: logger)
    try await admin.client.query("DROP DATABASE IF EXISTS \(unescaped: name) WITH (FORCE)")
    try await admin.client.query("CREATE DATABASE \(unescaped: name)")
    await admin.close()
    var url = base
    url.database = name
    return url
}
