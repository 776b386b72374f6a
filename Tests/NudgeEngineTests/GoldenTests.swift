import Foundation
import NudgeEngine
import NudgeLanguage
import NudgeProviders
import NudgeRender
import NudgeStore
import Testing
import NudgeCore

/// Compares output with files under Golden/; `NUDGE_UPDATE_GOLDEN=1 swift test` rewrites them.
enum Golden {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    static func check(_ actual: String, against name: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
        let url = directory.appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["NUDGE_UPDATE_GOLDEN"] == "1" {
            try actual.write(to: url, atomically: true, encoding: .utf8)
            return
        }
        let expected = try String(contentsOf: url, encoding: .utf8)
        if actual != expected {
            let actualLines = actual.split(separator: "\n", omittingEmptySubsequences: false)
            let expectedLines = expected.split(separator: "\n", omittingEmptySubsequences: false)
            let first = zip(actualLines, expectedLines).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(actualLines.count, expectedLines.count)
            Issue.record(
                """
                \(name) differs at line \(first + 1):
                  expected: \(first < expectedLines.count ? String(expectedLines[first]) : "<end>")
                  actual:   \(first < actualLines.count ? String(actualLines[first]) : "<end>")
                (run NUDGE_UPDATE_GOLDEN=1 swift test to accept)
                """, sourceLocation: sourceLocation)
        }
    }
}

@Suite("Golden files")
struct GoldenTests {
    @Test("check reports every problem of a broken project, sorted, with places and suggestions")
    func checkBrokenProject() throws {
        let (project, diagnostics) = Project.load(
            directory: Golden.directory.appendingPathComponent("broken-project").path, displayPrefix: "",
            providers: Providers.catalog)
        #expect(project == nil)
        try Golden.check(diagnostics.map(\.description).joined(separator: "\n") + "\n", against: "check-broken-project.txt")
    }

    @Test("the repository's example project checks clean")
    func exampleProjectIsValid() throws {
        let (project, diagnostics) = Project.load(directory: Golden.repositoryRoot.path, providers: Providers.catalog)
        #expect(diagnostics.isEmpty, "\(diagnostics.map(\.description))")
        let loaded = try #require(project)
        #expect(loaded.workflows.count >= 6)
        let kinds = Set(loaded.workflows.map(\.trigger.kind))
        #expect(kinds == Set(TriggerKind.allCases))
    }

    @Test("a dry-run of the example project on fixed data at a fixed instant")
    func exampleDryRun() async throws {
        let (loaded, _) = Project.load(directory: Golden.repositoryRoot.path, providers: Providers.catalog)
        let project = try #require(loaded)
        let database = try AppDatabase.inMemory()
        let now = try #require(ISO8601.parse("2026-11-25T15:00:00Z", zone: TimeZone(identifier: "UTC")!))
        try DemoData.populate(database, count: 3000, now: now, seed: 2026)
        let plan = try await Planner(project: project, store: database).plan(now: now, render: true)
        try await PostgresTwin.expectSamePlan(plan, project: project, source: database, now: now, render: true)
        #expect(Set(plan.messages.map(\.workflowID)).count >= 6, "every kind of example workflow has someone due")
        #expect(plan.suppressedCount > 0)
        let lines = plan.messages.map { $0.jsonLine(includeRendered: true) }
        try Golden.check(lines.joined(separator: "\n") + "\n", against: "dry-run-example.jsonl")
    }

    @Test("the embedded example project matches the repository's files")
    func embeddedExamples() throws {
        let root = Golden.repositoryRoot
        var files: [(String, String)] = [("nudge.yaml", try String(contentsOf: root.appendingPathComponent("nudge.yaml"), encoding: .utf8))]
        for folder in ["Workflows", "Templates"] {
            let names = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent(folder).path).sorted()
            for name in names {
                files.append(("\(folder)/\(name)", try String(contentsOf: root.appendingPathComponent("\(folder)/\(name)"), encoding: .utf8)))
            }
        }
        let generated = ExampleProject.generatedSource(files: files)
        let target = root.appendingPathComponent("Sources/NudgeEngine/Scaffold/ExampleProject+Files.swift")
        if ProcessInfo.processInfo.environment["NUDGE_UPDATE_EXAMPLES"] == "1" {
            try generated.write(to: target, atomically: true, encoding: .utf8)
        }
        #expect(try String(contentsOf: target, encoding: .utf8) == generated, "run NUDGE_UPDATE_EXAMPLES=1 swift test --filter embeddedExamples")
        let embedded = ExampleProject.files.map { ($0.0, $0.1 + "\n") }
        #expect(embedded.map(\.0) == files.map(\.0))
        #expect(embedded.map(\.1) == files.map(\.1))
    }

    @Test("init scaffolds a project that checks clean, and refuses to overwrite one")
    func scaffold() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("nudge-init-\(UUID().uuidString)")
        try ExampleProject.scaffold(into: directory.path)
        let (project, diagnostics) = Project.load(directory: directory.path, providers: Providers.catalog)
        #expect(diagnostics.isEmpty)
        let workflowFiles = ExampleProject.files.map(\.0).filter { $0.hasPrefix("Workflows/") }
        // Every example workflow loads, and ships with its test file (which the loader skips).
        #expect(project?.workflows.count == workflowFiles.filter { !WorkflowTestFile.isTestFile($0) }.count)
        #expect(
            Set(workflowFiles.filter(WorkflowTestFile.isTestFile).map { $0.replacingOccurrences(of: ".test.yaml", with: ".yaml") })
                == Set(workflowFiles.filter { !WorkflowTestFile.isTestFile($0) }))
        #expect(throws: ExampleProject.ScaffoldError.self) { try ExampleProject.scaffold(into: directory.path) }
    }

    @Test("init that fails midway leaves nothing half-written")
    func scaffoldFailure() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("nudge-init-\(UUID().uuidString)")
        // A folder where a template file should go makes the last writes fail.
        let blocker = directory.appendingPathComponent("Templates/welcome.email.mustache")
        try FileManager.default.createDirectory(at: blocker, withIntermediateDirectories: true)
        #expect(throws: ExampleProject.ScaffoldError.self) { try ExampleProject.scaffold(into: directory.path) }
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("nudge.yaml").path))
        #expect(
            !FileManager.default.fileExists(atPath: directory.appendingPathComponent("Workflows/welcome.yaml").path))
    }
}
