import Foundation
import Synchronization
import NudgeTestSupport
import Testing

/// A real SMTP server for tests: Python's aiosmtpd running `Tests/Scripts/smtp_server.py` on 127.0.0.1, with its own
/// temporary folder where it saves every message it receives and logs every command. The server stops and the folder
/// is removed when the value goes away. (The script lives outside the test target's folder: SwiftPM would warn about
/// a file it does not handle there.)
final class SMTPTestServer {
    /// One message as the server received it.
    struct Received: Decodable {
        struct Part: Decodable {
            var type: String
            var charset: String?
            var encoding: String?
            var content: String
            var defects: [String]
        }

        var connection: Int
        var mailFrom: String
        var rcptTos: [String]
        var type: String
        var subject: String
        var fromName: String?
        var fromAddress: String?
        var to: String
        var replyTo: String?
        var date: String
        var messageId: String?
        var headers: [String: String]
        var parts: [Part]
        var defects: [String]
        /// The message's bytes after the server removed the dot-stuffing.
        var raw = Data()

        enum CodingKeys: String, CodingKey {
            case connection, type, subject, to, date, headers, parts, defects
            case mailFrom = "mail_from", rcptTos = "rcpt_tos", fromName = "from_name", fromAddress = "from_address"
            case replyTo = "reply_to", messageId = "message_id"
        }
    }

    /// The test user's name and password (for `--user`/`--password`).
    static let user = "nudge"
    static let password = "s3cret-pässword"

    static let script = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Scripts/smtp_server.py")

    let directory: URL
    let port: Int
    /// The PEM file of the CA that signed the server's certificate (nil without TLS).
    let caFile: String?
    private let process: ChildProcess

    /// Whether Python has aiosmtpd and cryptography, installing them with pip once when it has not (so that
    /// `swift test` alone works on a fresh machine; `.ci/run` installs them beforehand).
    static let pythonPackagesReady: Bool = {
        func run(_ arguments: [String]) -> Int32 {
            (try? ChildProcess.status("/usr/bin/env", ["python3"] + arguments)) ?? -1
        }
        if run(["-c", "import aiosmtpd, cryptography"]) == 0 { return true }
        _ = run(["-m", "pip", "install", "--quiet", "aiosmtpd", "cryptography"])
        return run(["-c", "import aiosmtpd, cryptography"]) == 0
    }()

    /// Starts the server with `arguments` (see `smtp_server.py`) and waits until it listens.
    init(_ arguments: [String] = []) async throws {
        guard Self.pythonPackagesReady else {
            throw ReceiverError(
                description: "the SMTP tests need python3 with aiosmtpd and cryptography (pip install aiosmtpd cryptography)")
        }
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("nudge-smtp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let errorFile = directory.appendingPathComponent("server.err")
        let process = try ChildProcess(
            "/usr/bin/env", ["python3", Self.script.path, directory.appendingPathComponent("mail").path] + arguments,
            input: .pipe, output: .pipe, error: .file(errorFile.path))

        let lines = OutputLines()
        let reader = process.output!
        Thread.detachNewThread {
            while case let data = reader.availableData, !data.isEmpty { lines.append(data) }
        }
        let deadline = ContinuousClock.now + .seconds(30)
        while lines.firstLine == nil, process.isRunning, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        struct Ready: Decodable { var port: Int, ca: String? }
        guard let line = lines.firstLine, let ready = try? JSONDecoder().decode(Ready.self, from: Data(line.utf8))
        else {
            let errors = (try? String(contentsOf: errorFile, encoding: .utf8)) ?? ""
            process.stop(grace: 0)
            try? FileManager.default.removeItem(at: directory)
            throw ReceiverError(description: "the SMTP test server did not start: \(errors)")
        }
        port = ready.port
        caFile = ready.ca
        self.process = process
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Closes the server's standard input (it exits then) and waits for it, killing it after 5 seconds.
    func stop() {
        process.stop(grace: 5)
    }

    private var mail: URL { directory.appendingPathComponent("mail") }

    /// The messages received so far, in order.
    func received() throws -> [Received] {
        let names = try FileManager.default.contentsOfDirectory(atPath: mail.path).filter { $0.hasSuffix(".json") }
            .sorted()
        return try names.map { name in
            var message = try JSONDecoder().decode(
                Received.self, from: Data(contentsOf: mail.appendingPathComponent(name)))
            message.raw = try Data(
                contentsOf: mail.appendingPathComponent(name.replacingOccurrences(of: ".json", with: ".eml")))
            return message
        }
    }

    /// `"1 connect"`, `"1 EHLO"`, … one line per connection and command, in order.
    func events() throws -> [String] {
        let file = mail.appendingPathComponent("events.log")
        guard FileManager.default.fileExists(atPath: file.path) else { return [] }
        return try String(contentsOf: file, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    /// The commands (without connection numbers) of connection `number`.
    func commands(connection number: Int) throws -> [String] {
        try events().compactMap { line in
            let parts = line.split(separator: " ", maxSplits: 1)
            return parts.count == 2 && parts[0] == "\(number)" ? String(parts[1]) : nil
        }
    }

    /// How many connections the server accepted.
    func connections() throws -> Int {
        try events().filter { $0.hasSuffix(" connect") }.count
    }
}

/// The server's standard output as it arrives.
private final class OutputLines: Sendable {
    private let data = Mutex(Data())

    func append(_ more: Data) {
        data.withLock { $0.append(more) }
    }

    /// The first complete line, once there is one.
    var firstLine: String? {
        data.withLock { data in
            data.firstIndex(of: UInt8(ascii: "\n")).map { String(decoding: data[..<$0], as: UTF8.self) }
        }
    }
}
