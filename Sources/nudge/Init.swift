import ArgumentParser
import Foundation
import NudgeEngine
import NudgeLanguage
import NudgeProviders

extension NudgeCommand {
    /// `nudge init DIR`: scaffolds a project from the working examples.
    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "init",
            abstract: "Create a new project with working example workflows and templates."
        )

        @Argument(help: "The folder to create (it may exist but must not hold a nudge.yaml).")
        var directory: String

        func run() async throws {
            do {
                let schemas = Dictionary(
                    uniqueKeysWithValues: NudgeSchema.Kind.allCases.map { ($0, NudgeSchema.json($0, providers: Providers.catalog)) })
                let written = try ExampleProject.scaffold(into: directory, schemas: schemas)
                Console.error("created \(written.count) files in \(directory); next: cd \(directory) && nudge check")
            } catch let error as ExampleProject.ScaffoldError {
                Console.error("\(directory): error: \(error.message)")
                throw ExitCode(1)
            }
        }
    }
}
