import ArgumentParser
import Foundation
import NudgeEngine
import NudgeLanguage
import NudgeRender
import NudgeStore
import NudgeCore

/// The output formats of dry-run.
enum PlanFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json
}

extension NudgeCommand {
    /// `nudge dry-run`: evaluates and prints the plan; changes nothing.
    struct DryRun: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "dry-run",
            abstract: "Show who would be notified, on which channel and why, without sending anything."
        )

        @OptionGroup var global: GlobalOptions

        @Option(help: "Evaluate at this instant (ISO 8601; default: now).")
        var now: String?

        @Option(name: .customLong("workflow"), help: "Only this workflow (repeatable).")
        var workflows: [String] = []

        @Option(help: "table (default) or json (JSON Lines on stdout, summary on stderr).")
        var format: PlanFormat = .table

        @Flag(help: "Include the rendered messages.")
        var render = false

        func validate() throws {
            try validateNow(now)
        }

        func run() async throws {
            let project = try loadProject(global)
            try checkWorkflowIDs(workflows, in: project)
            guard let instant = parseNow(now, zone: project.config.timeZone) else {
                throw ValidationError("'--now' is not an ISO 8601 instant")
            }
            let plan = try await withStore(
                project.databasePath(override: global.db), config: project.config, global: global, reading: true
            ) { store in
                let planner = try Planner(
                    project: project, store: store, logger: global.makeLogger(), environment: ProcessInfo.processInfo.environment)
                return try await planner.plan(
                    now: instant, workflowIDs: workflows.isEmpty ? nil : Set(workflows), render: render)
            }
            var printing = StageClock(logger: global.makeLogger())
            PlanPrinter(project: project, format: format, render: render).print(plan)
            printing.lap("print")
        }
    }
}

/// Rejects unknown `--workflow` ids as a usage error, with a suggestion.
func checkWorkflowIDs(_ ids: [String], in project: Project) throws {
    for id in ids where project.workflow(id: id) == nil {
        let hint = Suggestion.didYouMean(id, in: project.workflows.map(\.id)).map { " (\($0))" } ?? ""
        Console.error("Error: unknown workflow '\(id)' for --workflow\(hint)")
        throw ExitCode(2)
    }
}

/// Prints a plan as a table or JSON Lines.
struct PlanPrinter {
    var project: Project
    var format: PlanFormat
    var render: Bool

    func print(_ plan: Plan) {
        switch format {
        case .json:
            let messages = plan.messages
            Console.out(lines: messages.count) { index, out in
                messages[index].writeJSONLine(includeRendered: render, to: &out)
            }
            Console.error(summary(plan))
        case .table:
            Console.out(table(plan))
            Console.out(summary(plan))
        }
    }

    func summary(_ plan: Plan) -> String {
        let workflows = plan.workflowIDs.count
        return plan.notes.map { "note: \($0)\n" }.joined() + "\(plan.sendCount) to send, \(plan.suppressedCount) suppressed; "
            + "\(plan.candidates) due occurrences in \(workflows) workflow\(workflows == 1 ? "" : "s") "
            + "(\(plan.alreadySent) already sent, \(plan.filteredOut) filtered out by 'when') at \(ISO8601.format(plan.now))"
    }

    func table(_ plan: Plan) -> String {
        guard !plan.messages.isEmpty else { return "nothing due" }
        let header = ["DUE", "WORKFLOW", "CUSTOMER", "CHANNEL", "STATUS", "OCCURRENCE / REASON"]
        var rows: [[String]] = []
        for message in plan.messages {
            let zone = TimeZone(identifier: message.timeZone) ?? project.config.timeZone
            rows.append([
                ISO8601.format(message.due, in: zone),
                message.workflowID + (message.variant.map { " [\($0)]" } ?? ""),
                message.customerID,
                message.channel?.rawValue ?? "-",
                message.status.rawValue,
                message.status == .send
                    ? message.occurrence + (message.segments.map { " (\($0.count) \($0.encoding.rawValue) segment\($0.count == 1 ? "" : "s"))" } ?? "")
                        + (message.sendAfter.map {
                            " (send after \(ISO8601.format($0, in: zone))\(message.reason.map { ": \($0)" } ?? ""))"
                        } ?? "")
                    : "\(message.occurrence): \(message.reason ?? "")",
            ])
        }
        let aligned = tableLines([header] + rows)
        var lines = [aligned[0]]
        for (row, message) in zip(aligned.dropFirst(), plan.messages) {
            lines.append(row)
            if render, let rendered = message.rendered {
                if let heading = rendered.heading { lines.append("    \(heading.key): \(heading.value)") }
                for bodyLine in rendered.body.split(separator: "\n", omittingEmptySubsequences: false) {
                    lines.append("    | \(bodyLine)")
                }
            }
        }
        return lines.joined(separator: "\n")
    }
}
