import Foundation

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
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private var position = 0
    private var isAtEOF = false
    private var line = 1
    /// Bytes consumed so far, for progress.
    public private(set) var bytesRead = 0
    /// The file's size in bytes.
    public let totalBytes: Int
    private let chunkSize = 1 << 20

    /// Opens `path` for reading.
    public init(path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: path])
        }
        self.handle = handle
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        totalBytes = (attributes?[.size] as? NSNumber)?.intValue ?? 0
        try fill()
        if buffer.count >= 3, buffer[0] == 0xEF, buffer[1] == 0xBB, buffer[2] == 0xBF {
            position = 3
            bytesRead = 3
        }
    }

    private mutating func fill() throws {
        guard !isAtEOF else { return }
        if position > 0 {
            buffer.removeFirst(position)
            position = 0
        }
        let data = try handle.read(upToCount: chunkSize) ?? Data()
        if data.isEmpty { isAtEOF = true }
        buffer.append(contentsOf: data)
    }

    private mutating func peek() throws -> UInt8? {
        if position >= buffer.count {
            try fill()
            if position >= buffer.count { return nil }
        }
        return buffer[position]
    }

    private mutating func take() throws -> UInt8? {
        guard let byte = try peek() else { return nil }
        position += 1
        bytesRead += 1
        return byte
    }

    /// The next record, or nil at the end of the file. Blank lines are skipped.
    public mutating func next() throws -> CSVRecord? {
        while true {
            guard let first = try peek() else { return nil }
            if first == UInt8(ascii: "\n") {
                _ = try take()
                line += 1
                continue
            }
            if first == UInt8(ascii: "\r") {
                _ = try take()
                if try peek() == UInt8(ascii: "\n") { _ = try take() }
                line += 1
                continue
            }
            break
        }
        let startLine = line
        var fields: [String] = []
        var field: [UInt8] = []
        var quoted = false
        var afterQuote = false
        while true {
            guard let byte = try take() else {
                if quoted { throw CSVSyntaxError(line: startLine, message: "unterminated quoted field") }
                fields.append(String(decoding: field, as: UTF8.self))
                return CSVRecord(fields: fields, line: startLine)
            }
            if quoted {
                if byte == UInt8(ascii: "\"") {
                    if try peek() == UInt8(ascii: "\"") {
                        _ = try take()
                        field.append(byte)
                    } else {
                        quoted = false
                        afterQuote = true
                    }
                } else {
                    if byte == UInt8(ascii: "\n") { line += 1 }
                    field.append(byte)
                }
                continue
            }
            switch byte {
            case UInt8(ascii: ","):
                fields.append(String(decoding: field, as: UTF8.self))
                field.removeAll(keepingCapacity: true)
                afterQuote = false
            case UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                if byte == UInt8(ascii: "\r"), try peek() == UInt8(ascii: "\n") { _ = try take() }
                line += 1
                fields.append(String(decoding: field, as: UTF8.self))
                return CSVRecord(fields: fields, line: startLine)
            case UInt8(ascii: "\""):
                if field.isEmpty && !afterQuote {
                    quoted = true
                } else {
                    throw CSVSyntaxError(line: line, message: "stray quote inside an unquoted field")
                }
            default:
                if afterQuote {
                    throw CSVSyntaxError(line: line, message: "text after a closing quote")
                }
                field.append(byte)
            }
        }
    }
}
