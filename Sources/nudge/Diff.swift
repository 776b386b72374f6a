import ArgumentParser
import Foundation
import NudgeCore
import NudgeEngine
import NudgeLanguage
import NudgeProviders

extension NudgeCommand {
    /// `nudge diff REV`: what a change to the workflows, templates and nudge.yaml changes in the plans.
    struct Diff: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "diff",
            abstract: "Compare the plans of a git revision's project with the work tree's, on the same customers.",
            discussion: """
                Reads nudge.yaml, Workflows/ and Templates/ of REV with git (the work tree is untouched), plans both \
                against the same database at --now and at send_at on each of the next --days days (rendered, \
                nothing committed), and prints per workflow the messages only one side plans and those whose \
                channel, template, status or rendered text differ, with counts. A message planned again on a later \
                day (within its catch-up) counts once; caps are not carried from day to day.
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "A git revision: a branch, a tag, a commit, origin/main, HEAD~1.")
        var revision: String

        @OptionGroup var now: NowOption

        @Option(help: "Also plan at send_at on each of the next N days.")
        var days = 0

        @Option(help: "text (default) or json (JSON Lines on stdout, the summary on stderr).")
        var format: ExplainFormat = .text

        func validate() throws {
            guard (0...366).contains(days) else { throw ValidationError("'--days' must be between 0 and 366") }
        }

        func run() async throws {
            let project = try loadProject(global)
            let zone = project.config.timeZone
            let instant = try now.instant(in: zone)
            let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("nudge-diff-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: scratch) }
            let old = try checkOut(revision, of: project, into: scratch)
            var instants = [instant]
            let today = zone.localDate(of: instant)
            for day in stride(from: 1, through: days, by: 1) {
                instants.append(zone.instant(at: today.adding(days: day), secondsIntoDay: project.config.sendAt.secondsIntoDay))
            }
            let environment = ProcessInfo.processInfo.environment
            let (before, after) = try await withStore(
                project.databasePath(override: global.db), config: project.config, global: global, reading: true
            ) { store in
                let oldPlanner = try Planner(project: old, store: store, logger: global.makeLogger(), environment: environment)
                let newPlanner = try Planner(project: project, store: store, logger: global.makeLogger(), environment: environment)
                var before: [Plan] = []
                var after: [Plan] = []
                for instant in instants {
                    before.append(try await oldPlanner.plan(now: instant, render: true))
                    after.append(try await newPlanner.plan(now: instant, render: true))
                }
                return (before, after)
            }
            let diff = PlanDiff(old: before, new: after)
            let when =
                "at \(ISO8601.format(instant, in: zone))"
                + (days > 0 ? " and at \(project.config.sendAt) on the next \(days) day\(days == 1 ? "" : "s")" : "")
            switch format {
            case .text:
                Console.out(Self.text(diff, revision: revision, when: when, zone: zone))
            case .json:
                let lines = diff.changes.map(Self.json)
                if !lines.isEmpty { Console.out(lines.joined(separator: "\n")) }
                Console.error(Self.summary(diff) + " (\(revision) → work tree, \(when))")
            }
        }

        /// Extracts nudge.yaml, Workflows/ and Templates/ of the project at `revision` into `scratch`, and loads them.
        func checkOut(_ revision: String, of project: Project, into scratch: URL) throws -> Project {
            let folder = project.directory.path
            guard let top = try? Self.git(["rev-parse", "--show-toplevel"], in: folder).trimmingCharacters(in: .whitespacesAndNewlines),
                let prefix = try? Self.git(["rev-parse", "--show-prefix"], in: folder).trimmingCharacters(in: .whitespacesAndNewlines)
            else {
                Console.error("error: \(folder) is not in a git repository: diff compares with a git revision")
                throw ExitCode(1)
            }
            guard (try? Self.git(["rev-parse", "--verify", "--quiet", "\(revision)^{commit}"], in: top)) != nil else {
                Console.error("error: unknown git revision '\(revision)'")
                throw ExitCode(1)
            }
            let wanted = ["nudge.yaml", "Workflows", "Templates"].map { prefix + $0 }
            let present = try Self.git(["ls-tree", "--name-only", revision, "--"] + wanted, in: top)
                .split(separator: "\n").map(String.init)
            guard present.contains(prefix + "nudge.yaml") else {
                Console.error("error: \(revision) has no \(prefix)nudge.yaml: nothing to compare with")
                throw ExitCode(1)
            }
            try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
            let archive = scratch.appendingPathComponent("revision.tar").path
            _ = try Self.git(["archive", "--format=tar", "-o", archive, revision, "--"] + present, in: top)
            _ = try Self.run("/usr/bin/env", ["tar", "-xf", archive, "-C", scratch.path], in: top)
            let (old, diagnostics) = Project.load(
                directory: scratch.appendingPathComponent(prefix).path, displayPrefix: "\(revision):\(prefix)",
                providers: Providers.catalog)
            guard let old else {
                for diagnostic in diagnostics where diagnostic.severity == .error { Console.error(diagnostic.description) }
                Console.error("error: the project at \(revision) has errors: nothing to compare with")
                throw ExitCode(1)
            }
            return old
        }

        static func git(_ arguments: [String], in folder: String) throws -> String {
            try run("/usr/bin/env", ["git", "-C", folder] + arguments, in: folder)
        }

        /// Runs a tool; its stdout, or an error with its stderr when it fails.
        static func run(_ executable: String, _ arguments: [String], in folder: String) throws -> String {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            process.currentDirectoryURL = URL(fileURLWithPath: folder)
            let output = Pipe()
            let errors = Pipe()
            process.standardOutput = output
            process.standardError = errors
            try process.run()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            let message = errors.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                throw ToolError(message: String(decoding: message, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
            }
            return String(decoding: data, as: UTF8.self)
        }

        struct ToolError: Error, CustomStringConvertible {
            var message: String
            var description: String { message }
        }

        static func summary(_ diff: PlanDiff) -> String {
            let count = { (kind: PlanDiff.Change.Kind) in diff.changes.count { $0.kind == kind } }
            return "\(count(.added)) added, \(count(.removed)) removed, \(count(.changed)) changed; \(diff.unchanged) alike"
        }

        static func text(_ diff: PlanDiff, revision: String, when: String, zone: TimeZone) -> String {
            var lines = ["plans of \(revision) (-) and of the work tree (+), \(when)"]
            for (workflow, changes) in diff.byWorkflow {
                let count = { (kind: PlanDiff.Change.Kind) in changes.count { $0.kind == kind } }
                lines.append("\(workflow): \(count(.added)) added, \(count(.removed)) removed, \(count(.changed)) changed")
                for change in changes {
                    let message = change.new ?? change.old!
                    let mark = change.kind == .added ? "+" : change.kind == .removed ? "-" : "~"
                    var line = "  \(mark) \(change.customerID)  \(change.occurrence)  \(message.channel?.rawValue ?? "-")  \(message.status.rawValue)"
                    if change.kind == .changed {
                        line += "  " + change.differences.joined(separator: "; ")
                    } else if let reason = message.reason {
                        line += " (\(reason))"
                    }
                    lines.append(line)
                }
            }
            if diff.changes.isEmpty { lines.append("no change") }
            lines.append("total: " + summary(diff))
            return lines.joined(separator: "\n")
        }

        static func json(_ change: PlanDiff.Change) -> String {
            let message = change.new ?? change.old!
            return JSONText.object([
                ("change", change.kind.rawValue), ("workflow", change.workflowID), ("customer", change.customerID),
                ("occurrence", change.occurrence), ("due", ISO8601.format(change.due)),
                ("channel", message.channel?.rawValue), ("template", message.template), ("status", message.status.rawValue),
                ("old_channel", change.old?.channel?.rawValue), ("old_template", change.old?.template),
                ("old_status", change.old?.status.rawValue),
                ("differences", JSONText.Raw(JSONText.array(change.differences))),
            ])
        }
    }
}
