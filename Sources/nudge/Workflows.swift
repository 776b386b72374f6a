import ArgumentParser
import Foundation
import NudgeCore
import NudgeEngine
import NudgeLanguage
import NudgeProviders
import NudgeStore

extension NudgeCommand {
    /// `nudge workflows`: each workflow's trigger, status, recent sends and next due time.
    struct Workflows: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "workflows",
            abstract: "List the workflows: trigger, status, messages sent in the last 7 and 30 days, next due time.",
            discussion: """
                Status is active, paused (enabled: false), scheduled (a once broadcast still to come) or completed \
                (one whose time has passed). The next due time is when the trigger next falls due for some \
                customer, before 'when' is applied: read off once and schedule triggers, looked up day by day over \
                the next 31 days for the others that follow customers' dates and visits, and '-' for stamp-card and \
                segment triggers, which wait for events not recorded yet.
                """
        )

        @OptionGroup var global: GlobalOptions

        @OptionGroup var now: NowOption

        @Option(help: "table (default) or json (JSON Lines: workflow, name, trigger, status, sent_7d, sent_30d, next_due).")
        var format: PlanFormat = .table

        func run() async throws {
            let project = try loadProject(global)
            let instant = try now.instant(in: project.config.timeZone)
            let overview = try await withStore(
                project.databasePath(override: global.db), config: project.config, global: global, reading: true
            ) { store in
                let delivered = try await store.deliveredCounts(
                    after: [instant.addingTimeInterval(-7 * 86_400), instant.addingTimeInterval(-30 * 86_400)],
                    through: instant)
                return try await Planner(project: project, store: store, logger: global.makeLogger())
                    .workflowOverview(now: instant, delivered: delivered)
            }
            switch format {
            case .json:
                Console.out(
                    lines: overview.map { line in
                        JSONText.object([
                            ("workflow", line.workflow.id), ("name", line.workflow.name),
                            ("trigger", line.workflow.trigger.summary), ("status", line.status.rawValue),
                            ("sent_7d", line.delivered7d), ("sent_30d", line.delivered30d),
                            ("next_due", line.nextDue.map(ISO8601.format)),
                        ])
                    })
            case .table:
                let zone = project.config.timeZone
                Console.out(
                    formatTable(
                        [["WORKFLOW", "STATUS", "SENT 7D", "SENT 30D", "NEXT DUE", "TRIGGER"]]
                            + overview.map { line in
                                [
                                    line.workflow.id, line.status.rawValue, "\(line.delivered7d)", "\(line.delivered30d)",
                                    line.nextDue.map { ISO8601.format($0, in: zone) } ?? "-", line.workflow.trigger.summary,
                                ]
                            }))
            }
        }
    }
}
