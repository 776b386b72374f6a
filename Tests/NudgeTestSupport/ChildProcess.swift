public import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A child process of the tests, started with `posix_spawn` and waited for with `waitpid`.
///
/// Not Foundation's `Process`: on Linux it learns that a child ended through a socket that the child inherits, and its
/// launch closes the parent's other descriptors from a list taken before spawning, so a child started meanwhile by
/// another thread (the tests run in parallel) inherits its sibling's socket as well. `waitUntilExit` then waits for
/// the inheritor to end too; when the inheritor was a test's SMTP server, waiting for a test that could not run
/// because every thread was in such a wait, CI hung until its time ran out. Here the child keeps only its standard
/// streams (the pipes made here are close-on-exec, and the C library closes every other descriptor in the child where
/// it can), starts with no signal blocked (a SIGTERM reaches it), and its end is read with `waitpid`.
public final class ChildProcess: @unchecked Sendable {
    /// Where one of the child's standard streams goes.
    public enum Stream: Sendable {
        /// `/dev/null`.
        case null
        /// A pipe to this process: `input`, `output` or `error`.
        case pipe
        /// A file, created or truncated.
        case file(String)
    }

    /// How the child ended.
    public struct Termination: Sendable, Hashable {
        /// Its exit status, or the signal that killed it.
        public var status: Int32
        /// Killed by a signal rather than exiting.
        public var signalled: Bool

        public init(status: Int32, signalled: Bool) {
            self.status = status
            self.signalled = signalled
        }
    }

    public let pid: pid_t
    /// The write end of its standard input (`.pipe`).
    public let input: FileHandle?
    /// The read end of its standard output (`.pipe`).
    public let output: FileHandle?
    /// The read end of its standard error (`.pipe`).
    public let error: FileHandle?

    private let lock = NSLock()
    private var ended: Termination?

    /// Starts `executable` (a path) with `arguments`; `environment` replaces this process's own when given.
    public init(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil, directory: String? = nil,
        input: Stream = .null, output: Stream = .null, error: Stream = .null
    ) throws {
        var actions = SpawnActions()
        defer { actions.destroy() }
        // The child's ends are closed here once it has them (or when it could not start); ours belong to the handles.
        var childEnds: [Int32] = []
        defer { for fd in childEnds { close(fd) } }
        func plan(_ stream: Stream, as target: Int32) throws -> FileHandle? {
            switch stream {
            case .null:
                try actions.check(actions.open(target, "/dev/null", target == 0 ? O_RDONLY : O_WRONLY))
                return nil
            case .file(let path):
                try actions.check(actions.open(target, path, O_WRONLY | O_CREAT | O_TRUNC))
                return nil
            case .pipe:
                let (read, write) = try Self.pipe()
                let (mine, theirs) = target == 0 ? (write, read) : (read, write)
                childEnds.append(theirs)
                try actions.check(actions.dup2(theirs, target))
                return FileHandle(fileDescriptor: mine, closeOnDealloc: true)
            }
        }
        self.input = try plan(input, as: 0)
        self.output = try plan(output, as: 1)
        self.error = try plan(error, as: 2)
        actions.closeOthers()
        if let directory { try actions.check(actions.changeDirectory(directory)) }

        var attributes = SpawnAttributes()
        defer { attributes.destroy() }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let variables = (environment ?? ProcessInfo.processInfo.environment).map { strdup("\($0)=\($1)") } + [nil]
        defer { for pointer in variables { free(pointer) } }
        var pid: pid_t = 0
        let spawned = actions.withPointer { actionsPointer in
            attributes.withPointer { attributesPointer in
                posix_spawn(&pid, executable, actionsPointer, attributesPointer, argv, variables)
            }
        }
        guard spawned == 0 else {
            throw ChildProcessError(description: "cannot start \(executable): \(String(cString: strerror(spawned)))")
        }
        self.pid = pid
    }

    deinit {
        if termination == nil {
            kill(pid, SIGKILL)
            _ = wait(timeout: 10)
        }
    }

    /// How it ended; nil while it runs.
    public var termination: Termination? {
        lock.withLock {
            if let ended { return ended }
            var status: Int32 = 0
            var result: pid_t
            repeat { result = waitpid(pid, &status, WNOHANG) } while result == -1 && errno == EINTR
            guard result == pid else { return nil }
            // WIFSIGNALED / WTERMSIG / WEXITSTATUS, which Swift does not import.
            let signal = status & 0x7f
            ended =
                signal != 0 && signal != 0x7f
                ? Termination(status: signal, signalled: true) : Termination(status: (status >> 8) & 0xff, signalled: false)
            return ended
        }
    }

    public var isRunning: Bool { termination == nil }

    /// Sends `signal`, unless the child has ended.
    public func send(_ signal: Int32) {
        if isRunning { kill(pid, signal) }
    }

    /// Waits (polling every 2 ms, for threads that may block) until the child ends; nil when `timeout` passes first.
    public func wait(timeout: Double) -> Termination? {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let termination { return termination }
            if Date() >= deadline { return nil }
            usleep(2_000)
        }
    }

    /// Waits (suspending) until the child ends.
    public func wait() async throws -> Termination {
        while true {
            if let termination { return termination }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Closes its standard input, gives it `grace` seconds to end, then kills it.
    public func stop(grace: Double = 5) {
        try? input?.close()
        if wait(timeout: grace) == nil {
            kill(pid, SIGKILL)
            _ = wait(timeout: 10)
        }
    }

    /// Runs `executable` to its end, with standard output and error to `/dev/null`; its exit status.
    public static func status(_ executable: String, _ arguments: [String]) throws -> Int32 {
        let child = try ChildProcess(executable, arguments)
        guard let termination = child.wait(timeout: 600) else {
            throw ChildProcessError(description: "\(executable) did not end within 10 minutes")
        }
        return termination.signalled ? 128 + termination.status : termination.status
    }

    /// A pipe whose two ends are closed when another child is started: (read, write). (Close-on-exec is set after
    /// the pipe is made, `pipe2` being a GNU extension; a child started in between closes them anyway where the C
    /// library closes every descriptor.)
    static func pipe() throws -> (Int32, Int32) {
        var ends: [Int32] = [0, 0]
        #if canImport(Glibc)
            guard Glibc.pipe(&ends) == 0 else { throw ChildProcessError(errno: errno, doing: "pipe") }
        #else
            guard Darwin.pipe(&ends) == 0 else { throw ChildProcessError(errno: errno, doing: "pipe") }
        #endif
        for fd in ends { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        return (ends[0], ends[1])
    }
}

public struct ChildProcessError: Error, CustomStringConvertible {
    public var description: String

    public init(description: String) { self.description = description }

    init(errno code: Int32, doing what: String) {
        description = "\(what): \(String(cString: strerror(code)))"
    }
}

/// `posix_spawn_file_actions_t`, with the GNU extensions Swift does not import looked up at run time.
private struct SpawnActions {
    #if os(Linux)
        var actions = posix_spawn_file_actions_t()
    #else
        var actions: posix_spawn_file_actions_t? = nil
    #endif

    init() { posix_spawn_file_actions_init(&actions) }

    mutating func destroy() { posix_spawn_file_actions_destroy(&actions) }

    func check(_ result: Int32) throws {
        if result != 0 { throw ChildProcessError(errno: result, doing: "posix_spawn_file_actions") }
    }

    mutating func open(_ fd: Int32, _ path: String, _ flags: Int32) -> Int32 {
        posix_spawn_file_actions_addopen(&actions, fd, path, flags, 0o644)
    }

    mutating func dup2(_ fd: Int32, _ target: Int32) -> Int32 {
        posix_spawn_file_actions_adddup2(&actions, fd, target)
    }

    /// Closes every descriptor above the standard three in the child (glibc 2.34 and later; elsewhere the
    /// close-on-exec pipes are what matters).
    mutating func closeOthers() {
        #if os(Linux)
            typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
            guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return }
            _ = unsafeBitCast(symbol, to: CloseFrom.self)(&actions, 3)
        #endif
    }

    mutating func changeDirectory(_ path: String) -> Int32 {
        #if os(Linux)
            typealias ChangeDirectory = @convention(c) (
                UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>
            ) -> Int32
            guard let symbol = dlsym(nil, "posix_spawn_file_actions_addchdir_np") else { return ENOSYS }
            return unsafeBitCast(symbol, to: ChangeDirectory.self)(&actions, path)
        #else
            return posix_spawn_file_actions_addchdir_np(&actions, path)
        #endif
    }

    mutating func withPointer<T>(_ body: (UnsafePointer<posix_spawn_file_actions_t>) -> T) -> T {
        #if os(Linux)
            return body(&actions)
        #else
            return withUnsafePointer(to: &actions) { body(UnsafeRawPointer($0).assumingMemoryBound(to: posix_spawn_file_actions_t.self)) }
        #endif
    }
}

/// `posix_spawnattr_t`: its own process group (as Foundation's `Process` does) and no signal blocked.
private struct SpawnAttributes {
    #if os(Linux)
        var attributes = posix_spawnattr_t()
    #else
        var attributes: posix_spawnattr_t? = nil
    #endif

    init() {
        posix_spawnattr_init(&attributes)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP))
    }

    mutating func destroy() { posix_spawnattr_destroy(&attributes) }

    mutating func withPointer<T>(_ body: (UnsafePointer<posix_spawnattr_t>) -> T) -> T {
        #if os(Linux)
            return body(&attributes)
        #else
            return withUnsafePointer(to: &attributes) { body(UnsafeRawPointer($0).assumingMemoryBound(to: posix_spawnattr_t.self)) }
        #endif
    }
}
