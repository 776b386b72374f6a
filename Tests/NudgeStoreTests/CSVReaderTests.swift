import Foundation
import Testing

@testable import NudgeStore

@Suite("CSV reader")
struct CSVReaderTests {
    let workspace: Workspace

    init() throws {
        workspace = try Workspace()
    }

    /// Every record of `text`, read through a real file.
    func records(_ text: String) throws -> [CSVRecord] {
        try records(bytes: Array(text.utf8))
    }

    func records(bytes: [UInt8]) throws -> [CSVRecord] {
        let path = workspace.path("input-\(UUID().uuidString).csv")
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        var reader = try CSVReader(path: path)
        var result: [CSVRecord] = []
        while let record = try reader.next() { result.append(record) }
        return result
    }

    /// The CSVSyntaxError that reading all of `text` throws.
    func syntaxError(_ text: String) throws -> CSVSyntaxError? {
        do {
            _ = try records(text)
            return nil
        } catch let error as CSVSyntaxError {
            return error
        }
    }

    @Test("reads plain fields and numbers records from line 1")
    func plainFields() async throws {
        let result = try records("id,name\nc1,Ann\nc2,Bo\n")
        #expect(result.map(\.fields) == [["id", "name"], ["c1", "Ann"], ["c2", "Bo"]])
        #expect(result.map(\.line) == [1, 2, 3])
    }

    @Test("keeps commas inside quoted fields")
    func quotedCommas() async throws {
        let result = try records("a,\"b, c\",d\n\"x,y\",,\"\"\n")
        #expect(result.map(\.fields) == [["a", "b, c", "d"], ["x,y", "", ""]])
    }

    @Test("turns doubled quotes into one quote")
    func doubledQuotes() async throws {
        let result = try records("\"say \"\"hi\"\"\",\"\"\"\",x\n")
        #expect(result.map(\.fields) == [["say \"hi\"", "\"", "x"]])
    }

    @Test("keeps line breaks in quoted fields and numbers the following records by their real line")
    func embeddedNewlines() async throws {
        let text = "id,note\n1,\"line one\nline two\nline three\"\n2,plain\n3,\"a\r\nb\"\r\n4,last"
        let result = try records(text)
        #expect(
            result.map(\.fields) == [
                ["id", "note"], ["1", "line one\nline two\nline three"], ["2", "plain"], ["3", "a\r\nb"],
                ["4", "last"],
            ])
        #expect(result.map(\.line) == [1, 2, 5, 6, 8])
    }

    @Test("treats CRLF as a record end and keeps no carriage return in fields")
    func crlf() async throws {
        let result = try records("a,b\r\nc,d\r\n\r\ne,\r\n")
        #expect(result.map(\.fields) == [["a", "b"], ["c", "d"], ["e", ""]])
        #expect(result.map(\.line) == [1, 2, 4])
    }

    @Test("reads a last record without a final line break")
    func noFinalNewline() async throws {
        let result = try records("a,b\nc,")
        #expect(result.map(\.fields) == [["a", "b"], ["c", ""]])
    }

    @Test("skips a UTF-8 byte-order mark")
    func byteOrderMark() async throws {
        let result = try records("\u{FEFF}id,name\nc1,Zoë\n")
        #expect(result.map(\.fields) == [["id", "name"], ["c1", "Zoë"]])
        #expect(result[0].fields[0].unicodeScalars.count == 2)
    }

    @Test("counts every byte as read at the end, byte-order mark included")
    func bytesReadWithBOM() async throws {
        let text = "\u{FEFF}id,name\nc1,Zoë\n"
        let path = try workspace.write("bom.csv", text)
        var reader = try CSVReader(path: path)
        #expect(reader.totalBytes == 19)
        while try reader.next() != nil {}
        #expect(reader.bytesRead == 19)
    }

    @Test("skips blank lines but counts them")
    func blankLines() async throws {
        let result = try records("\n\na,b\n\n\r\nc,d\n\n\n")
        #expect(result.map(\.fields) == [["a", "b"], ["c", "d"]])
        #expect(result.map(\.line) == [3, 6])
    }

    @Test("reads nothing from an empty file or one of blank lines")
    func emptyFile() async throws {
        #expect(try records("").isEmpty)
        #expect(try records("\n\r\n\n").isEmpty)
        #expect(try records("\u{FEFF}").isEmpty)
    }

    @Test("reports an unterminated quote at the line where the field starts")
    func unterminatedQuote() async throws {
        let error = try #require(try syntaxError("a,b\n1,2\n3,\"never closed\n4,5\n6,7\n"))
        #expect(error.line == 3)
        #expect(error.message == "unterminated quoted field")
    }

    @Test("reports a stray quote inside an unquoted field with its line")
    func strayQuote() async throws {
        let error = try #require(try syntaxError("a,b\nab\"c,d\n"))
        #expect(error.line == 2)
        #expect(error.message == "stray quote inside an unquoted field")
    }

    @Test("reports text after a closing quote with its line")
    func textAfterQuote() async throws {
        let error = try #require(try syntaxError("a,b\n\"x\ny\"z,d\n"))
        #expect(error.line == 3)
        #expect(error.message == "text after a closing quote")
    }

    @Test("throws for a file that does not exist")
    func missingFile() {
        #expect(throws: (any Error).self) {
            _ = try CSVReader(path: workspace.path("nope.csv"))
        }
    }

    @Test(
        "reads a file far larger than its 1 MiB chunk completely, with the right line numbers",
        arguments: ["\n", "\r\n"])
    func largeFile(lineEnding: String) async throws {
        // Every 7th record holds a quoted field with a line break, a comma and a doubled quote, so the chunk
        // boundaries fall inside quoted fields, escapes and line endings alike.
        var text = "id,note,amount" + lineEnding
        var expectedLines: [Int] = [1]
        var line = 2
        let count = 50_000
        for n in 1...count {
            expectedLines.append(line)
            if n % 7 == 0 {
                text += "c\(n),\"multi\(lineEnding)line, \"\"quoted\"\" \(n)\",\(n).50" + lineEnding
                line += 2
            } else {
                text += "c\(n),plain note for customer number \(n),\(n).25" + lineEnding
                line += 1
            }
        }
        #expect(text.utf8.count > 2 << 20)
        let path = try workspace.write("large.csv", text)
        var reader = try CSVReader(path: path)
        var result: [CSVRecord] = []
        while let record = try reader.next() { result.append(record) }

        #expect(result.count == count + 1)
        #expect(result.map(\.line) == expectedLines)
        #expect(result.allSatisfy { $0.fields.count == 3 })
        #expect(result[49_994].fields == ["c49994", "multi\(lineEnding)line, \"quoted\" 49994", "49994.50"])
        #expect(result[50_000].fields == ["c50000", "plain note for customer number 50000", "50000.25"])
        #expect(result.last?.line == 50_000 + count / 7 + 1)
        #expect(reader.bytesRead == text.utf8.count)
        #expect(reader.totalBytes == text.utf8.count)
    }

    /// A file whose byte at offset `1 MiB - 1` is the first byte of `token`, so the token straddles two chunks.
    func straddling(_ token: String, before prefix: String, after suffix: String) -> [UInt8] {
        let boundary = (1 << 20) - 1
        let padding = boundary - prefix.utf8.count
        return Array((prefix + String(repeating: "p", count: padding) + token + suffix).utf8)
    }

    @Test("joins a CRLF split across the chunk boundary")
    func crlfAcrossChunks() async throws {
        let bytes = straddling("\r\n", before: "a,b\r\nx,", after: "y,z\r\n")
        #expect(bytes[(1 << 20) - 1] == UInt8(ascii: "\r"))
        let result = try records(bytes: bytes)
        #expect(result.count == 3)
        #expect(result.map(\.line) == [1, 2, 3])
        #expect(result[1].fields[1] == String(repeating: "p", count: (1 << 20) - 1 - 7))
        #expect(result[2].fields == ["y", "z"])
    }

    @Test("joins a doubled quote split across the chunk boundary")
    func doubledQuoteAcrossChunks() async throws {
        let bytes = straddling("\"\"", before: "a,b\nx,\"", after: "tail\"\ny,z\n")
        let result = try records(bytes: bytes)
        #expect(result.count == 3)
        #expect(result[1].fields[1] == String(repeating: "p", count: (1 << 20) - 1 - 7) + "\"tail")
        #expect(result[2].fields == ["y", "z"])
        #expect(result[2].line == 3)
    }

    @Test("decodes a multi-byte character split across the chunk boundary")
    func utf8AcrossChunks() async throws {
        let bytes = straddling("é", before: "\u{FEFF}a,b\nx,", after: "!\ny,z\n")
        let result = try records(bytes: bytes)
        #expect(result.count == 3)
        #expect(result[0].fields == ["a", "b"])
        #expect(result[1].fields[1].hasSuffix("pé!"))
        #expect(result[2].fields == ["y", "z"])
    }
}
