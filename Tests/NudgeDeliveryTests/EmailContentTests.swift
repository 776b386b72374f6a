import Foundation
import NudgeDelivery
import NudgeProviders
import NudgeEngine
import NudgeStore
import Testing
import NudgeCore

@Suite("The plain-text part and headers of every email")
struct EmailContentTests {
    @Test(
        "plain text from the HTML keeps paragraphs, line breaks, list items and links, and decodes entities",
        arguments: [
            ("<p>Hi Ana,</p><p>Your drink is on us.</p>", "Hi Ana,\n\nYour drink is on us."),
            ("<p>Warmly,<br>The team</p>", "Warmly,\nThe team"),
            ("<ul>\n  <li>One stamp</li>\n  <li>Two stamps</li>\n</ul>", "- One stamp\n- Two stamps"),
            (
                "<p>Bye? <a href=\"https://x.example/unsubscribe/abc\">Unsubscribe</a></p>",
                "Bye? Unsubscribe (https://x.example/unsubscribe/abc)"
            ),
            ("<a href=\"https://x.example\">https://x.example</a>", "https://x.example"),
            ("Caf&eacute;? Caf&#233; &amp; tea &lt;3 &#x1F382; &nbsp;ok &copy; &Uuml;ber &yuml; &bogus;", "Café? Café & tea <3 🎂 ok © Über ÿ &bogus;"),
            ("<style>p { color: red }</style><p>Shown</p><script>alert(1)</script>", "Shown"),
            ("<p>A    lot\n\n\n\n  of   space</p><p>Next</p>", "A lot of space\n\nNext"),
        ])
    func plainText(html: String, text: String) {
        #expect(HTMLText.plainText(fromHTML: html) == text)
    }

    @Test("a text template's part is used as is; without one the text is derived; the outbox id and unsubscribe headers are there")
    func content() {
        var record = DeliveryFixture.message("msg_1")
        record.body = "<p>Hello <b>Ana</b></p>"
        let links = UnsubscribeLinks(baseURL: "https://h.example", secret: "k")
        let derived = EmailContent(message: OutboundMessage(record: record, sentAt: Date()), from: "a@b.example", unsubscribe: links)
        #expect(derived.text == "Hello Ana")
        #expect(derived.headers.map(\.name) == ["X-Nudge-Id", "List-Unsubscribe", "List-Unsubscribe-Post"])
        #expect(derived.headers[0].value == "msg_1")
        #expect(derived.headers[1].value == "<\(links.url(customerID: record.customerId))>")
        #expect(derived.headers[2].value == "List-Unsubscribe=One-Click")
        record.textBody = "Hello Ana, in plain words."
        let written = EmailContent(message: OutboundMessage(record: record, sentAt: Date()), from: "a@b.example", unsubscribe: nil)
        #expect(written.text == "Hello Ana, in plain words.")
        #expect(written.headers.map(\.name) == ["X-Nudge-Id"])
    }
}
