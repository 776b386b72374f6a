import Foundation
import Testing

/// Runs `executable` with `arguments` to completion: its exit status and its output (stdout and stderr together).
public func runTool(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let output = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: output, as: UTF8.self))
}

/// A tool a test needs is missing here: under CI (whose `.ci/run` installs it) the test fails with `missing`;
/// elsewhere it is skipped, printing `skipped`.
public func reportMissingTool(_ missing: String, skipped: String) {
    if ProcessInfo.processInfo.environment["CI"] != nil {
        Issue.record("\(missing): .ci/run installs it")
    } else {
        print("skipped: \(skipped)")
    }
}
