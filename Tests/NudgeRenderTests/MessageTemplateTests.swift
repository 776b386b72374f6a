import Foundation
import NudgeLanguage
import Testing

@testable import NudgeRender
import NudgeCore

/// Parses a template as `Templates/t.<channel>.mustache`; returns it and the sorted diagnostics as printed.
private func parse(_ text: String, channel: Channel) -> (template: MessageTemplate?, diagnostics: [String]) {
    var diagnostics = Diagnostics()
    let template = MessageTemplate.parse(
        text, name: "t", channel: channel, file: "Templates/t.\(channel.rawValue).mustache", diagnostics: &diagnostics)
    return (template, diagnostics.sorted.map(\.description))
}

/// The first diagnostic's `LINE:COL`, for tests of where an error is reported.
private func place(of diagnostic: String?) -> String? {
    guard let diagnostic else { return nil }
    let parts = diagnostic.split(separator: ":")
    guard parts.count > 3 else { return nil }
    return "\(parts[1]):\(parts[2])"
}

private let birthdayEmail = """
    ---
    subject: Happy birthday, {{customer.first_name}}!
    ---
    <p>Hi {{customer.first_name}},</p>
    <p>From {{business.name}}</p>

    """

@Suite("Message templates")
struct MessageTemplateTests {
    @Test("splits an email template into subject and body and renders both")
    func email() throws {
        let (parsed, diagnostics) = parse(birthdayEmail, channel: .email)
        #expect(diagnostics == [])
        let template = try #require(parsed)
        #expect(template.name == "t")
        #expect(template.channel == .email)
        #expect(template.file == "Templates/t.email.mustache")
        #expect(template.heading?.key == "subject")
        let rendered = template.render(["customer": ["first_name": "Ana"], "business": ["name": "Bean There"]])
        #expect(rendered.heading?.key == "subject")
        #expect(rendered.heading?.value == "Happy birthday, Ana!")
        #expect(rendered.body == "<p>Hi Ana,</p>\n<p>From Bean There</p>\n")
        #expect(rendered == RenderedMessage(heading: ("subject", "Happy birthday, Ana!"), body: rendered.body))
    }

    @Test("records every variable with its line and column in the file")
    func variables() throws {
        let template = try #require(parse(birthdayEmail, channel: .email).template)
        #expect(template.variables.map(\.name) == ["customer.first_name", "customer.first_name", "business.name"])
        #expect(
            template.variables.map(\.location.description) == [
                "Templates/t.email.mustache:2:26", "Templates/t.email.mustache:4:7", "Templates/t.email.mustache:5:9",
            ])
    }

    @Test("escapes HTML in email bodies only, not in subjects or other channels")
    func escaping() throws {
        let context: [String: Any] = ["customer": ["first_name": "<b>Ana</b> & 'Co' \"x\""]]
        let email = try #require(parse(birthdayEmail, channel: .email).template).render(context)
        #expect(email.body == "<p>Hi &lt;b&gt;Ana&lt;/b&gt; &amp; &#39;Co&#39; &quot;x&quot;,</p>\n<p>From </p>\n")
        #expect(email.heading?.value == "Happy birthday, <b>Ana</b> & 'Co' \"x\"!")
        let sms = try #require(parse("Hi {{customer.first_name}}!", channel: .sms).template).render(context)
        #expect(sms.body == "Hi <b>Ana</b> & 'Co' \"x\"!")
        #expect(sms.heading == nil)
        let raw = try #require(
            parse("---\nsubject: x\n---\n{{{customer.first_name}}} {{&customer.first_name}}", channel: .email).template)
        #expect(raw.render(context).body == "<b>Ana</b> & 'Co' \"x\" <b>Ana</b> & 'Co' \"x\"")
    }

    @Test(
        "takes the heading each channel needs from the front matter",
        arguments: [
            (
                Channel.push, "---\ntitle: Hi {{customer.first_name}}\n---\nYour treat awaits.\n", "title", "Hi Ana",
                "Your treat awaits.\n"
            ),
            (
                .wallet, "---\nheader: \"{{customer.first_name}}'s card\"\n---\n{{progress.stamps}} stamps", "header",
                "Ana's card", "4 stamps"
            ),
            (.email, "---\nsubject:  '  Spaced {{customer.first_name}}  '\n---\nx", "subject", "Spaced Ana", "x"),
        ]
    )
    func headings(channel: Channel, text: String, key: String, heading: String, body: String) throws {
        let (parsed, diagnostics) = parse(text, channel: channel)
        #expect(diagnostics == [])
        let rendered = try #require(parsed).render(["customer": ["first_name": "Ana"], "progress": ["stamps": 4]])
        #expect(rendered.heading?.key == key)
        #expect(rendered.heading?.value == heading)
        #expect(rendered.body == body)
    }

    @Test("renders an SMS template without front matter")
    func sms() throws {
        let (parsed, diagnostics) = parse(
            "Hi {{customer.first_name}}, happy birthday from {{business.name}}!\n", channel: .sms)
        #expect(diagnostics == [])
        let template = try #require(parsed)
        #expect(template.heading == nil)
        #expect(
            template.variables.map(\.location.description) == [
                "Templates/t.sms.mustache:1:4", "Templates/t.sms.mustache:1:49",
            ])
        let rendered = template.render(["customer": ["first_name": "Ana"], "business": ["name": "Bean There"]])
        #expect(rendered.body == "Hi Ana, happy birthday from Bean There!\n")
    }

    @Test("renders nested context through paths and sections, missing keys as empty")
    func nestedContext() throws {
        let text =
            "{{customer.first_name}}|{{#customer}}{{first_name}}{{/customer}}|{{customer.last_name}}|{{^customer.email}}no email{{/customer.email}}"
        let template = try #require(parse(text, channel: .sms).template)
        #expect(template.render(["customer": ["first_name": "Ana"]]).body == "Ana|Ana||no email")
        #expect(template.render(["customer": ["first_name": "Ana", "email": "a@x"]]).body == "Ana|Ana||")
    }

    @Test(
        "requires the heading of email, push and wallet templates",
        arguments: [
            (
                Channel.email,
                "1:1: error: an email template needs 'subject:' in a front-matter block at its top (start the file with ---, subject: …, ---)"
            ),
            (
                .push,
                "1:1: error: a push template needs 'title:' in a front-matter block at its top (start the file with ---, title: …, ---)"
            ),
            (
                .wallet,
                "1:1: error: a wallet template needs 'header:' in a front-matter block at its top (start the file with ---, header: …, ---)"
            ),
        ]
    )
    func missingFrontMatter(channel: Channel, expected: String) {
        let (template, diagnostics) = parse("<p>Hi {{customer.first_name}}</p>\n", channel: channel)
        #expect(template == nil)
        #expect(diagnostics == ["Templates/t.\(channel.rawValue).mustache:" + expected])
    }

    @Test("reports an unknown front-matter key at its line")
    func unknownFrontMatterKey() {
        let (template, diagnostics) = parse("---\nsubject: Hi\nsubjet: Hey\n---\nBody\n", channel: .email)
        #expect(template == nil)
        #expect(
            diagnostics == [
                "Templates/t.email.mustache:3:1: error: unknown key 'subjet' in the front matter of an email template (did you mean 'subject'?)"
            ])
        #expect(
            parse("---\nsubject: Hi\n---\nBody\n", channel: .sms).diagnostics == [
                "Templates/t.sms.mustache:2:1: error: unknown key 'subject' in the front matter of an sms template "
                    + "(sms templates have no front matter keys)"
            ])
        #expect(
            parse("---\n  titel: Hi\n---\nBody\n", channel: .push).diagnostics == [
                "Templates/t.push.mustache:1:1: error: a push template needs 'title:' in a front-matter block at its top "
                    + "(start the file with ---, title: …, ---)",
                "Templates/t.push.mustache:2:3: error: unknown key 'titel' in the front matter of a push template "
                    + "(did you mean 'title'?)",
            ])
        #expect(
            parse("---\ntitle: Hi\n---\nBody\n", channel: .email).diagnostics == [
                "Templates/t.email.mustache:1:1: error: an email template needs 'subject:' in a front-matter block at its top "
                    + "(start the file with ---, subject: …, ---)",
                "Templates/t.email.mustache:2:1: error: unknown key 'title' in the front matter of an email template "
                    + "(expected one of: subject)",
            ])
    }

    @Test("reports other front-matter problems")
    func frontMatterProblems() {
        #expect(
            parse("---\nsubject: Hi\nBody\n", channel: .email).diagnostics == [
                "Templates/t.email.mustache:1:1: error: the front matter that starts here has no closing '---' line"
            ])
        #expect(
            parse("---\nsubject: Hi\njust text\n---\nBody\n", channel: .email).diagnostics == [
                "Templates/t.email.mustache:3:1: error: front matter lines must be 'key: value'"
            ])
        #expect(
            parse("---\nsubject: A\n subject: B\n---\nBody\n", channel: .email).diagnostics == [
                "Templates/t.email.mustache:3:2: error: 'subject' is given twice"
            ])
        #expect(
            parse("---\nsubject: Hi\n---\n\n  \n", channel: .email).diagnostics == [
                "Templates/t.email.mustache:4:1: error: the template body is empty"
            ])
    }

    @Test("reads front matter as key: value lines, so a heading may start with a tag")
    func frontMatterLines() throws {
        let text = "---\n# the subject line\n\nsubject: {{customer.first_name}}, your treat\n---\nHi\n"
        let (parsed, diagnostics) = parse(text, channel: .email)
        #expect(diagnostics == [])
        let template = try #require(parsed)
        #expect(template.variables.map(\.location.description) == ["Templates/t.email.mustache:4:10"])
        #expect(template.render(["customer": ["first_name": "Ana"]]).heading?.value == "Ana, your treat")
    }

    @Test("reports a quoted heading's variables at their column")
    func quotedHeading() throws {
        let template = try #require(
            parse("---\nsubject: \"{{customer.first_name}}, hi\"\n---\nx", channel: .email).template)
        #expect(template.variables.first?.location.description == "Templates/t.email.mustache:2:11")
    }

    @Test("reports body lines as file lines, after the front matter")
    func bodyLineOffset() throws {
        let text = "---\nsubject: Hi\n---\nline one\nline two {{customer.nme}}\n"
        let template = try #require(parse(text, channel: .email).template)
        #expect(template.variables.map(\.location.description) == ["Templates/t.email.mustache:5:10"])
        let withoutFrontMatter = try #require(parse("line one\nline two {{customer.nme}}\n", channel: .sms).template)
        #expect(withoutFrontMatter.variables.map(\.location.description) == ["Templates/t.sms.mustache:2:10"])
    }

    @Test("reports a Mustache syntax error at its line in the file")
    func mustacheErrors() {
        let unclosed = parse("---\nsubject: Hi\n---\nHello\n{{#customer}}\nbye\n", channel: .email).diagnostics
        #expect(unclosed.count == 1)
        #expect(unclosed.first?.contains("error: invalid Mustache: a section is opened but never closed") == true)
        #expect(place(of: unclosed.first) == "7:1")

        let mismatched = parse("---\nsubject: Hi\n---\nHello\n{{#customer}}x{{/business}}\n", channel: .email)
            .diagnostics
        #expect(mismatched.count == 1)
        #expect(
            mismatched.first?.contains(
                "error: invalid Mustache: a section is closed with a different name than it was opened")
                == true)
        #expect(place(of: mismatched.first) == "5:18")

        #expect(
            parse("Hello {{customer.first_name\n", channel: .sms).diagnostics == [
                "Templates/t.sms.mustache:2:1: error: invalid Mustache: the template ends inside a tag: a '{{' is not closed with '}}'"
            ])
        #expect(
            parse("Hi {{#a}}x", channel: .sms).diagnostics == [
                "Templates/t.sms.mustache:1:11: error: invalid Mustache: a section is opened but never closed"
            ])
    }

    @Test("keeps the variables of a template that has errors, for checks")
    func draft() {
        var diagnostics = Diagnostics()
        let (template, variables) = MessageTemplate.parseDraft(
            "Hi {{customer.first_name}} {{#customer}}", name: "t", channel: .email, file: "t.email.mustache",
            diagnostics: &diagnostics)
        #expect(template == nil)
        #expect(variables.map(\.name) == ["customer.first_name", "customer"])
        #expect(diagnostics.all.count == 2)
    }

    @Test("reports the same column for a Mustache error on a body's first line as on a later line")
    func mustacheErrorColumns() {
        let first = parse("Hi {{#a}}x{{/b}} there", channel: .sms).diagnostics
        let second = parse("\nHi {{#a}}x{{/b}} there", channel: .sms).diagnostics
        // Column 14 is the 'b' of the closing tag.
        #expect(place(of: first.first) == "1:14")
        #expect(place(of: second.first) == "2:14")
        let heading = parse("---\ntitle: Hi {{#a}}x{{/b}} there\n---\nbody", channel: .push).diagnostics
        #expect(place(of: heading.first) == "2:21")
        let email = parse("---\nsubject: x\n---\nHi {{#a}}x{{/b}} there", channel: .email).diagnostics
        #expect(place(of: email.first) == "4:14")
    }

    @Test(
        "a rendered heading is trimmed of what Foundation's whitespacesAndNewlines holds, and of nothing else",
        arguments: [
            "Hi Ana", "  Hi Ana\n", "\t\r\n", "", " \u{00A0}Hi\u{3000}", "\u{85}Hi\u{2028}", "\u{200B}Hi\u{200B}",
            "Hi  there \u{2009}", "é ", " ☕ café ☕ ", "\u{FEFF}x\u{FEFF}",
        ])
    func trimmedHeading(text: String) {
        #expect(MessageTemplate.trimmingWhiteSpace(text) == text.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
