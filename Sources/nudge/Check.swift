import ArgumentParser
import Foundation
import NudgeDelivery
import NudgeEngine
import NudgeLanguage
import NudgeProviders
import NudgeStore

extension NudgeCommand {
    /// `nudge check`: validates nudge.yaml, every workflow and template.
    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Validate nudge.yaml, every workflow and every template.",
            discussion: """
                Prints every problem as PATH:LINE:COL: error: message. Exits 1 when there is any error, or with \
                --strict any warning. With --db, also warns when a change renumbers the steps of a workflow whose \
                journeys are in flight there. --format github prints GitHub Actions annotations \
                (::error file=PATH,line=L,col=C::message) on stdout, so that a pull request shows them at their lines.
                """
        )

        enum Format: String, ExpressibleByArgument, CaseIterable {
            case text, json, github
        }

        @OptionGroup var global: GlobalOptions

        @OptionGroup var now: NowOption

        @Option(help: "Output format: text (on stderr), json (an array on stdout) or github (Actions annotations on stdout).")
        var format: Format = .text

        @Flag(help: "Fail (exit 1) on warnings too.")
        var strict = false

        func run() async throws {
            var (project, diagnostics) = Project.load(directory: global.project, providers: Providers.catalog)
            if let config = project?.config {
                // Secrets are read at run time; check names the ones this environment lacks (never their values).
                for secret in Providers.missingSecrets(config, environment: ProcessInfo.processInfo.environment) {
                    diagnostics.append(
                        Diagnostic(
                            .warning,
                            "\(secret.owner) reads its \(secret.key) from the environment variable \(secret.variable), which is not set here",
                            at: secret.location, suggestion: "set \(secret.variable) where 'nudge run' runs"))
                }
                // With --db: journeys in flight whose steps a change would renumber.
                if let project, global.db != nil {
                    diagnostics += try await withStore(
                        project.databasePath(override: global.db), config: config, global: global, reading: true
                    ) { store in
                        try await Planner(project: project, store: store, logger: global.makeLogger())
                            .renumberedSteps(now: try now.instant(in: config.timeZone))
                    }
                }
                diagnostics.sort()
                project?.warnings = diagnostics.filter { $0.severity == .warning }
            }
            switch format {
            case .text:
                for diagnostic in diagnostics { Console.error(diagnostic.description) }
            case .json:
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                Console.out(String(decoding: try encoder.encode(diagnostics), as: UTF8.self))
            case .github:
                for diagnostic in diagnostics { Console.out(Self.annotation(diagnostic)) }
            }
            let errors = diagnostics.filter { $0.severity == .error }.count
            let warnings = diagnostics.count - errors
            guard let project else {
                Console.error("\(errors) error\(errors == 1 ? "" : "s"), \(warnings) warning\(warnings == 1 ? "" : "s")")
                throw ExitCode(1)
            }
            if strict && warnings > 0 {
                Console.error("\(warnings) warning\(warnings == 1 ? "" : "s") (--strict: failing)")
                throw ExitCode(1)
            }
            Console.error(
                "ok: \(project.workflows.count) workflows and \(project.templates.count) templates checked"
                    + (warnings > 0 ? ", \(warnings) warning\(warnings == 1 ? "" : "s")" : ""))
        }

        /// A GitHub Actions workflow command for `diagnostic`: `::error file=F,line=L,col=C::message (suggestion)`,
        /// with the characters the format reserves escaped (`%`, CR and LF everywhere; `:` and `,` in properties).
        static func annotation(_ diagnostic: Diagnostic) -> String {
            func data(_ text: String) -> String {
                text.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "\r", with: "%0D")
                    .replacingOccurrences(of: "\n", with: "%0A")
            }
            func property(_ text: String) -> String {
                data(text).replacingOccurrences(of: ":", with: "%3A").replacingOccurrences(of: ",", with: "%2C")
            }
            let location = diagnostic.location
            var properties = ["file=\(property(location.file))"]
            if location.line > 0 { properties.append("line=\(location.line)") }
            if location.column > 0 { properties.append("col=\(location.column)") }
            let message = diagnostic.message + (diagnostic.suggestion.map { " (\($0))" } ?? "")
            let command = diagnostic.severity == .error ? "error" : "warning"
            return "::\(command) \(properties.joined(separator: ","))::\(data(message))"
        }
    }
}

/// Loads a project for commands that need it whole, printing diagnostics and failing with exit 1 on errors.
func loadProject(_ global: GlobalOptions) throws -> Project {
    let (project, diagnostics) = Project.load(directory: global.project, providers: Providers.catalog)
    guard let project else {
        for diagnostic in diagnostics { Console.error(diagnostic.description) }
        Console.error("the project has errors; fix them (see 'nudge check') and try again")
        throw ExitCode(1)
    }
    for warning in project.warnings where global.verbose { Console.error(warning.description) }
    return project
}
