public import Foundation
public import NudgeDelivery
import NudgeStore
import NudgeCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The embedded `file` provider: appends one JSON line per message to a file, fsynced.
///
/// Exactly once through crashes: appends happen under an exclusive `flock`; a torn last line (a crash
/// mid-write) is cut off before the next append; and a message whose earlier attempt may have written its
/// line before a crash is looked up in the file by its id and not written again. So is a message whose lease
/// has run out by the time the lock is held: another run may have claimed it and written it meanwhile.
public struct FileAdapter: ChannelAdapter {
    /// The file's path.
    public let path: String
    /// The wall clock, read once the file is locked to tell whether a message's lease has run out.
    public var clock: @Sendable () -> Date

    /// How long before its lease's end a message counts as possibly taken over (clock differences, rounding).
    static let leaseMarginMillis: Int64 = 1000

    public init(path: String, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.path = path
        self.clock = clock
    }

    public func deliver(_ message: OutboundMessage) async throws -> DeliveryReceipt {
        let results = await deliver(batch: [message])
        switch results[0] {
        case .success(let receipt): return receipt
        case .failure(let error): throw error
        }
    }

    public func deliver(batch: [OutboundMessage]) async -> [Result<DeliveryReceipt, DeliveryError>] {
        do {
            return try append(batch).map { .success($0) }
        } catch let error as DeliveryError {
            return batch.map { _ in .failure(error) }
        } catch {
            return batch.map { _ in .failure(.transient("cannot write \(path): \(error)")) }
        }
    }

    func append(_ batch: [OutboundMessage]) throws -> [DeliveryReceipt] {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let fd = try openLocked()
        defer { close(fd) }
        defer { flock(fd, LOCK_UN) }
        try cutTornLine(fd)
        // While the lock is held and a message's lease has not run out, no other run can have claimed (let alone
        // written) it; a later claimant counts a further attempt, so it looks the id up itself.
        let now = StoredInstant.millis(clock())
        var written = Set<String>()
        if batch.contains(where: { $0.isRetry || mayHaveBeenTakenOver($0, now: now) }) { written = try idsInFile(fd) }
        var data: [UInt8] = []
        var receipts: [DeliveryReceipt] = []
        for message in batch {
            if written.contains(message.id) {
                receipts.append(DeliveryReceipt(providerMessageID: "already-written"))
                continue
            }
            message.writeJSON(to: &data)
            data.append(UInt8(ascii: "\n"))
            written.insert(message.id)
            receipts.append(DeliveryReceipt())
        }
        if !data.isEmpty {
            guard FileIdentity.writeAll(fd, data) else {
                throw DeliveryError.transient("cannot write \(path): \(String(cString: strerror(errno)))")
            }
            guard fsync(fd) == 0 else {
                throw DeliveryError.transient("cannot sync \(path): \(String(cString: strerror(errno)))")
            }
        }
        return receipts
    }

    /// The file, open for appending under an exclusive lock. A file replaced while this waited for the lock (an
    /// erasure rewrites it into a new file) is opened again, so that nothing is appended to the old one.
    func openLocked() throws -> Int32 {
        while true {
            let fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw DeliveryError.transient("cannot open \(path): \(String(cString: strerror(errno)))") }
            guard flock(fd, LOCK_EX) == 0 else {
                let error = DeliveryError.transient("cannot lock \(path): \(String(cString: strerror(errno)))")
                close(fd)
                throw error
            }
            if FileIdentity.isCurrent(fd, path: path) {
                return fd
            }
            flock(fd, LOCK_UN)
            close(fd)
        }
    }

    /// Whether the message's lease has run out (or nearly), so that another run may have claimed it.
    func mayHaveBeenTakenOver(_ message: OutboundMessage, now: Int64) -> Bool {
        guard let expires = message.record.leaseExpiresAt else { return false }
        return now >= expires - Self.leaseMarginMillis
    }

    /// Truncates a last line that has no newline: it was cut short by a crash and was never delivered.
    func cutTornLine(_ fd: Int32) throws {
        let size = lseek(fd, 0, SEEK_END)
        guard size > 0 else { return }
        var last: UInt8 = 0
        guard pread(fd, &last, 1, size - 1) == 1 else { return }
        if last == UInt8(ascii: "\n") { return }
        // Find the last newline before the torn tail.
        var position = size - 1
        let chunk = 65_536
        var buffer = [UInt8](repeating: 0, count: chunk)
        var keep: off_t = 0
        search: while position > 0 {
            let start = max(0, position - off_t(chunk))
            let count = Int(position - start)
            let read = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, count, start) }
            guard read == count else { break }
            for i in stride(from: count - 1, through: 0, by: -1) where buffer[i] == UInt8(ascii: "\n") {
                keep = start + off_t(i) + 1
                break search
            }
            position = start
        }
        guard ftruncate(fd, keep) == 0 else {
            throw DeliveryError.transient("cannot repair \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// The ids of the complete lines in the file (each line starts with `{"id":"…"`).
    func idsInFile(_ fd: Int32) throws -> Set<String> {
        var ids = Set<String>()
        let prefix = Array("{\"id\":\"".utf8)
        var offset: off_t = 0
        var carry: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let read = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, $0.count, offset) }
            if read <= 0 { break }
            offset += off_t(read)
            var bytes = carry
            bytes.append(contentsOf: buffer[0..<read])
            var lineStart = 0
            for i in 0..<bytes.count where bytes[i] == UInt8(ascii: "\n") {
                let line = bytes[lineStart..<i]
                if line.starts(with: prefix) {
                    let rest = line.dropFirst(prefix.count)
                    if let end = rest.firstIndex(of: UInt8(ascii: "\"")) {
                        ids.insert(String(decoding: rest[rest.startIndex..<end], as: UTF8.self))
                    }
                }
                lineStart = i + 1
            }
            carry = Array(bytes[lineStart...])
        }
        return ids
    }
}
