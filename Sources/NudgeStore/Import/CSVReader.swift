import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One CSV record and the line it starts on.
public struct CSVRecord: Sendable {
    /// The fields, unquoted.
    public var fields: [String]
    /// 1-based line number of the record's first line.
    public var line: Int
}

/// An error in the CSV syntax itself.
public struct CSVSyntaxError: Error, Sendable {
    public var line: Int
    public var message: String
}

/// A streaming RFC 4180 reader: reads the file in chunks, so memory does not grow with its size.
///
/// Quoted fields may hold commas, doubled quotes and line breaks; CRLF and LF both end records; a UTF-8
/// byte-order mark is skipped. Written by hand because the CSV packages at hand either load the whole file
/// or do not report line numbers, and both matter here.
public struct CSVReader {
    /// The scanner doing the work; `next()` turns its fields into strings, the importer reads them as bytes.
    let scanner: CSVScanner

    /// Bytes consumed so far, for progress.
    public var bytesRead: Int { scanner.bytesRead }
    /// The file's size in bytes.
    public var totalBytes: Int { scanner.totalBytes }

    /// Opens `path` for reading.
    public init(path: String) throws {
        scanner = try CSVScanner(path: path)
    }

    /// The next record, or nil at the end of the file. Blank lines are skipped.
    public mutating func next() throws -> CSVRecord? {
        guard try scanner.advance() else { return nil }
        let record = scanner.record
        return CSVRecord(fields: (0..<record.count).map { record.string($0) }, line: record.line)
    }
}

/// The fields of the current record as bytes, valid until the scanner advances.
struct RawRecord {
    /// The buffer the field offsets point into.
    let base: UnsafePointer<UInt8>
    /// Field `i` is `base[bounds[2 * i] ..< bounds[2 * i + 1]]`, already unquoted.
    let bounds: UnsafePointer<Int>
    /// How many fields.
    let count: Int
    /// 1-based line of the record's first line.
    let line: Int

    /// The bytes of field `i`, untrimmed.
    @inline(__always)
    func bytes(_ i: Int) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: base + bounds[2 * i], count: bounds[2 * i + 1] - bounds[2 * i])
    }

    /// Field `i` as a string, invalid UTF-8 repaired.
    func string(_ i: Int) -> String {
        String(decoding: bytes(i), as: UTF8.self)
    }

    /// Whether the record is one field of only spaces and tabs (a blank line, like an empty one).
    var isBlank: Bool {
        guard count == 1 else { return false }
        return bytes(0).allSatisfy { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
    }
}

/// The byte-level reader behind `CSVReader`: one buffer read from the file in chunks with `read(2)`, records
/// scanned in place (a record cut by the end of the buffer is scanned again once more bytes are in), doubled
/// quotes undone in place, fields handed out as offsets. Nothing is allocated per record.
final class CSVScanner {
    private let handle: FileHandle
    private let descriptor: Int32
    let totalBytes: Int
    private(set) var bytesRead = 0

    private var buffer: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    /// First byte not yet consumed.
    private var start = 0
    /// End of the bytes read.
    private var end = 0
    /// File offset of `buffer[0]`.
    private var offset = 0
    private var isAtEOF = false
    /// Line of `buffer[start]`.
    private var line = 1

    /// Two offsets per field of the current record.
    private var bounds: UnsafeMutablePointer<Int>
    private var boundsCapacity = 64
    private var fieldCount = 0
    private var recordLine = 0
    /// Fields of the current record holding doubled quotes, undone once the record is complete.
    private var escaped: [Int] = []

    static let chunkSize = 1 << 20

    init(path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: path])
        }
        self.handle = handle
        descriptor = handle.fileDescriptor
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        totalBytes = (attributes?[.size] as? NSNumber)?.intValue ?? 0
        capacity = Self.chunkSize
        buffer = .allocate(capacity: capacity)
        bounds = .allocate(capacity: 2 * boundsCapacity)
        while end < 3 && !isAtEOF { try fill() }
        if end >= 3, buffer[0] == 0xEF, buffer[1] == 0xBB, buffer[2] == 0xBF {
            start = 3
            bytesRead = 3
        }
    }

    deinit {
        buffer.deallocate()
        bounds.deallocate()
        try? handle.close()
    }

    /// The current record; valid until the next `advance()`.
    var record: RawRecord {
        RawRecord(base: buffer, bounds: bounds, count: fieldCount, line: recordLine)
    }

    /// Moves the unconsumed bytes to the front (growing the buffer when they fill it) and reads more.
    private func fill() throws {
        guard !isAtEOF else { return }
        if start > 0 {
            let remaining = end - start
            if remaining > 0 { memmove(buffer, buffer + start, remaining) }
            offset += start
            end = remaining
            start = 0
        }
        if end == capacity {
            let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity * 2)
            grown.update(from: buffer, count: end)
            buffer.deallocate()
            buffer = grown
            capacity *= 2
        }
        while true {
            let count = read(descriptor, buffer + end, min(capacity - end, Self.chunkSize))
            if count < 0 {
                if errno == EINTR { continue }
                throw CocoaError(.fileReadUnknown)
            }
            if count == 0 { isAtEOF = true }
            end += count
            return
        }
    }

    /// Reads the next record; false at the end of the file. Blank lines are skipped.
    func advance() throws -> Bool {
        while true {
            switch try scan() {
            case .record: return true
            case .end: return false
            case .needMore: try fill()
            }
        }
    }

    private enum Outcome { case record, end, needMore }

    @inline(__always)
    private func appendField(_ from: Int, _ to: Int) {
        if fieldCount == boundsCapacity {
            let grown = UnsafeMutablePointer<Int>.allocate(capacity: 4 * boundsCapacity)
            grown.update(from: bounds, count: 2 * boundsCapacity)
            bounds.deallocate()
            bounds = grown
            boundsCapacity *= 2
        }
        bounds[2 * fieldCount] = from
        bounds[2 * fieldCount + 1] = to
        fieldCount += 1
    }

    /// Scans one record from `start`. Nothing is consumed unless a whole record (or the end) is found.
    private func scan() throws(CSVSyntaxError) -> Outcome {
        let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ","), lf = UInt8(ascii: "\n"), cr = UInt8(ascii: "\r")
        let p = buffer
        let n = end
        var i = start
        var ln = line
        // Blank lines.
        while true {
            if i >= n {
                guard isAtEOF else { return .needMore }
                start = i
                line = ln
                bytesRead = offset + i
                return .end
            }
            let byte = p[i]
            if byte == lf {
                i += 1
            } else if byte == cr {
                if i + 1 >= n && !isAtEOF { return .needMore }
                i += 1
                if i < n && p[i] == lf { i += 1 }
            } else {
                break
            }
            ln += 1
            start = i
            line = ln
        }
        let startLine = ln
        fieldCount = 0
        escaped.removeAll(keepingCapacity: true)
        while true {
            // At the start of a field.
            if i >= n {
                guard isAtEOF else { return .needMore }
                appendField(i, i)
                return finish(i, ln, startLine)
            }
            if p[i] == quote {
                i += 1
                let contentStart = i
                var hasEscapes = false
                while true {
                    if i >= n {
                        guard isAtEOF else { return .needMore }
                        throw CSVSyntaxError(line: startLine, message: "unterminated quoted field")
                    }
                    let byte = p[i]
                    if byte == quote {
                        if i + 1 >= n && !isAtEOF { return .needMore }
                        if i + 1 < n && p[i + 1] == quote {
                            hasEscapes = true
                            i += 2
                            continue
                        }
                        break
                    }
                    if byte == lf { ln += 1 }
                    i += 1
                }
                if hasEscapes { escaped.append(fieldCount) }
                appendField(contentStart, i)
                i += 1
                // After the closing quote: a comma, a line end or the end of the file.
                if i >= n {
                    guard isAtEOF else { return .needMore }
                    return finish(i, ln, startLine)
                }
                let byte = p[i]
                if byte == comma {
                    i += 1
                    continue
                }
                if byte == lf || byte == cr {
                    if byte == cr && i + 1 >= n && !isAtEOF { return .needMore }
                    i += 1
                    if byte == cr && i < n && p[i] == lf { i += 1 }
                    return finish(i, ln + 1, startLine)
                }
                if byte == quote {
                    throw CSVSyntaxError(line: ln, message: "stray quote inside an unquoted field")
                }
                throw CSVSyntaxError(line: ln, message: "text after a closing quote")
            }
            let fieldStart = i
            while true {
                if i >= n {
                    guard isAtEOF else { return .needMore }
                    appendField(fieldStart, i)
                    return finish(i, ln, startLine)
                }
                let byte = p[i]
                if byte == comma {
                    appendField(fieldStart, i)
                    i += 1
                    break
                }
                if byte == lf || byte == cr {
                    if byte == cr && i + 1 >= n && !isAtEOF { return .needMore }
                    appendField(fieldStart, i)
                    i += 1
                    if byte == cr && i < n && p[i] == lf { i += 1 }
                    return finish(i, ln + 1, startLine)
                }
                if byte == quote {
                    throw CSVSyntaxError(line: ln, message: "stray quote inside an unquoted field")
                }
                i += 1
            }
        }
    }

    /// Consumes the record ending before `i` and undoes its doubled quotes.
    private func finish(_ i: Int, _ ln: Int, _ startLine: Int) -> Outcome {
        start = i
        line = ln
        recordLine = startLine
        bytesRead = offset + i
        for field in escaped {
            let from = bounds[2 * field], to = bounds[2 * field + 1]
            var write = from
            var read = from
            while read < to {
                buffer[write] = buffer[read]
                // A doubled quote inside a quoted field stands for one.
                read += buffer[read] == UInt8(ascii: "\"") ? 2 : 1
                write += 1
            }
            bounds[2 * field + 1] = write
        }
        return .record
    }
}
