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
    /// Customers placed to fall due on the benchmark days: about 6,000 occurrences due on the busy day.
    var matching = 12_000
    var work = FileManager.default.temporaryDirectory.appendingPathComponent("nudge-bench")
    var keep = false
    var dryRuns = 7
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
    /// User and system CPU time of the child.
    var cpuSeconds: Double
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

/// Starts `executable` with `arguments` (and `--project directory` unless `project` is false), stdout to `outPath`
/// (default: discarded), stderr to `errName`.
func spawn(
    _ executable: String, _ arguments: [String], in directory: URL, errName: String = ".bench-stderr", project: Bool = true,
    outPath: String = "/dev/null"
) -> Child {
    let errPath = directory.appendingPathComponent(errName).path
    var actions: posix_spawn_file_actions_t = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    let argv: [UnsafeMutablePointer<CChar>?] =
        ([executable] + arguments + (project ? ["--project", directory.path] : [])).map { strdup($0) } + [nil]
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
    let cpu = Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    return Measured(seconds: seconds, cpuSeconds: cpu, peakBytes: Int(usage.ru_maxrss) * 1024, status: exit, stderr: stderr)
}

/// Runs `executable` with `arguments` to the end.
func measure(
    _ executable: String, _ arguments: [String], in directory: URL, project: Bool = true, outPath: String = "/dev/null"
) -> Measured {
    finish(spawn(executable, arguments, in: directory, project: project, outPath: outPath))
}

/// The medians of `runs` runs of a command: wall and CPU seconds, the peak memory of all, and the last run.
struct Medians {
    var wall: Double
    var minWall: Double
    var cpu: Double
    var peak: Int
    var last: Measured

    init(runs: Int, step: String, _ run: () -> Measured) {
        var walls: [Double] = []
        var cpus: [Double] = []
        var peak = 0
        var last: Measured?
        for _ in 0..<runs {
            let result = run()
            check(step, result)
            walls.append(result.seconds)
            cpus.append(result.cpuSeconds)
            peak = max(peak, result.peakBytes)
            last = result
        }
        wall = walls.sorted()[walls.count / 2]
        minWall = walls.min()!
        cpu = cpus.sorted()[cpus.count / 2]
        self.peak = peak
        self.last = last!
    }
}

func ms(_ seconds: Double) -> String { String(format: "%.1f ms", seconds * 1000) }

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
let businessZone = TimeZone(identifier: "America/New_York")!
/// The SQLite shell that runs the floors.
let sqlite3 = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
    .map { "\($0)/sqlite3" }.first { FileManager.default.isExecutableFile(atPath: $0) }
if sqlite3 == nil { print("(no sqlite3 on PATH: the floors are skipped; apt-get install sqlite3)") }
try fixedCost()

for customers in options.scales {
    let label = customers >= 1_000_000 && customers % 1_000_000 == 0 ? "\(customers / 1_000_000)M" : "\(customers / 1000)k"
    let directory = options.work.appendingPathComponent("\(customers)")
    try? FileManager.default.removeItem(at: directory)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    try ExampleProject.scaffold(into: directory.path)
    // The plans compared with their floors are the eight workflows of the first triggers; the segment one reads
    // every customer and is measured on its own (`segments` below), and the reward, visit and broadcast ones came
    // after the floor was written.
    for later in ["vip-welcome", "reward-ready", "first-visit-thanks", "holiday-hours", "friday-regulars", "new-offer"] {
        try FileManager.default.removeItem(at: directory.appendingPathComponent("Workflows/\(later).yaml"))
    }
    // The floor knows no frequency caps: the example's policy (the last block of its nudge.yaml) is left out.
    let config = directory.appendingPathComponent("nudge.yaml")
    let settings = try String(contentsOf: config, encoding: .utf8)
    try String(settings[..<(settings.range(of: "\npolicy:")?.lowerBound ?? settings.endIndex)])
        .appending("\n").write(to: config, atomically: true, encoding: .utf8)

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
        // The run's own figures: planning and commit, delivery, and the model's first fit after delivery.
        let phases = ["planned in ", "delivered in ", "refitted the customer model in "].map { marker in
            firstRun.stderr.components(separatedBy: marker).dropFirst().first?.split(separator: " ").first.map(String.init) ?? "-"
        }
        print(
            "[\(label)\(suffix)] first run: \(delivered) messages delivered "
                + String(format: "in %.3f s (whole process), peak %@", firstRun.seconds, mb(firstRun.peakBytes))
                + "; planned in \(phases[0]) s, delivered in \(phases[1]) s, then the model's first fit in \(phases[2]) s")

        let dryRuns = Medians(runs: options.dryRuns, step: "dry-run") {
            measure(nudge, ["dry-run", "--now", ISO8601.format(day1), "--format", "json"] + db, in: directory)
        }
        dryRunMedians.append(dryRuns.wall)
        let planned = dryRuns.last.stderr.split(separator: ";").first ?? ""
        print(
            "[\(label)\(suffix)] daily dry-run: " + String(format: "%.1f ms median, %.1f ms min", dryRuns.wall * 1000, dryRuns.minWall * 1000)
                + " (whole process; \(planned)), peak \(mb(dryRuns.peak))")

        // Every customer swept for the segments' counts (the cost a plan reading segments pays too).
        let census = measure(nudge, ["segments", "--now", ISO8601.format(day1), "--format", "json"] + db, in: directory)
        check("segments", census)
        print(
            "[\(label)\(suffix)] segments (six counted over every customer): "
                + String(format: "%.2f s (whole process), peak %@", census.seconds, mb(census.peakBytes)))

        // The customer model fitted on every customer's visits (the issue asks ≤ 10 s at 1M).
        let fit = measure(nudge, ["model", "fit", "--now", ISO8601.format(day1)] + db, in: directory)
        check("model fit", fit)
        print(
            "[\(label)\(suffix)] model fit (BG/NBD and Gamma-Gamma on every customer's visits): "
                + String(format: "%.2f s (whole process), peak %@", fit.seconds, mb(fit.peakBytes)))

        let nudgeDatabase = directory.appendingPathComponent("nudge.sqlite").path
        let floorDatabase = directory.appendingPathComponent("floor.sqlite").path
        if store == "sqlite", let sqlite3 {
            // The busy day against its floor, then a quiet day: the same database with all but 60 of the customers
            // placed on the benchmark days removed.
            try Floor.build(from: nudgeDatabase, into: floorDatabase, businessZone: businessZone, day: day1)
            try comparePlan(
                label: label, workload: "busy day", arguments: ["dry-run", "--now", ISO8601.format(day1), "--format", "json"],
                project: directory, floorDatabase: floorDatabase, script: Floor.script(Floor.examplePlan(now: day1)),
                sqlite3: sqlite3, runs: options.dryRuns)
            let quietDatabase = directory.appendingPathComponent("quiet.sqlite").path
            try data.quietCopy(of: nudgeDatabase, into: quietDatabase, keeping: 60)
            let quietFloor = directory.appendingPathComponent("quiet-floor.sqlite").path
            try Floor.build(from: quietDatabase, into: quietFloor, businessZone: businessZone, day: day1)
            try comparePlan(
                label: label, workload: "quiet day",
                arguments: ["dry-run", "--now", ISO8601.format(day1), "--format", "json", "--db", quietDatabase],
                project: directory, floorDatabase: quietFloor, script: Floor.script(Floor.examplePlan(now: day1)),
                sqlite3: sqlite3, runs: options.dryRuns)
        }

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
        if store == "sqlite", let sqlite3 {
            // The broadcast planned, rendered and printed, against its floor.
            try comparePlan(
                label: label, workload: "broadcast",
                arguments: ["dry-run", "--now", ISO8601.format(day0), "--format", "json", "--render", "--db", nudgeDatabase],
                project: broadcast, floorDatabase: floorDatabase,
                script: Floor.broadcast(now: day0, days: windowDays, business: "Bean There Café"), sqlite3: sqlite3,
                runs: options.dryRuns)
        }
        let sendRun = measure(nudge, ["run", "--now", ISO8601.format(day0)] + (db.isEmpty ? ["--db", nudgeDatabase] : db), in: broadcast)
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
    try wideRows(label: label, customers: customers, directory: directory)
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

/// Nudge's plan of `workload` (`nudge` with `arguments`) against its floor (`script` on `floorDatabase`), medians of
/// `runs` whole processes each, wall and CPU.
func comparePlan(
    label: String, workload: String, arguments: [String], project: URL, floorDatabase: String, script: String,
    sqlite3: String, runs: Int
) throws {
    let scriptPath = project.appendingPathComponent("floor-\(workload.replacingOccurrences(of: " ", with: "-")).sql").path
    try script.write(toFile: scriptPath, atomically: true, encoding: .utf8)
    let floorArguments = [floorDatabase, ".read \(scriptPath)"]
    let nudgeRuns = Medians(runs: runs, step: "dry-run (\(workload))") { measure(nudge, arguments, in: project) }
    let floorRuns = Medians(runs: runs, step: "floor (\(workload))") {
        measure(sqlite3, floorArguments, in: project, project: false)
    }
    // The rows each prints: Nudge's summary counts them; the floor prints a JSON object a line.
    let output = project.appendingPathComponent(".floor-output").path
    check("floor (\(workload))", measure(sqlite3, floorArguments, in: project, project: false, outPath: output))
    let floorRows = (try String(contentsOfFile: output, encoding: .utf8)).split(separator: "\n")
        .filter { $0.hasPrefix("{") || $0.hasPrefix("[{") }.count
    try? FileManager.default.removeItem(atPath: output)
    let summary = nudgeRuns.last.stderr
    let counts = summary.split(separator: ";").first?.split(separator: ",").compactMap {
        Int($0.trimmingCharacters(in: .whitespaces).split(separator: " ").first ?? "")
    } ?? []
    print(
        "[\(label)] \(workload): nudge \(ms(nudgeRuns.wall)) wall, \(ms(nudgeRuns.cpu)) CPU (\(counts.reduce(0, +)) rows), "
            + "peak \(mb(nudgeRuns.peak)); floor \(ms(floorRuns.wall)) wall, \(ms(floorRuns.cpu)) CPU (\(floorRows) rows); "
            + String(
                format: "%.1f× wall, %.1f× CPU", nudgeRuns.wall / max(floorRuns.wall, 1e-6),
                nudgeRuns.cpu / max(floorRuns.cpu, 1e-6)))
}

/// What a command costs before any work: `check`, and `dry-run` on a project with no customers.
func fixedCost() throws {
    let directory = options.work.appendingPathComponent("empty")
    try? FileManager.default.removeItem(at: directory)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    try ExampleProject.scaffold(into: directory.path)
    let customers = directory.appendingPathComponent("customers.csv").path
    try "id,signed_up_at\n".write(toFile: customers, atomically: true, encoding: .utf8)
    check("import (empty)", measure(nudge, ["import", "customers", customers], in: directory))
    let checking = Medians(runs: options.dryRuns, step: "check") { measure(nudge, ["check"], in: directory) }
    let planning = Medians(runs: options.dryRuns, step: "dry-run (empty)") {
        measure(nudge, ["dry-run", "--now", ISO8601.format(day1), "--format", "json"], in: directory)
    }
    print(
        "[fixed cost] check: \(ms(checking.wall)) wall, \(ms(checking.cpu)) CPU; "
            + "dry-run with no customers: \(ms(planning.wall)) wall, \(ms(planning.cpu)) CPU")
    if !options.keep { try? FileManager.default.removeItem(at: directory) }
}

/// Imports of wide rows: customers with tags and three more attribute columns (about 130 bytes a row), then three
/// visits each, into a fresh SQLite file.
func wideRows(label: String, customers: Int, directory: URL) throws {
    let wide = directory.appendingPathComponent("wide")
    try? FileManager.default.removeItem(at: wide)
    try FileManager.default.createDirectory(at: wide, withIntermediateDirectories: true)
    try ExampleProject.scaffold(into: wide.path)
    let (customerRows, visitRows) = try SyntheticData.writeWide(customers: customers, to: wide, day0: day0)
    for (kind, rows) in [("customers", customerRows), ("visits", visitRows)] {
        let file = wide.appendingPathComponent("\(kind).csv")
        let bytes = (try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int) ?? 0
        let result = measure(nudge, ["import", kind, file.path], in: wide)
        check("import wide \(kind)", result)
        print(
            "[\(label)] import wide \(kind): \(rate(rows, result.seconds)) rows/s "
                + String(
                    format: "(%d rows of %.0f bytes in %.2f s), peak %@", rows, Double(bytes) / Double(max(rows, 1)),
                    result.seconds, mb(result.peakBytes)))
    }
    if !options.keep { try? FileManager.default.removeItem(at: wide) }
}
