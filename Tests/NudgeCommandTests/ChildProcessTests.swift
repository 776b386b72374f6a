import Foundation
import NudgeTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The tests' child processes keep nothing of the test process but their standard streams, and can be signalled:
/// what keeps a test's wait from depending on another test's child (CI once hung on Foundation's `Process` so).
@Suite("Child processes of the tests")
struct ChildProcessTests {
    #if os(Linux)
        @Test("a child keeps only its three standard streams, even a descriptor the parent left inheritable")
        func onlyStandardStreams() throws {
            // A pipe made without close-on-exec, as Foundation's and many libraries' are.
            var leaky: [Int32] = [0, 0]
            #expect(pipe(&leaky) == 0)
            defer { for fd in leaky { close(fd) } }
            let child = try ChildProcess("/bin/sh", ["-c", "cd /proc/self/fd && echo *"], output: .pipe)
            let listed = String(decoding: child.output!.readDataToEndOfFile(), as: UTF8.self)
            #expect(child.wait(timeout: 60) == ChildProcess.Termination(status: 0, signalled: false))
            // The shell's own listing: its three streams, and the directory it is reading.
            let fds = Set(listed.split(whereSeparator: \.isWhitespace).compactMap { Int32($0) })
            #expect(fds.isSuperset(of: [0, 1, 2]))
            #expect(!fds.contains(leaky[0]) && !fds.contains(leaky[1]), "inherited: \(listed)")
            #expect(fds.count <= 4, "\(listed)")
        }

        @Test("a child starts with no signal blocked, so SIGTERM ends it; its end and status are read")
        func signals() throws {
            let status = try ChildProcess("/bin/sh", ["-c", "grep SigBlk /proc/self/status"], output: .pipe)
            let line = String(decoding: status.output!.readDataToEndOfFile(), as: UTF8.self)
            #expect(line.trimmingCharacters(in: .whitespacesAndNewlines) == "SigBlk:\t0000000000000000")

            let sleeper = try ChildProcess("/bin/sleep", ["600"])
            #expect(sleeper.isRunning)
            sleeper.send(SIGTERM)
            #expect(sleeper.wait(timeout: 60) == ChildProcess.Termination(status: SIGTERM, signalled: true))
            #expect(try ChildProcess.status("/bin/sh", ["-c", "exit 3"]) == 3)
        }
    #endif
}
