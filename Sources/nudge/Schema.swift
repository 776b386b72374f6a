public import ArgumentParser
import NudgeLanguage
import NudgeProviders

extension NudgeSchema.Kind: ExpressibleByArgument {}

extension NudgeCommand {
    /// `nudge schema [workflow|config]`: the JSON Schema of workflow files or of nudge.yaml.
    struct Schema: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "schema",
            abstract: "Print the JSON Schema (draft 2020-12) of workflow files (default) or of nudge.yaml.",
            discussion: """
                For editors: 'nudge init' writes both under .nudge/ and starts nudge.yaml and each workflow with a \
                '# yaml-language-server: $schema=…' line, so that editors with the YAML language server complete \
                keys and flag unknown ones. After upgrading Nudge: nudge schema workflow > .nudge/workflow.schema.json \
                (and config > .nudge/config.schema.json). 'nudge check' remains the judge: the schema cannot check \
                expressions, templates or secrets.
                """
        )

        @Argument(help: "workflow or config.")
        var kind: NudgeSchema.Kind = .workflow

        func run() throws {
            Console.out(NudgeSchema.json(kind, providers: Providers.catalog))
        }
    }
}
