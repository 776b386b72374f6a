public import Foundation
import NudgeDelivery

/// An email as RFC 5322 text, ready for SMTP `DATA`: 7-bit ASCII, CRLF line ends, header lines of at most 78
/// characters (non-ASCII subjects and names as RFC 2047 encoded words), and a `multipart/alternative` body with the
/// plain text first and the HTML second, both UTF-8 in quoted-printable (lines of at most 76 characters).
public struct MIMEMessage: Sendable {
    /// What the message says and to whom.
    public var content: EmailContent
    /// The `Date` header (the time of this attempt).
    public var date: Date
    /// The multipart boundary; it must not occur in the encoded parts (see `randomBoundary()`).
    public var boundary: String

    public init(_ content: EmailContent, date: Date, boundary: String) {
        self.content = content
        self.date = date
        self.boundary = boundary
    }

    /// A fresh boundary: `=_nudge_` and 32 hex digits. Quoted-printable text encodes every `=`, so a boundary that
    /// starts with `=_` can never occur inside a part.
    public static func randomBoundary() -> String {
        var generator = SystemRandomNumberGenerator()
        return "=_nudge_" + Runner.hex(generator.next()) + Runner.hex(generator.next())
    }

    /// `<OUTBOX_ID@sender-domain>`: the same on every attempt of one outbox message, so that the receiving side can
    /// tell a retried message from a new one.
    public var messageID: String {
        let domain = content.from.split(separator: "@").last.map(String.init) ?? "localhost"
        return "<\(Self.localPart(content.outboxID))@\(domain)>"
    }

    /// The whole message: headers, a blank line, the multipart body; every line ends with CRLF.
    public var text: String {
        var lines = [
            "Date: " + Self.dateText(date),
            MIMEHeader.mailbox("From", address: content.from, displayName: content.fromName),
            "To: " + MIMEHeader.singleLine(content.to),
        ]
        if let replyTo = content.replyTo { lines.append("Reply-To: " + MIMEHeader.singleLine(replyTo)) }
        lines += [
            MIMEHeader.unstructured("Subject", content.subject),
            "Message-ID: " + messageID,
            "MIME-Version: 1.0",
        ]
        for header in content.headers {
            lines.append("\(header.name): \(MIMEHeader.singleLine(header.value))")
        }
        lines += [
            "Content-Type: multipart/alternative;",
            " boundary=\"\(boundary)\"",
            "",
        ]
        for (subtype, body) in [("plain", content.text), ("html", content.html)] {
            lines += [
                "--" + boundary,
                "Content-Type: text/\(subtype); charset=utf-8",
                "Content-Transfer-Encoding: quoted-printable",
                "",
                QuotedPrintable.encode(body),
            ]
        }
        lines.append("--\(boundary)--")
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// `text` as SMTP `DATA` sends it (RFC 5321 4.5.2): a line that starts with `.` gets another `.`, the text ends
    /// with CRLF, and the terminating `.` line follows.
    public static func dotStuffed(_ text: String) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(text.utf8.count + 16)
        var atLineStart = true
        for byte in text.utf8 {
            if atLineStart && byte == UInt8(ascii: ".") { output.append(byte) }
            output.append(byte)
            atLineStart = byte == UInt8(ascii: "\n")
        }
        if !atLineStart { output += Array("\r\n".utf8) }
        output += Array(".\r\n".utf8)
        return output
    }

    /// An RFC 5322 date in UTC, e.g. `Wed, 25 Nov 2026 10:00:00 +0000`.
    static func dateText(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: date)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int?) -> String { String(format: "%02d", value ?? 0) }
        return "\(days[((parts.weekday ?? 1) - 1) % 7]), \(two(parts.day)) \(months[((parts.month ?? 1) - 1) % 12]) "
            + "\(parts.year ?? 1970) \(two(parts.hour)):\(two(parts.minute)):\(two(parts.second)) +0000"
    }

    /// The outbox id as the local part of a Message-ID: letters, digits, `-` and `_` as they are, any other byte as
    /// `=XX` (so distinct ids stay distinct).
    static func localPart(_ id: String) -> String {
        var output = ""
        for byte in id.utf8 {
            let scalar = Unicode.Scalar(byte)
            if byte < 0x80
                && (CharacterSet.alphanumerics.contains(scalar) || byte == UInt8(ascii: "-")
                    || byte == UInt8(ascii: "_"))
            {
                output.unicodeScalars.append(scalar)
            } else {
                output += "=" + hexByte(byte)
            }
        }
        return output.isEmpty ? "nudge" : output
    }

    static func hexByte(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF".utf8)
        return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 0xF)]], as: UTF8.self)
    }
}

/// Header fields as RFC 5322 and RFC 2047 want them: lines of at most 78 characters, non-ASCII text in encoded words.
enum MIMEHeader {
    /// The longest header line written.
    static let lineLimit = 78
    /// The longest encoded word (RFC 2047 section 2).
    static let wordLimit = 75

    /// `Name: value` for free text (Subject): printable ASCII folded at spaces, anything else (or a word too long
    /// to fold) as UTF-8 base64 encoded words, one per line.
    static func unstructured(_ name: String, _ value: String) -> String {
        let value = singleLine(value)
        if isPlain(value), let folded = foldAtSpaces("\(name): \(value)", after: name.utf8.count + 1) {
            return folded
        }
        return "\(name): " + encodedWords(value, firstLimit: lineLimit - name.utf8.count - 2).joined(separator: "\r\n ")
    }

    /// `Name: address` or `Name: display name <address>`, the name as an atom phrase, a quoted string or encoded
    /// words.
    static func mailbox(_ name: String, address: String, displayName: String?) -> String {
        let displayName = displayName.map(singleLine) ?? ""
        guard !displayName.isEmpty else { return "\(name): \(address)" }
        if isPlain(displayName) {
            let line = "\(name): \(phrase(displayName)) <\(address)>"
            if line.utf8.count <= lineLimit { return line }
        }
        var lines = encodedWords(displayName, firstLimit: lineLimit - name.utf8.count - 2)
        lines[0] = "\(name): " + lines[0]
        let last = lines.count - 1
        if lines[last].utf8.count + address.utf8.count + 3 <= lineLimit {
            lines[last] += " <\(address)>"
        } else {
            lines.append("<\(address)>")
        }
        return lines.joined(separator: "\r\n ")
    }

    /// `text` with line breaks and tabs turned into spaces: a header value never starts a new header line.
    static func singleLine(_ text: String) -> String {
        guard text.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\t" || $0 == "\r\n" }) else { return text }
        return String(text.map { $0 == "\r" || $0 == "\n" || $0 == "\t" || $0 == "\r\n" ? " " : $0 })
    }

    /// Printable ASCII that no reader would take for an encoded word.
    static func isPlain(_ text: String) -> Bool {
        text.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F } && !text.contains("=?")
    }

    /// A display name as it may stand before `<address>`: atoms separated by spaces as they are, anything else
    /// quoted.
    static func phrase(_ text: String) -> String {
        let atext = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~ ".utf8)
        let isAtoms =
            text.utf8.allSatisfy(atext.contains) && !text.hasPrefix(" ") && !text.hasSuffix(" ")
            && !text.contains("  ")
        if isAtoms { return text }
        return "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            + "\""
    }

    /// `line` folded before single spaces so that no line exceeds 78 characters; nil when some word is too long.
    /// Folding never happens at or before byte `after` (the header name and its colon).
    static func foldAtSpaces(_ line: String, after: Int) -> String? {
        var rest = Array(line.utf8)[...]
        var lines: [String] = []
        var minimum = after + 1
        while rest.count > lineLimit {
            let start = rest.startIndex
            // The last space within the limit that has a non-space on both sides.
            guard
                let space = (start + minimum..<start + lineLimit + 1).last(where: { index in
                    rest[index] == 0x20 && rest[index - 1] != 0x20 && index + 1 < rest.endIndex
                        && rest[index + 1] != 0x20
                })
            else { return nil }
            lines.append(String(decoding: rest[..<space], as: UTF8.self))
            rest = rest[space...]
            minimum = 1
        }
        lines.append(String(decoding: rest, as: UTF8.self))
        return lines.joined(separator: "\r\n")
    }

    /// `text` as `=?UTF-8?B?…?=` encoded words: the first at most `firstLimit` characters long, the others at most
    /// 75; each holds whole UTF-8 sequences (a character is never split across two words).
    static func encodedWords(_ text: String, firstLimit: Int) -> [String] {
        // "=?UTF-8?B?" and "?=" take 12 characters; base64 turns 3 bytes into 4 characters.
        func capacity(_ limit: Int) -> Int { max(1, (min(limit, wordLimit) - 12) / 4) * 3 }
        func word(_ bytes: [UInt8]) -> String { "=?UTF-8?B?" + Data(bytes).base64EncodedString() + "?=" }
        var words: [String] = []
        var chunk: [UInt8] = []
        var room = capacity(firstLimit)
        for scalar in text.unicodeScalars {
            let bytes = Array(String(scalar).utf8)
            if chunk.count + bytes.count > room, !chunk.isEmpty {
                words.append(word(chunk))
                chunk = []
                room = capacity(wordLimit)
            }
            chunk += bytes
        }
        if !chunk.isEmpty || words.isEmpty { words.append(word(chunk)) }
        return words
    }
}

/// Quoted-printable (RFC 2045 section 6.7) for UTF-8 text.
enum QuotedPrintable {
    /// The longest encoded line, soft line break included.
    static let lineLimit = 76

    /// `text` encoded: line breaks (LF, CRLF or CR) become CRLF; printable ASCII but `=` stays as it is; spaces and
    /// tabs stay unless they end a line; every other byte is `=XX`; longer lines end in a soft break (`=`).
    static func encode(_ text: String) -> String {
        let normalized = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        var output: [String] = []
        for line in normalized.split(separator: "\n", omittingEmptySubsequences: false) {
            let bytes = Array(line.utf8)
            var current = ""
            for (index, byte) in bytes.enumerated() {
                let isLast = index == bytes.count - 1
                let token: String
                switch byte {
                case 0x20, 0x09:
                    token = isLast ? "=" + MIMEMessage.hexByte(byte) : String(UnicodeScalar(byte))
                case 33...126 where byte != UInt8(ascii: "="):
                    token = String(UnicodeScalar(byte))
                default:
                    token = "=" + MIMEMessage.hexByte(byte)
                }
                // A line that goes on needs room for the soft break; the line's last token does not.
                let room = isLast ? lineLimit : lineLimit - 1
                if current.utf8.count + token.utf8.count > room {
                    output.append(current + "=")
                    current = ""
                }
                current += token
            }
            output.append(current)
        }
        return output.joined(separator: "\r\n")
    }
}
