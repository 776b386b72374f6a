import Logging
import NIOCore
import PostgresNIO

/// Rows in COPY's text format: fields separated by tabs, `\N` for NULL, backslash escapes for the rest.
struct CopyText: Sendable {
    var buffer = ByteBuffer()
    var rows = 0

    /// The size of the pieces `COPY` is fed in: big enough that a write costs little, small enough that a broadcast's
    /// rows are never all in memory twice.
    static let chunkSize = 1 << 20

    /// Whether the text has reached a piece's size and should be sent.
    var isFull: Bool { buffer.readableBytes >= Self.chunkSize }

    mutating func row(_ fields: [String?]) {
        for (index, field) in fields.enumerated() {
            if index > 0 { buffer.writeInteger(UInt8(ascii: "\t")) }
            guard var field else {
                buffer.writeStaticString("\\N")
                continue
            }
            field.withUTF8 { append($0) }
        }
        buffer.writeInteger(UInt8(ascii: "\n"))
        rows += 1
    }

    /// A row of text bytes (nil for NULL), as `textPage` gives them.
    mutating func row(bytes fields: [UnsafeBufferPointer<UInt8>?]) {
        for (index, field) in fields.enumerated() {
            if index > 0 { buffer.writeInteger(UInt8(ascii: "\t")) }
            guard let field else {
                buffer.writeStaticString("\\N")
                continue
            }
            append(field)
        }
        buffer.writeInteger(UInt8(ascii: "\n"))
        rows += 1
    }

    /// Appends one field's bytes escaped: runs without a byte to escape are copied whole.
    private mutating func append(_ field: UnsafeBufferPointer<UInt8>) {
        var start = 0
        for (offset, byte) in field.enumerated() {
            let escaped: StaticString
            switch byte {
            case UInt8(ascii: "\\"): escaped = "\\\\"
            case UInt8(ascii: "\n"): escaped = "\\n"
            case UInt8(ascii: "\r"): escaped = "\\r"
            case UInt8(ascii: "\t"): escaped = "\\t"
            default: continue
            }
            buffer.writeBytes(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: field[start..<offset])))
            buffer.writeStaticString(escaped)
            start = offset + 1
        }
        buffer.writeBytes(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: field[start...])))
    }
}

extension PostgresConnection {
    /// Streams `text` into `table` with `COPY … FROM STDIN`, in chunks of 1 MiB.
    func copy(_ text: CopyText, into table: String, columns: [String], logger: Logger) async throws {
        guard text.rows > 0 else { return }
        try await copyFrom(table: table, columns: columns, logger: logger) { writer in
            var remaining = text.buffer
            while remaining.readableBytes > 0 {
                guard let chunk = remaining.readSlice(length: min(CopyText.chunkSize, remaining.readableBytes)) else { break }
                try await writer.write(chunk)
            }
        }
    }
}
