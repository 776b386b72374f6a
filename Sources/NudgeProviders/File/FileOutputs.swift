import Foundation
public import NudgeLanguage
import NudgeCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The files the `file` provider writes, as `nudge customers erase` finds and rewrites a customer's lines in them.
public enum FileOutputs {
    /// The output file of every channel that uses the `file` provider, absolute, once each, sorted.
    public static func paths(_ config: ProjectConfig, resolve: (String) -> String) -> [String] {
        Set(
            config.channels.flatMap { channel, channelConfig in
                channelConfig.routes.compactMap { _, settings in
                    settings.provider == FileProvider.name
                        ? resolve(settings.settings["path"] ?? FileProvider.defaultPath(channel)) : nil
                }
            }
        ).sorted()
    }

    /// The numbers (from 1) of the lines of `path` that are messages to `customerID`; none when the file is missing.
    public static func lines(in path: String, customerID: String) throws -> [Int] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return split(data).lines.enumerated().compactMap { index, line in
            isMessage(line, to: customerID) ? index + 1 : nil
        }
    }

    /// Rewrites the lines of `path` that are messages to `customerID` without the personal fields: the customer id
    /// becomes `pseudonym`; the address, heading, body and text go; the message id, workflow, occurrence, channel,
    /// template and times stay. The file is replaced whole (a new file with the old one's permissions, renamed over
    /// it) under the lock the `file` provider appends under; the provider, and another erasure, that waited for the
    /// lock on the old file notice it was replaced and open the new one. A torn last line (a crash mid-append) is
    /// kept as it is, for the provider to cut. Returns the number of lines rewritten.
    @discardableResult
    public static func erase(customerID: String, pseudonym: String, in path: String) throws -> Int {
        while true {
            guard FileManager.default.fileExists(atPath: path) else { return 0 }
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw failure("cannot open", path) }
            defer { close(fd) }
            guard flock(fd, LOCK_EX) == 0 else { throw failure("cannot lock", path) }
            defer { flock(fd, LOCK_UN) }
            guard FileIdentity.isCurrent(fd, path: path) else { continue }
            return try rewrite(fd, path: path, customerID: customerID, pseudonym: pseudonym)
        }
    }

    /// The rewrite of `erase`, the file open and locked as `fd`.
    static func rewrite(_ fd: Int32, path: String, customerID: String, pseudonym: String) throws -> Int {
        let data = try FileHandle(fileDescriptor: fd, closeOnDealloc: false).readToEnd() ?? Data()
        let (lines, torn) = split(data)
        var out = Data()
        out.reserveCapacity(data.count)
        var rewritten = 0
        for line in lines {
            if isMessage(line, to: customerID), let erased = erasedLine(line, pseudonym: pseudonym) {
                out.append(contentsOf: erased.utf8)
                rewritten += 1
            } else {
                out.append(line)
            }
            out.append(UInt8(ascii: "\n"))
        }
        guard rewritten > 0 else { return 0 }
        out.append(torn)
        var template = Array((path + ".erasing.XXXXXX").utf8CString)
        let tfd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard tfd >= 0 else { throw failure("cannot create a file beside", path) }
        let temporary = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let mode = FileIdentity.mode(of: fd)
        let written =
            FileIdentity.writeAll(tfd, out) && (mode.map { fchmod(tfd, mode_t($0)) == 0 } ?? true) && fsync(tfd) == 0
        close(tfd)
        guard written, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw failure("cannot write", path)
        }
        let directory = open(URL(fileURLWithPath: path).deletingLastPathComponent().path, O_RDONLY | O_CLOEXEC)
        if directory >= 0 {
            fsync(directory)
            close(directory)
        }
        return rewritten
    }

    /// The complete lines of `data`, and what follows the last newline: a torn line, cut short by a crash (empty
    /// when the file ends with a newline).
    static func split(_ data: Data) -> (lines: [Data], torn: Data) {
        var lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { Data($0) }
        let torn = lines.removeLast()
        return (lines, torn)
    }

    static func object(_ line: Data) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: line)) as? [String: Any]
    }

    static func isMessage(_ line: Data, to customerID: String) -> Bool {
        // Most lines are someone else's: look for the id's text before parsing.
        guard line.range(of: Data(customerID.utf8)) != nil || customerID.utf8.contains(where: { $0 == 0x22 || $0 == 0x5C || $0 > 0x7E })
        else { return false }
        return object(line)?["customer"] as? String == customerID
    }

    /// The line without its personal fields, `id` first as the provider writes it.
    static func erasedLine(_ line: Data, pseudonym: String) -> String? {
        guard let object = object(line) else { return nil }
        let kept = ["id", "workflow", "customer", "occurrence", "channel", "template", "due", "sent_at"]
        return JSONText.object(
            kept.map { key in (key, key == "customer" ? pseudonym : object[key] as? String) } + [("erased", true)])
    }

    static func failure(_ what: String, _ path: String) -> Failure {
        Failure(description: "\(what) \(path): \(String(cString: strerror(errno)))")
    }

    /// A file that could not be read or rewritten.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }
}
