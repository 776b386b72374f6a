import Foundation

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
    @discardableResult
    public static func scaffold(into directory: String) throws -> [String] {
        let fileManager = FileManager.default
        let root = URL(fileURLWithPath: directory)
        if fileManager.fileExists(atPath: root.appendingPathComponent("nudge.yaml").path) {
            throw ScaffoldError(message: "a project already exists here (nudge.yaml); nothing was written")
        }
        var written: [String] = []
        do {
            for (path, contents) in files + [(".gitignore", "*.sqlite\n*.sqlite-wal\n*.sqlite-shm\n*.sqlite-plan.lock\noutbox/\n")] {
                let url = root.appendingPathComponent(path)
                try fileManager.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                let text = path == ".gitignore" ? contents : contents + "\n"
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
