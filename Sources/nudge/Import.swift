public import ArgumentParser
import Foundation
import GRDB
import NudgeEngine
import NudgeLanguage
import NudgeProviders
import NudgeStore

extension ImportKind: ExpressibleByArgument {}

extension NudgeCommand {
    /// `nudge import KIND FILE`: loads customer state from CSV (design §4).
    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import",
            abstract: "Import customers, visits, offers or progress from a CSV file.",
            discussion: """
                A header row is required; column order is free; rows are upserted by their key. A file with any \
                bad row is rejected whole (nothing written), each bad row reported as FILE:LINE: message.
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "What the file holds: \(ImportKind.allCases.map(\.rawValue).joined(separator: ", ")).")
        var kind: ImportKind

        @Argument(help: "The CSV file.")
        var file: String

        func run() async throws {
            let settings = try loadSettings(global)
            guard FileManager.default.isReadableFile(atPath: file) else {
                Console.error("\(file): error: cannot read the file")
                throw ExitCode(1)
            }
            var options = ImportOptions(defaultZone: settings.config.timeZone, now: Date(), displayPath: file)
            let size = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? NSNumber)?.intValue ?? 0
            if size > 16 << 20 {
                options.progress = { rows, bytes, total in
                    let percent = total > 0 ? " (\(bytes * 100 / total)%)" : ""
                    Console.error("… \(rows) rows read\(percent)")
                }
            }
            do {
                let summary = try await withStore(settings.databasePath, config: settings.config, global: global, create: true) {
                    try await $0.importCSV(kind, path: file, options: options)
                }
                Console.error(
                    "imported \(summary.rows) \(kind.rawValue) rows from \(file) in "
                        + String(format: "%.2f s", summary.seconds))
            } catch let rejected as ImportRejected {
                Console.error(rejected.description)
                let count = rejected.problems.count + rejected.unlisted
                Console.error("\(file): rejected, nothing imported (\(count) bad row\(count == 1 ? "" : "s"))")
                throw ExitCode(1)
            }
        }
    }
}

/// nudge.yaml alone: what import and demo need (workflow errors do not block loading data).
struct ProjectSettings {
    var config: ProjectConfig
    var databasePath: String
}

func loadSettings(_ global: GlobalOptions) throws -> ProjectSettings {
    let directory = URL(fileURLWithPath: global.project)
    let path = directory.appendingPathComponent("nudge.yaml").path
    var config = ProjectConfig()
    if let text = try? String(contentsOfFile: path, encoding: .utf8) {
        var diagnostics = Diagnostics()
        let display = global.project == "." ? "nudge.yaml" : global.project + "/nudge.yaml"
        config = ProjectConfig.parse(text, file: display, providers: Providers.catalog, diagnostics: &diagnostics)
        if diagnostics.hasErrors {
            for diagnostic in diagnostics.sorted { Console.error(diagnostic.description) }
            throw ExitCode(1)
        }
    }
    let database = global.db ?? {
        let name = config.database ?? "nudge.sqlite"
        return name.hasPrefix("/") || DatabaseURL.looksLikeURL(name) ? name : directory.appendingPathComponent(name).path
    }()
    return ProjectSettings(config: config, databasePath: database)
}

