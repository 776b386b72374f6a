import ArgumentParser
import Foundation
import NudgeEngine
import NudgeLanguage
import NudgeStore
import NudgeCore

extension NudgeCommand {
    /// `nudge demo`: a database of synthetic customers and today's dry-run of the project's workflows.
    struct Demo: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "demo",
            abstract: "Create a demo database of synthetic customers and print today's dry-run.",
            discussion: """
                Writes demo.sqlite in the project (or --db: a file, or a postgres:// URL), replacing its \
                customers, visits, offers, progress, ledger and outbox with customers generated from a fixed seed \
                around --now so that every example workflow has someone due; then prints the dry-run of the \
                project's workflows at --now.
                """
        )

        @OptionGroup var global: GlobalOptions

        @Option(help: "How many customers to generate.")
        var customers = 3000

        @Option(help: "The demo's instant (ISO 8601; default: now).")
        var now: String?

        @Option(help: "table (default) or json.")
        var format: PlanFormat = .table

        @Flag(help: "Include the rendered messages.")
        var render = false

        func validate() throws {
            try validateNow(now)
            guard customers > 0 else { throw ValidationError("'--customers' must be at least 1") }
        }

        func run() async throws {
            let project = try loadProject(global)
            guard let instant = parseNow(now, zone: project.config.timeZone) else {
                throw ValidationError("'--now' is not an ISO 8601 instant")
            }
            let location = global.db ?? project.resolve("demo.sqlite")
            let shown = DatabaseURL.looksLikeURL(location) ? DatabaseURL.redacting(location) : location
            try await withStore(location, config: project.config, global: global, create: true) { store in
                let started = Date()
                try await store.replaceWithDemo(customers: customers, now: instant)
                Console.error(
                    "demo: \(customers) customers written to \(shown) in "
                        + String(format: "%.2f s", Date().timeIntervalSince(started)))
                let planner = Planner(project: project, store: store, logger: global.makeLogger())
                let planStarted = Date()
                let plan = try await planner.plan(now: instant, render: render)
                PlanPrinter(project: project, format: format, render: render).print(plan)
                Console.error(
                    "dry-run took " + String(format: "%.1f ms", Date().timeIntervalSince(planStarted) * 1000)
                        + "; try: nudge dry-run --db \(shown) --now \(ISO8601.format(instant)) --render")
            }
        }
    }
}
