import Foundation
import GRDB
import NudgeLanguage
import Testing

@testable import NudgeStore
import NudgeCore

/// The byte-level field handling of the importer agrees with the `String` code it stands in for.
@Suite("Field text")
struct FieldTextTests {
    /// What the importer did before: decode (repairing ill-formed UTF-8), trim with Foundation, empty is nil.
    static func reference(_ bytes: [UInt8]) -> String? {
        let text = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespaces)
        return text.isEmpty ? nil : text
    }

    static func field(_ bytes: [UInt8]) -> String? {
        bytes.withUnsafeBufferPointer { FieldText($0)?.string }
    }

    static let samples: [[UInt8]] = {
        var texts = [
            "", " ", "\t", "Ann", " Ann ", "\tAnn\t", "Chloé", " Chloé Chen ", "\u{A0}Ann", "Ann\u{A0}",
            "\u{200B}x\u{200B}",
            "\u{3000}全角\u{3000}", "\u{2009}thin", "\u{1680}ogham", "\u{202F}\u{205F}", "a\u{301}", " \u{301}",
            "é\u{A0} ",
            "tab\tinside", "multi\nline", "\r\n", "🎉", " 🎉 ", "\u{85}next", "\u{FEFF}bom", "\u{2028}",
        ].map { Array($0.utf8) }
        texts += [
            [0xFF], [0x41, 0xFF, 0x42], [0x20, 0xC3], [0xC3, 0x20], [0xE2, 0x80], [0xED, 0xA0, 0x80],
            [0xF4, 0x90, 0x80, 0x80],
        ]
        texts += [[0xC0, 0x80], [0xF0, 0x9F, 0x8E], [0x20, 0xE2, 0x80, 0x89, 0xFF]]
        return texts
    }()

    @Test("trims and decodes every field as Foundation did")
    func trimming() {
        for sample in Self.samples {
            #expect(Self.field(sample) == Self.reference(sample), "\(sample)")
        }
    }

    @Test("checks plain ASCII values on bytes exactly as the string checks do")
    func asciiChecks() {
        let emails = [
            "a@b.c", "a.b@c.d", "x@y", "@x.com", "a@.com", "a@b.", "a b@c.com", "a@b@c.com", "a;b@c.com", "a,b@c.com",
            "a@b..c",
            "a@b.c.", ".a@b.c", "a@", "@", "a@.", "a@b.c.d", "A@B.CO",
        ]
        for email in emails {
            #expect(
                Array(email.utf8).withUnsafeBufferPointer(RowWriter.isEmail) == RowWriter.isEmail(email), "\(email)")
        }
        let phones = [
            "+14155550123", "+1", "+12", "+123456789012345", "+1234567890123456", "+0123", "14155550123", "+1 415",
            "++1", "+",
        ]
        for phone in phones {
            #expect(Array(phone.utf8).withUnsafeBufferPointer(RowWriter.isE164) == RowWriter.isE164(phone), "\(phone)")
        }
        let words = [
            "true", "TRUE", "True", "false", "FaLsE", "yes", "YES", "no", "No", "1", "0", "y", "n", "2", "truee",
            "nope", "t",
        ]
        for word in words {
            #expect(
                Array(word.utf8).withUnsafeBufferPointer(RowWriter.booleanWord)
                    == RowWriter.booleanWords[word.lowercased()],
                "\(word)")
        }
        let amounts = [
            "4.50", "12", ".5", "0.005", "1.0049", "+3", "-2.5", "-.5", "123456789012345", "1234567890123456",
            "00012.30", "5.",
            "1e3", "$5", "1.2.3", "-", ".", "+", "+-5", "--5", "1,5", "1.", "٣", "9.995", "-0.004", "12.345678",
        ]
        for amount in amounts {
            #expect(Array(amount.utf8).withUnsafeBufferPointer(RowWriter.cents) == RowWriter.cents(amount), "\(amount)")
        }
        let births = [
            "1990-07-04", "--07-04", "--02-29", "--02-30", "--13-01", "--00-10", "--+1-05", "--1-05", "--07-4",
            "1991-02-29",
            "07-04", "1990/07/04", "--04-31", "--12-31", "0001-01-01", "--07-04x",
        ]
        for birth in births {
            let bytes = Array(birth.utf8)
            let fast = bytes.withUnsafeBufferPointer { RowWriter.birthDate(FieldText($0)!) }
            #expect(fast == BirthDate(parsing: birth), "\(birth)")
        }
    }

    @Test("writes JSON strings as JSONText.quote does")
    func json() {
        for text in [
            "plain", "say \"hi\"", "back\\slash", "line\nbreak", "cr\r", "tab\t", "\u{01}\u{1F}", "é🎉", "\u{7F}",
        ] {
            let buffer = ByteBuffer(capacity: 1)
            Array(text.utf8).withUnsafeBufferPointer { FieldText.appendJSON($0, to: buffer) }
            #expect(String(decoding: buffer.bytes, as: UTF8.self) == JSONText.quote(text), "\(text)")
        }
    }

    @Test("stores Unicode-padded and ill-formed values as the string code did")
    func importedValues() async throws {
        let workspace = try Workspace()
        var bytes = Array("id,name,tags,note,signed_up_at\n".utf8)
        bytes += Array("\u{A0}c1\u{200B},".utf8) + [0x41, 0xFF, 0x6E, 0x20, 0x20] + Array(",\u{3000}vip ; é ;,".utf8)
        bytes += Array("\"say \"\"hi\"\"\u{A0}\",2025-01-10\u{2009}\n".utf8)
        let path = workspace.path("unicode.csv")
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        _ = try workspace.database.importCSV(
            .customers, path: path, options: workspace.options(displayPath: "unicode.csv"))
        let customer = try #require(try workspace.customer("c1"))
        #expect(customer.name == "A\u{FFFD}n")
        #expect(customer.tags == ["vip", "é"])
        #expect(customer.attributes == ["note": "say \"hi\""])
        #expect(ISO8601.format(customer.signedUpAt) == "2025-01-10T05:00:00Z")
    }
}
