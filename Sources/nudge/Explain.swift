import ArgumentParser
import Foundation
import NudgeCore
import NudgeEngine
import NudgeLanguage

/// The output formats of `nudge explain`.
enum ExplainFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

extension NudgeCommand {
    /// `nudge explain CUSTOMER`: why the customer gets, or does not get, each workflow's message.
    struct Explain: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "explain",
            abstract: "Why a customer gets, or does not get, each workflow's message at an instant.",
            discussion: """
                For each workflow: the trigger's occurrences for the customer near the instant (the latest due and \
                the next) and whether each is inside its window, the ledger's answer, every when and exit_when \
                expression with its value and the values of the fields it read, the split's variant, each channel \
                the customer can or cannot receive and why, the policy's caps and quiet hours, and the result in \
                dry-run's words. Changes nothing.
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The customer's id.")
        var customer: String

        @Option(name: .customLong("workflow"), help: "Only this workflow (repeatable).")
        var workflows: [String] = []

        @OptionGroup var now: NowOption

        @Option(help: "text (default) or json (one object on stdout).")
        var format: ExplainFormat = .text

        func run() async throws {
            let project = try loadProject(global)
            try checkWorkflowIDs(workflows, in: project)
            let instant = try now.instant(in: project.config.timeZone)
            let explanation = try await withStore(
                project.databasePath(override: global.db), config: project.config, global: global, reading: true
            ) { store in
                let planner = try Planner(
                    project: project, store: store, logger: global.makeLogger(), environment: ProcessInfo.processInfo.environment)
                return try await planner.explain(
                    customerID: customer, workflowIDs: workflows.isEmpty ? nil : Set(workflows), now: instant)
            }
            guard let explanation else {
                Console.error("error: no customer '\(customer)'")
                throw ExitCode(1)
            }
            Console.out(format == .json ? Self.json(explanation) : Self.text(explanation))
        }

        static func text(_ explanation: Explanation) -> String {
            let zone = TimeZone(identifier: explanation.zone) ?? .gmt
            var lines = [
                (explanation.customerName.map { "\($0) (\(explanation.customerID))" } ?? explanation.customerID)
                    + " at \(ISO8601.format(explanation.now, in: zone)), zone \(explanation.zone)"
            ]
            for workflow in explanation.workflows {
                lines.append("")
                lines.append(
                    "\(workflow.id) (\(workflow.name)): \(workflow.trigger), catch_up \(workflow.catchUp)"
                        + (workflow.isEnabled ? "" : " [paused: enabled: false]"))
                if !workflow.policy.isEmpty { lines.append("  policy: " + workflow.policy.joined(separator: "; ")) }
                if let note = workflow.note { lines.append("  no occurrence: \(note)") }
                // Conditions are shown for what is in its window; with nothing in its window, for the first shown.
                let detailed = workflow.occurrences.contains(where: \.isInWindow) ? nil : workflow.occurrences.first?.key
                for occurrence in workflow.occurrences {
                    lines.append("  \(occurrence.key)  due \(ISO8601.format(occurrence.due, in: zone)): \(occurrence.window)")
                    if occurrence.isInLedger { lines.append("    ledger: holds it (sent or suppressed before)") }
                    if occurrence.isInWindow || occurrence.key == detailed {
                        if !occurrence.isInWindow { lines.append("    (were it due now:)") }
                        let width = occurrence.conditions.map { $0.kind.count + $0.text.count }.max() ?? 0
                        for condition in occurrence.conditions {
                            let label = "\(condition.kind)  \(condition.text)"
                            let padded = label.padding(toLength: width + 2, withPad: " ", startingAt: 0)
                            let fields = condition.fields.map { "\($0.name) = \($0.value)" }.joined(separator: ", ")
                            lines.append("    \(padded)  \(condition.value)" + (fields.isEmpty ? "" : "  (\(fields))"))
                        }
                        if let variant = occurrence.variant { lines.append("    split: variant \(variant)") }
                        if !occurrence.channels.isEmpty {
                            // One group a send action, its channels in order.
                            let actions = Dictionary(grouping: occurrence.channels, by: \.action).sorted { $0.key < $1.key }
                            lines.append(
                                "    channels: "
                                    + actions.map { _, channels in
                                        channels.map {
                                            "\($0.channel) " + ($0.receives ? $0.detail + ($0.isChosen ? " (chosen)" : "") : "no: \($0.detail)")
                                        }.joined(separator: "; ")
                                    }.joined(separator: " | "))
                        }
                    }
                    lines.append("    → \(occurrence.result)")
                }
            }
            return lines.joined(separator: "\n")
        }

        static func json(_ explanation: Explanation) -> String {
            let workflows = explanation.workflows.map { workflow in
                JSONText.object([
                    ("workflow", workflow.id), ("name", workflow.name), ("trigger", workflow.trigger),
                    ("catch_up", workflow.catchUp), ("enabled", workflow.isEnabled), ("note", workflow.note),
                    ("policy", JSONText.Raw(JSONText.array(workflow.policy))),
                    (
                        "occurrences",
                        JSONText.Raw.array(
                            workflow.occurrences.map { occurrence in
                                JSONText.object([
                                    ("occurrence", occurrence.key), ("due", ISO8601.format(occurrence.due)),
                                    ("step", occurrence.step), ("in_window", occurrence.isInWindow),
                                    ("window", occurrence.window), ("in_ledger", occurrence.isInLedger),
                                    (
                                        "conditions",
                                        JSONText.Raw.array(
                                            occurrence.conditions.map { condition in
                                                JSONText.object([
                                                    ("kind", condition.kind), ("expression", condition.text),
                                                    ("holds", condition.holds), ("value", condition.value),
                                                    (
                                                        "fields",
                                                        JSONText.Raw(JSONText.object(condition.fields.map { ($0.name, $0.value) }))
                                                    ),
                                                ])
                                            })
                                    ),
                                    ("variant", occurrence.variant),
                                    (
                                        "channels",
                                        JSONText.Raw.array(
                                            occurrence.channels.map { channel in
                                                JSONText.object([
                                                    ("action", channel.action), ("channel", channel.channel),
                                                    ("receives", channel.receives), ("detail", channel.detail),
                                                    ("chosen", channel.isChosen),
                                                ])
                                            })
                                    ),
                                    ("status", occurrence.status), ("result", occurrence.result),
                                ])
                            })
                    ),
                ])
            }
            return JSONText.object([
                ("customer", explanation.customerID), ("name", explanation.customerName),
                ("now", ISO8601.format(explanation.now)), ("zone", explanation.zone),
                ("workflows", JSONText.Raw.array(workflows)),
            ])
        }
    }
}
