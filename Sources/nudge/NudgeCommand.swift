import ArgumentParser
import Foundation
import Logging

/// The `nudge` command: a thin layer that maps options onto library calls and prints results.
@main
struct NudgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nudge",
        abstract: "Loyalty-program automations: workflows as code, a dry-run you can trust.",
        discussion: """
            Nudge reads the workflows in Workflows/*.yaml and the templates in Templates/, evaluates them \
            against the customers in a SQLite database and shows (dry-run) or sends (run) the messages due.
            """,
        subcommands: [Check.self, Test.self, Explain.self, Diff.self, ForecastCommand.self, Schema.self, Import.self, DryRun.self, Run.self, Serve.self, History.self, Workflows.self, Segments.self, Model.self, Customers.self, Export.self, Status.self, SendTest.self, Wallet.self, Demo.self, Init.self]
    )

    /// Runs the command and maps failures onto the exit statuses of the contract:
    /// 0 success, 1 invalid input or failed checks, 2 usage errors.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "The project folder (holding nudge.yaml, Workflows/ and Templates/).")
    var project: String = "."

    @Option(name: .long, help: "The SQLite database (default: database: in nudge.yaml, else nudge.sqlite).")
    var db: String?

    @Flag(name: .shortAndLong, help: "Log debug detail to stderr.")
    var verbose = false

    /// A logger writing to stderr at `notice` (or `debug` with -v).
    func makeLogger(label: String = "nudge") -> Logger {
        var logger = Logger(label: label) { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = verbose ? .debug : .notice
        return logger
    }
}

/// Printing to the standard streams.
enum Console {
    static func error(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    static func out(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    /// Writes `count` lines, line `i` made by `write(i, &buffer)`, in order. A broadcast's plan is a hundred thousand
    /// lines, so the lines are made on every core at once, a round of 4,096-line chunks at a time (one chunk per
    /// core), and each chunk is written with one call rather than a write per line. (`write` is given an index, not
    /// an item: it reads the item in place, where an item passed to it would be copied first.)
    static func out(lines count: Int, _ write: @Sendable (Int, inout [UInt8]) -> Void) {
        let chunk = 4_096
        let cores = count <= chunk ? 1 : max(1, ProcessInfo.processInfo.activeProcessorCount)
        var start = 0
        while start < count {
            let round = (0..<cores).map { start + $0 * chunk }.filter { $0 < count }
            // Each iteration writes its own slot only.
            nonisolated(unsafe) let buffers = UnsafeMutableBufferPointer<[UInt8]>.allocate(capacity: round.count)
            buffers.initialize(repeating: [])
            DispatchQueue.concurrentPerform(iterations: round.count) { slot in
                var buffer: [UInt8] = []
                buffer.reserveCapacity(1 << 20)
                for index in round[slot]..<min(round[slot] + chunk, count) {
                    write(index, &buffer)
                    buffer.append(UInt8(ascii: "\n"))
                }
                buffers[slot] = buffer
            }
            for buffer in buffers { FileHandle.standardOutput.write(Data(buffer)) }
            buffers.deinitialize()
            buffers.deallocate()
            start += round.count * chunk
        }
    }

    static func out(lines: some Sequence<String>) {
        var buffer = Data()
        buffer.reserveCapacity(1 << 16)
        for line in lines {
            buffer.append(contentsOf: line.utf8)
            buffer.append(UInt8(ascii: "\n"))
            if buffer.count >= 1 << 16 {
                FileHandle.standardOutput.write(buffer)
                buffer.removeAll(keepingCapacity: true)
            }
        }
        if !buffer.isEmpty { FileHandle.standardOutput.write(buffer) }
    }
}
