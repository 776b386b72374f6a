import Foundation
public import NudgeDelivery
import NudgeStore
public import NudgeEngine
import NudgeCore

/// An email as every email adapter sends it: addresses, subject, HTML and plain-text bodies, and the headers that
/// tie it back to the outbox (`X-Nudge-Id`) and let the customer leave (`List-Unsubscribe`, RFC 8058 one-click).
public struct EmailContent: Sendable, Hashable {
    /// The sender's address and optional display name.
    public var from: String
    public var fromName: String?
    public var replyTo: String?
    public var to: String
    public var subject: String
    /// The rendered template body (HTML).
    public var html: String
    /// The plain-text alternative, derived from the HTML.
    public var text: String
    /// The outbox id, carried by every email so status events map back.
    public var outboxID: String
    /// The customer's unsubscribe link, when `serve.public_url` is configured.
    public var unsubscribeURL: String?

    /// The header carrying the outbox id.
    public static let idHeader = "X-Nudge-Id"

    public init(
        from: String, fromName: String? = nil, replyTo: String? = nil, to: String, subject: String, html: String,
        text: String? = nil, outboxID: String, unsubscribeURL: String? = nil
    ) {
        self.from = from
        self.fromName = fromName
        self.replyTo = replyTo
        self.to = to
        self.subject = subject
        self.html = html
        self.text = text ?? HTMLText.plainText(fromHTML: html)
        self.outboxID = outboxID
        self.unsubscribeURL = unsubscribeURL
    }

    /// The email of an outbox message, sent from the channel's `from`.
    public init(
        message: OutboundMessage, from: String, fromName: String? = nil, replyTo: String? = nil,
        unsubscribe: UnsubscribeLinks?
    ) {
        let parts = message.content.email ?? (subject: "", html: message.content.text, text: nil)
        self.init(
            from: from, fromName: fromName, replyTo: replyTo, to: message.record.recipient ?? "",
            subject: parts.subject, html: parts.html, text: parts.text, outboxID: message.id,
            unsubscribeURL: unsubscribe?.url(customerID: message.record.customerId))
    }

    /// Extra headers every email carries, in order: the outbox id, then the unsubscribe headers (RFC 2369, 8058).
    public var headers: [(name: String, value: String)] {
        var headers = [(name: Self.idHeader, value: outboxID)]
        if let unsubscribeURL {
            headers.append((name: "List-Unsubscribe", value: "<\(unsubscribeURL)>"))
            headers.append((name: "List-Unsubscribe-Post", value: "List-Unsubscribe=One-Click"))
        }
        return headers
    }
}

/// Plain text from the HTML of an email body, for the text/plain alternative.
public enum HTMLText {
    /// Drops tags, breaks lines where the HTML does (`<br>`, paragraphs, list items, headings), writes links as
    /// `text (url)`, decodes entities and collapses runs of blank space.
    public static func plainText(fromHTML html: String) -> String {
        var output = ""
        var index = html.startIndex
        var linkTargets: [String?] = []
        var skipping: String?  // inside <style> or <script>
        while index < html.endIndex {
            let character = html[index]
            if character == "<", let close = html[index...].firstIndex(of: ">") {
                let tag = String(html[html.index(after: index)..<close])
                index = html.index(after: close)
                let lowered = tag.lowercased()
                let isClosing = lowered.hasPrefix("/")
                let name = String(lowered.drop { $0 == "/" }.prefix { $0.isLetter || $0.isNumber })
                if let open = skipping {
                    if isClosing && name == open { skipping = nil }
                    continue
                }
                switch name {
                case "style", "script", "head", "title":
                    if !isClosing && !lowered.hasSuffix("/") { skipping = name }
                case "br":
                    output += "\n"
                case "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "table", "tr", "ul", "ol", "blockquote":
                    output += "\n\n"
                case "li":
                    if !isClosing { output += "\n- " }
                case "td", "th":
                    if isClosing { output += " " }
                case "a":
                    if isClosing {
                        if let target = linkTargets.popLast(), let target {
                            let shown = output.suffix(target.count)
                            if shown != target { output += " (\(target))" }
                        }
                    } else {
                        linkTargets.append(attribute("href", in: tag).map(decodeEntities))
                    }
                default:
                    break
                }
                continue
            }
            // As in HTML, line breaks and tabs in the source are spaces; only tags break lines.
            if skipping == nil { output.append(character == "\n" || character == "\r\n" || character == "\t" ? " " : character) }
            index = html.index(after: index)
        }
        return tidy(decodeEntities(output))
    }

    static func attribute(_ name: String, in tag: String) -> String? {
        guard let range = tag.range(of: name + "=", options: .caseInsensitive) else { return nil }
        var rest = tag[range.upperBound...]
        guard let quote = rest.first else { return nil }
        if quote == "\"" || quote == "'" {
            rest = rest.dropFirst()
            return rest.firstIndex(of: quote).map { String(rest[..<$0]) }
        }
        return String(rest.prefix { !$0.isWhitespace && $0 != ">" })
    }

    /// The Latin-1 entities (`&nbsp;` … `&yuml;`, code points 160–255, in order).
    static let latin1Names = """
        nbsp iexcl cent pound curren yen brvbar sect uml copy ordf laquo not shy reg macr deg plusmn sup2 sup3 acute \
        micro para middot cedil sup1 ordm raquo frac14 frac12 frac34 iquest Agrave Aacute Acirc Atilde Auml Aring \
        AElig Ccedil Egrave Eacute Ecirc Euml Igrave Iacute Icirc Iuml ETH Ntilde Ograve Oacute Ocirc Otilde Ouml \
        times Oslash Ugrave Uacute Ucirc Uuml Yacute THORN szlig agrave aacute acirc atilde auml aring aelig ccedil \
        egrave eacute ecirc euml igrave iacute icirc iuml eth ntilde ograve oacute ocirc otilde ouml divide oslash \
        ugrave uacute ucirc uuml yacute thorn yuml
        """.split(separator: " ")

    static let entities: [String: String] = {
        var table: [String: String] = [
            "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "hellip": "…", "mdash": "—", "ndash": "–",
            "euro": "€", "rsquo": "’", "lsquo": "‘", "rdquo": "”", "ldquo": "“", "bull": "•", "trade": "™",
        ]
        for (offset, name) in latin1Names.enumerated() {
            table[String(name)] = String(Character(Unicode.Scalar(UInt8(160 + offset))))
        }
        table["nbsp"] = " "
        return table
    }()

    static func decodeEntities(_ text: String) -> String {
        guard text.contains("&") else { return text }
        var output = ""
        var rest = text[...]
        while let amp = rest.firstIndex(of: "&") {
            output += rest[..<amp]
            let after = rest[rest.index(after: amp)...]
            if let semicolon = after.prefix(10).firstIndex(of: ";") {
                let name = String(after[..<semicolon])
                if let value = entities[name] {
                    output += value
                    rest = after[after.index(after: semicolon)...]
                    continue
                }
                if name.hasPrefix("#") {
                    let digits = name.dropFirst()
                    let code = digits.first == "x" || digits.first == "X" ? UInt32(digits.dropFirst(), radix: 16) : UInt32(digits)
                    if let code, let scalar = Unicode.Scalar(code) {
                        output.unicodeScalars.append(scalar)
                        rest = after[after.index(after: semicolon)...]
                        continue
                    }
                }
            }
            output += "&"
            rest = after
        }
        return output + rest
    }

    /// Collapses spaces within lines and more than one blank line; trims every line.
    static func tidy(_ text: String) -> String {
        var lines: [String] = []
        var blank = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = raw.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).joined(separator: " ")
            if line.isEmpty {
                blank += 1
                if blank == 1 && !lines.isEmpty { lines.append("") }
            } else {
                blank = 0
                lines.append(line)
            }
        }
        while lines.last == "" { lines.removeLast() }
        return lines.joined(separator: "\n")
    }
}
