import Foundation
import GRDB
import GRDBSQLite
import NudgeLanguage
import NudgeCore

/// A field's value trimmed as `trimmingCharacters(in: .whitespaces)` trims it, without Foundation on the common path.
///
/// Foundation's whitespace set is tab and the Unicode space separators (U+0020, U+00A0, U+1680, U+2000–U+200B,
/// U+202F, U+205F, U+3000). A field whose ends, once ASCII spaces and tabs are dropped, are ASCII bytes needs no
/// more trimming, and when it is also well-formed UTF-8 its bytes are exactly the trimmed string's UTF-8: those
/// fields stay bytes in the reader's buffer. Any other field (Unicode spaces at an end, ill-formed UTF-8) is decoded
/// and trimmed by Foundation as before.
enum FieldText {
    /// The trimmed bytes, well-formed UTF-8; `ascii` when every byte is printable ASCII (U+0020–U+007E), where
    /// one byte is one `Character` and byte-wise checks agree with the `String` ones.
    case bytes(UnsafeBufferPointer<UInt8>, ascii: Bool)
    /// Decoded and trimmed by Foundation.
    case string(String)

    /// The trimmed value of `raw`; nil when it is empty once trimmed.
    @inline(__always)
    init?(_ raw: UnsafeBufferPointer<UInt8>) {
        guard let base = raw.baseAddress, raw.count > 0 else { return nil }
        var low = 0
        var high = raw.count
        while low < high, base[low] == 0x20 || base[low] == 0x09 { low += 1 }
        if low == high { return nil }
        while base[high - 1] == 0x20 || base[high - 1] == 0x09 { high -= 1 }
        if base[low] < 0x80 && base[high - 1] < 0x80 {
            var printable = true
            for i in low..<high where base[i] < 0x20 || base[i] > 0x7E {
                printable = false
                break
            }
            let trimmed = UnsafeBufferPointer(start: base + low, count: high - low)
            if printable {
                self = .bytes(trimmed, ascii: true)
                return
            }
            if FieldText.isWellFormedUTF8(trimmed) {
                self = .bytes(trimmed, ascii: false)
                return
            }
        }
        let text = String(decoding: raw, as: UTF8.self).trimmingCharacters(in: .whitespaces)
        if text.isEmpty { return nil }
        self = .string(text)
    }

    /// The value as a string (for messages and the rare fields checked the `String` way).
    var string: String {
        switch self {
        case .bytes(let bytes, _): return String(decoding: bytes, as: UTF8.self)
        case .string(let text): return text
        }
    }

    /// The bytes when they are all printable ASCII.
    @inline(__always)
    var ascii: UnsafeBufferPointer<UInt8>? {
        if case .bytes(let bytes, true) = self { return bytes }
        return nil
    }

    /// Whether `bytes` are well-formed UTF-8 (Unicode Table 3-7), so that decoding them changes nothing.
    static func isWellFormedUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0
        let n = bytes.count
        @inline(__always) func continuation(_ at: Int, _ low: UInt8 = 0x80, _ high: UInt8 = 0xBF) -> Bool {
            at < n && bytes[at] >= low && bytes[at] <= high
        }
        while i < n {
            let lead = bytes[i]
            switch lead {
            case 0x00...0x7F:
                i += 1
            case 0xC2...0xDF:
                guard continuation(i + 1) else { return false }
                i += 2
            case 0xE0:
                guard continuation(i + 1, 0xA0), continuation(i + 2) else { return false }
                i += 3
            case 0xE1...0xEC, 0xEE...0xEF:
                guard continuation(i + 1), continuation(i + 2) else { return false }
                i += 3
            case 0xED:
                guard continuation(i + 1, 0x80, 0x9F), continuation(i + 2) else { return false }
                i += 3
            case 0xF0:
                guard continuation(i + 1, 0x90), continuation(i + 2), continuation(i + 3) else { return false }
                i += 4
            case 0xF1...0xF3:
                guard continuation(i + 1), continuation(i + 2), continuation(i + 3) else { return false }
                i += 4
            case 0xF4:
                guard continuation(i + 1, 0x80, 0x8F), continuation(i + 2), continuation(i + 3) else { return false }
                i += 4
            default:
                return false
            }
        }
        return true
    }

    /// Appends the value as a JSON string literal, exactly as `JSONText.quote` writes it.
    func appendJSON(to out: ByteBuffer) {
        switch self {
        case .bytes(let bytes, _): FieldText.appendJSON(bytes, to: out)
        case .string(let text): out.append(Array(JSONText.quote(text).utf8))
        }
    }

    /// `JSONText.quote` over well-formed UTF-8: only quotes, backslashes and control characters are escaped, and
    /// they are single bytes, so the other bytes pass through.
    static func appendJSON(_ bytes: UnsafeBufferPointer<UInt8>, to out: ByteBuffer) {
        out.append(UInt8(ascii: "\""))
        var plain = 0
        for (i, byte) in bytes.enumerated()
        where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
            out.append(UnsafeBufferPointer(rebasing: bytes[plain..<i]))
            plain = i + 1
            switch byte {
            case UInt8(ascii: "\""): out.append(UInt8(ascii: "\\"), UInt8(ascii: "\""))
            case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\"), UInt8(ascii: "\\"))
            case UInt8(ascii: "\n"): out.append(UInt8(ascii: "\\"), UInt8(ascii: "n"))
            case UInt8(ascii: "\r"): out.append(UInt8(ascii: "\\"), UInt8(ascii: "r"))
            case UInt8(ascii: "\t"): out.append(UInt8(ascii: "\\"), UInt8(ascii: "t"))
            default:
                let hex: StaticString = "0123456789abcdef"
                out.append(UInt8(ascii: "\\"), UInt8(ascii: "u"))
                out.append(UInt8(ascii: "0"), UInt8(ascii: "0"))
                out.append(hex.utf8Start[Int(byte >> 4)], hex.utf8Start[Int(byte & 15)])
            }
        }
        out.append(UnsafeBufferPointer(rebasing: bytes[plain...]))
        out.append(UInt8(ascii: "\""))
    }
}

/// A growable byte buffer at a stable address between writes, for values bound with `SQLITE_STATIC`: it is only
/// cleared and refilled for the next row, after the statement has run.
final class ByteBuffer {
    private(set) var base: UnsafeMutablePointer<UInt8>
    private(set) var count = 0
    private var capacity: Int

    init(capacity: Int = 256) {
        self.capacity = capacity
        base = .allocate(capacity: capacity)
    }

    deinit { base.deallocate() }

    var bytes: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: base, count: count) }

    @inline(__always)
    func removeAll() { count = 0 }

    @inline(__always)
    func append(_ byte: UInt8) {
        if count == capacity { grow(count + 1) }
        base[count] = byte
        count += 1
    }

    @inline(__always)
    func append(_ byte: UInt8, _ other: UInt8) {
        if count + 2 > capacity { grow(count + 2) }
        base[count] = byte
        base[count + 1] = other
        count += 2
    }

    func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress, bytes.count > 0 else { return }
        if count + bytes.count > capacity { grow(count + bytes.count) }
        (base + count).update(from: source, count: bytes.count)
        count += bytes.count
    }

    func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { append($0) }
    }

    private func grow(_ needed: Int) {
        var newCapacity = capacity * 2
        while newCapacity < needed { newCapacity *= 2 }
        let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        grown.update(from: base, count: count)
        base.deallocate()
        base = grown
        capacity = newCapacity
    }
}

/// Byte comparison of a stored key with a field.
@inline(__always)
func sameBytes(_ stored: [UInt8], _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    guard stored.count == bytes.count else { return false }
    return stored.withUnsafeBufferPointer { storedBytes in
        guard let left = storedBytes.baseAddress, let right = bytes.baseAddress else { return true }
        return memcmp(left, right, bytes.count) == 0
    }
}

/// Where a row's parameter values go: straight to a statement, or into a batch for another thread to bind.
protocol ParameterSink {
    mutating func bindNull(_ index: Int32)
    mutating func bind(_ index: Int32, _ value: Int64)
    /// Binds bytes that stay valid until the row has run (or, in a batch, are copied).
    mutating func bindStatic(_ index: Int32, _ bytes: UnsafeBufferPointer<UInt8>)
    mutating func bind(_ index: Int32, _ value: FieldText?)
}

/// A prepared statement driven through the SQLite C API: values are bound straight from the reader's buffer
/// (`SQLITE_STATIC`: the buffer does not change until the statement has run), with no `StatementArguments` boxing.
/// The `Statement` is kept alive here, so GRDB finalizes it.
struct RawStatement: ParameterSink {
    let statement: Statement
    let handle: OpaquePointer
    let connection: OpaquePointer?

    init(_ db: Database, sql: String) throws {
        statement = try db.makeStatement(sql: sql)
        handle = statement.sqliteStatement
        connection = db.sqliteConnection
    }

    private static let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)
    /// A NUL byte to point at for empty text (a null pointer would bind NULL).
    nonisolated(unsafe) private static let empty: UnsafePointer<CChar> = {
        let byte = UnsafeMutablePointer<CChar>.allocate(capacity: 1)
        byte.initialize(to: 0)
        return UnsafePointer(byte)
    }()

    @inline(__always)
    func bindNull(_ index: Int32) {
        sqlite3_bind_null(handle, index)
    }

    @inline(__always)
    func bind(_ index: Int32, _ value: Int64) {
        sqlite3_bind_int64(handle, index, value)
    }

    /// Binds bytes that stay valid until the statement has run.
    @inline(__always)
    func bindStatic(_ index: Int32, _ bytes: UnsafeBufferPointer<UInt8>) {
        let base = bytes.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) }
        sqlite3_bind_text(handle, index, base ?? RawStatement.empty, Int32(bytes.count), nil)
    }

    /// Binds a copy of `bytes`.
    func bindCopy(_ index: Int32, _ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { buffer in
            let base = buffer.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) }
            sqlite3_bind_text(handle, index, base ?? RawStatement.empty, Int32(buffer.count), RawStatement.transient)
        }
    }

    /// Binds a copy of `text`.
    func bindCopy(_ index: Int32, _ text: String) {
        var text = text
        text.withUTF8 { buffer in
            let base = buffer.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) }
            sqlite3_bind_text(handle, index, base ?? RawStatement.empty, Int32(buffer.count), RawStatement.transient)
        }
    }

    /// Binds `values` as text to parameters `first`, `first` + 1, …, NULL for nil.
    func bindTexts(_ values: [String?], from first: Int32 = 1) {
        for (index, value) in values.enumerated() {
            if let value { bindCopy(first + Int32(index), value) } else { bindNull(first + Int32(index)) }
        }
    }

    /// Binds a field value, NULL when absent.
    @inline(__always)
    func bind(_ index: Int32, _ value: FieldText?) {
        switch value {
        case nil: sqlite3_bind_null(handle, index)
        case .bytes(let bytes, _)?: bindStatic(index, bytes)
        case .string(let text)?: bindCopy(index, text)
        }
    }

    /// Runs the statement to its end.
    @inline(__always)
    func run() throws {
        let code = sqlite3_step(handle)
        if code != SQLITE_DONE && code != SQLITE_ROW { throw failure(code) }
        sqlite3_reset(handle)
    }

    /// Steps once: true on a row (read it with `column`, then `reset()`), false when there is none.
    @inline(__always)
    func step() throws -> Bool {
        let code = sqlite3_step(handle)
        if code == SQLITE_ROW { return true }
        if code == SQLITE_DONE {
            sqlite3_reset(handle)
            return false
        }
        throw failure(code)
    }

    @inline(__always)
    func reset() {
        sqlite3_reset(handle)
    }

    /// Column 0 of the current row as `String(cString:)` would read it (up to a NUL); nil when NULL.
    func textColumn() -> UnsafeBufferPointer<UInt8>? {
        guard sqlite3_column_type(handle, 0) != SQLITE_NULL, let text = sqlite3_column_text(handle, 0) else {
            return nil
        }
        return UnsafeBufferPointer(
            start: text, count: strlen(UnsafeRawPointer(text).assumingMemoryBound(to: CChar.self)))
    }

    /// Column `index` of the current row as text bytes (SQLite's text of a number), nil when NULL.
    @inline(__always)
    func text(_ index: Int32) -> UnsafeBufferPointer<UInt8>? {
        guard sqlite3_column_type(handle, index) != SQLITE_NULL else { return nil }
        // Asking for the text first, then its length, is the order SQLite documents for a converted value.
        let text = sqlite3_column_text(handle, index)
        return UnsafeBufferPointer(start: text, count: Int(sqlite3_column_bytes(handle, index)))
    }

    private func failure(_ code: Int32) -> DatabaseError {
        let message = connection.map { String(cString: sqlite3_errmsg($0)) }
        sqlite3_reset(handle)
        return DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: statement.sql)
    }
}
