import Foundation
public import NudgeLanguage

/// The repository's own example project (nudge.yaml, Workflows/, Templates/), embedded for `nudge init`.
///
/// `ExampleProject+Files.swift` is generated from the repository root; a test fails when it is stale and
/// rewrites it when run with `NUDGE_UPDATE_EXAMPLES=1`.
public enum ExampleProject {
    /// Why a scaffold could not be written.
    public struct ScaffoldError: Error, Sendable {
        public var message: String
    }

    /// Writes the example project into `directory`, creating it. Refuses to overwrite an existing project.
    ///
    /// With `schemas` (the JSON Schemas of `nudge schema`), they are written under `.nudge/`, and nudge.yaml and each
    /// workflow begin with the `# yaml-language-server: $schema=…` line that points editors at them.
    @discardableResult
    public static func scaffold(into directory: String, schemas: [NudgeSchema.Kind: String] = [:]) throws -> [String] {
        let fileManager = FileManager.default
        let root = URL(fileURLWithPath: directory)
        if fileManager.fileExists(atPath: root.appendingPathComponent("nudge.yaml").path) {
            throw ScaffoldError(message: "a project already exists here (nudge.yaml); nothing was written")
        }
        var written: [String] = []
        do {
            var all = files.map { path, contents in (path, schemaLine(for: path, schemas: schemas) + contents + "\n") }
            all.append((".gitignore", "*.sqlite\n*.sqlite-wal\n*.sqlite-shm\n*.sqlite-plan.lock\noutbox/\n"))
            all += schemas.sorted { $0.key.rawValue < $1.key.rawValue }.map { (".nudge/\($0.key.fileName)", $0.value + "\n") }
            for (path, text) in all {
                let url = root.appendingPathComponent(path)
                try fileManager.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(text.utf8).write(to: url, options: .withoutOverwriting)
                written.append(path)
            }
        } catch {
            // Nothing half-written: remove what this call created.
            for path in written { try? fileManager.removeItem(at: root.appendingPathComponent(path)) }
            throw ScaffoldError(message: "cannot write the project: \(error.localizedDescription)")
        }
        return written
    }

    /// The line that points editors (the YAML language server) at a file's schema, when `schemas` has it.
    static func schemaLine(for path: String, schemas: [NudgeSchema.Kind: String]) -> String {
        if path == "nudge.yaml", schemas[.config] != nil {
            return "# yaml-language-server: $schema=.nudge/\(NudgeSchema.Kind.config.fileName)\n"
        }
        if path.hasPrefix("Workflows/"), !WorkflowTestFile.isTestFile(path), schemas[.workflow] != nil {
            return "# yaml-language-server: $schema=../.nudge/\(NudgeSchema.Kind.workflow.fileName)\n"
        }
        return ""
    }

    /// The Swift source of `ExampleProject+Files.swift` for the given files.
    public static func generatedSource(files: [(String, String)]) -> String {
        var source = """
            // Generated from the repository's nudge.yaml, Workflows/ and Templates/. Do not edit:
            // run `NUDGE_UPDATE_EXAMPLES=1 swift test --filter ExampleProject` to regenerate.

            extension ExampleProject {
                /// (path relative to the project, contents)
                public static let files: [(String, String)] = [

            """
        for (path, contents) in files {
            source += "        (\n            \"\(path)\",\n            ##\"\"\"\n"
            for line in contents.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
                source += line.isEmpty ? "\n" : "            \(line)\n"
            }
            source += "            \"\"\"##\n        ),\n"
        }
        source += "    ]\n}\n"
        return source
    }
}
