import ArgumentParser
import Foundation
import NudgeDelivery
import NudgeEngine
import NudgeLanguage

/// The output formats of `nudge test`.
enum TestFormat: String, ExpressibleByArgument, CaseIterable {
    case text, junit
}

extension NudgeCommand {
    /// `nudge test`: runs the workflow tests of `*.test.yaml` files.
    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "test",
            abstract: "Run workflow tests: every Workflows/*.test.yaml, or the files given.",
            discussion: """
                Each test starts from its file's rows (customers, visits, offers, progress, checked as an import \
                checks them) in a fresh in-memory database. Each step with 'at' is a whole run at that instant (the \
                project's policy and consent rules, the ledger carried from step to step, delivery to an adapter \
                that accepts everything) and must plan exactly the messages under 'expect' (at least them with \
                'partial: true'). Steps with rows upsert them between runs. Exit 1 when a test fails.
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "Test files or folders (default: the project's Workflows/*.test.yaml).")
        var files: [String] = []

        @Option(name: .customLong("run"), help: "Only the tests whose names match this regular expression.")
        var pattern: String?

        @Option(help: "text (default) or junit (JUnit XML on stdout, the summary on stderr).")
        var format: TestFormat = .text

        func validate() throws {
            if let pattern, (try? NSRegularExpression(pattern: pattern)) == nil {
                throw ValidationError("'--run \(pattern)' is not a regular expression")
            }
        }

        func run() async throws {
            let project = try loadProject(global)
            let paths = try testFiles(project)
            let filter = try pattern.map { try NSRegularExpression(pattern: $0) }
            let include: (String) -> Bool = { name in
                guard let filter else { return true }
                return filter.firstMatch(in: name, range: NSRange(name.startIndex..., in: name)) != nil
            }
            let runner = WorkflowTestRunner(
                project: project, environment: ProcessInfo.processInfo.environment, logger: global.makeLogger())
            var suites: [TestSuiteReport] = []
            for (path, display) in paths {
                var diagnostics = Diagnostics()
                guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                    diagnostics.error("cannot read the test file", at: SourceLocation(file: display))
                    suites.append(TestSuiteReport(file: display, problems: diagnostics.sorted))
                    continue
                }
                guard
                    let file = WorkflowTestFile.parse(text, file: display, zone: project.config.timeZone, diagnostics: &diagnostics)
                else {
                    suites.append(TestSuiteReport(file: display, problems: diagnostics.sorted))
                    continue
                }
                suites.append(TestSuiteReport(file: display, results: await runner.run(file, include: include)))
            }
            let report = TestReport(suites: suites)
            switch format {
            case .text:
                Console.out(report.text(verbose: global.verbose))
            case .junit:
                for suite in suites {
                    for problem in suite.problems { Console.error(problem.description) }
                    for result in suite.results { if let detail = result.detail { Console.error(detail) } }
                }
                Console.out(report.junit)
                Console.error(report.summary)
            }
            if paths.isEmpty {
                Console.error("no test files: write Workflows/NAME.test.yaml (see 'nudge init' for examples)")
            } else if report.total == 0, let pattern, report.succeeded {
                // A pattern that picks nothing is a mistake, not a pass.
                Console.error("error: no test's name matches '--run \(pattern)'")
                throw ExitCode(1)
            }
            if !report.succeeded { throw ExitCode(1) }
        }

        /// The files to run, as (path, shown as).
        func testFiles(_ project: Project) throws -> [(String, String)] {
            let manager = FileManager.default
            func inFolder(_ folder: String, shownAs prefix: String) -> [(String, String)] {
                let names = ((try? manager.contentsOfDirectory(atPath: folder)) ?? []).sorted()
                return names.filter(WorkflowTestFile.isTestFile).map {
                    ((folder as NSString).appendingPathComponent($0), prefix.isEmpty ? $0 : (prefix as NSString).appendingPathComponent($0))
                }
            }
            guard !files.isEmpty else {
                let folder = project.directory.appendingPathComponent("Workflows").path
                return inFolder(folder, shownAs: project.displayPrefix.isEmpty ? "Workflows" : project.displayPrefix + "/Workflows")
            }
            var found: [(String, String)] = []
            for file in files {
                var isFolder: ObjCBool = false
                guard manager.fileExists(atPath: file, isDirectory: &isFolder) else {
                    Console.error("\(file): error: no such test file")
                    throw ExitCode(1)
                }
                found += isFolder.boolValue ? inFolder(file, shownAs: file) : [(file, file)]
            }
            return found
        }
    }
}

/// The results of one test file, or why it could not run.
struct TestSuiteReport {
    var file: String
    var results: [WorkflowTestResult] = []
    /// The file's own errors (YAML, keys, values): none of its tests ran.
    var problems: [Diagnostic] = []

    var failures: Int { results.count { if case .failed = $0.outcome { true } else { false } } }
    /// Tests that could not run, and the file itself when it has errors (for JUnit).
    var errors: Int { testErrors + (problems.isEmpty ? 0 : 1) }
    var testErrors: Int { results.count { if case .error = $0.outcome { true } else { false } } }
}

extension WorkflowTestResult {
    /// The failure's or error's report.
    var detail: String? {
        switch outcome {
        case .passed: return nil
        case .failed(let text), .error(let text): return text
        }
    }
}

/// Everything `nudge test` ran, as text or JUnit XML.
struct TestReport {
    var suites: [TestSuiteReport]

    var total: Int { suites.reduce(0) { $0 + $1.results.count } }
    var passed: Int { suites.reduce(0) { $0 + $1.results.count(where: \.passed) } }
    var succeeded: Bool { suites.allSatisfy { $0.failures == 0 && $0.errors == 0 } }

    var summary: String {
        let failed = suites.reduce(0) { $0 + $1.failures }
        let errors = suites.reduce(0) { $0 + $1.testErrors }
        let broken = suites.count { !$0.problems.isEmpty }
        var text = "\(total) test\(total == 1 ? "" : "s") in \(suites.count) file\(suites.count == 1 ? "" : "s"): \(passed) passed"
        if failed > 0 { text += ", \(failed) failed" }
        if errors > 0 { text += ", \(errors) could not run" }
        if broken > 0 { text += "; \(broken) file\(broken == 1 ? "" : "s") with errors (none of \(broken == 1 ? "its" : "their") tests ran)" }
        return text
    }

    func text(verbose: Bool) -> String {
        var lines: [String] = []
        for suite in suites {
            for problem in suite.problems { lines.append(problem.description) }
            for result in suite.results {
                switch result.outcome {
                case .passed:
                    lines.append("ok    \(result.file): \(result.name) (\(result.steps) run\(result.steps == 1 ? "" : "s"))")
                case .failed(let text):
                    lines.append("FAIL  \(result.file): \(result.name)")
                    lines.append(text)
                case .error(let text):
                    lines.append("ERROR \(result.file): \(result.name)")
                    lines.append(text)
                }
            }
        }
        lines.append(summary)
        return lines.joined(separator: "\n")
    }

    var junit: String {
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        let failures = suites.reduce(0) { $0 + $1.failures }
        let errors = suites.reduce(0) { $0 + $1.errors }
        let seconds = suites.reduce(0.0) { $0 + $1.results.reduce(0.0) { $0 + $1.seconds } }
        xml += "<testsuites name=\"nudge test\" tests=\"\(total + suites.count { !$0.problems.isEmpty })\" "
            + "failures=\"\(failures)\" errors=\"\(errors)\" time=\"\(Self.time(seconds))\">\n"
        for suite in suites {
            let tests = suite.results.count + (suite.problems.isEmpty ? 0 : 1)
            xml += "  <testsuite name=\"\(Self.escape(suite.file))\" tests=\"\(tests)\" failures=\"\(suite.failures)\" "
                + "errors=\"\(suite.errors)\" time=\"\(Self.time(suite.results.reduce(0.0) { $0 + $1.seconds }))\">\n"
            if !suite.problems.isEmpty {
                let text = suite.problems.map(\.description).joined(separator: "\n")
                xml += "    <testcase classname=\"\(Self.escape(suite.file))\" name=\"(the file)\" file=\"\(Self.escape(suite.file))\">\n"
                xml += "      <error message=\"the test file has errors\">\(Self.escape(text, attribute: false))</error>\n"
                xml += "    </testcase>\n"
            }
            for result in suite.results {
                xml += "    <testcase classname=\"\(Self.escape(suite.file))\" name=\"\(Self.escape(result.name))\" "
                    + "file=\"\(Self.escape(result.file))\" line=\"\(result.location.line)\" time=\"\(Self.time(result.seconds))\""
                switch result.outcome {
                case .passed:
                    xml += "/>\n"
                case .failed(let text):
                    let first = text.split(separator: "\n").first.map(String.init) ?? text
                    xml += ">\n      <failure message=\"\(Self.escape(first))\">\(Self.escape(text, attribute: false))</failure>\n    </testcase>\n"
                case .error(let text):
                    let first = text.split(separator: "\n").first.map(String.init) ?? text
                    xml += ">\n      <error message=\"\(Self.escape(first))\">\(Self.escape(text, attribute: false))</error>\n    </testcase>\n"
                }
            }
            xml += "  </testsuite>\n"
        }
        xml += "</testsuites>"
        return xml
    }

    static func time(_ seconds: Double) -> String { String(format: "%.3f", seconds) }

    /// Text for XML attributes (`attribute`, where line breaks are written as references) and content; characters
    /// XML 1.0 cannot hold are dropped.
    static func escape(_ text: String, attribute: Bool = true) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\n" where !attribute: out += "\n"
            case "\n", "\t", "\r": out += "&#\(scalar.value);"
            default:
                if scalar.value >= 0x20 && scalar.value != 0xFFFE && scalar.value != 0xFFFF { out.unicodeScalars.append(scalar) }
            }
        }
        return out
    }
}
