import Foundation
import NudgeEngine
import NudgeLanguage
import NudgeRender
import Testing
import NudgeCore

@Suite("Headings that read only business fields")
struct FixedHeadingTests {
    /// A signup workflow emailing template `news`, whose subject is `subject`.
    func fixture(subject: String) throws -> Fixture {
        try Fixture(
            workflows: ["w.yaml": "id: w\ntrigger: { signup: {} }\nactions:\n  - send: { channel: email, template: news }\n"],
            templates: [],
            extraFiles: ["Templates/news.email.mustache": "---\nsubject: \(subject)\n---\n<p>Hi {{customer.first_name}}</p>\n"])
    }

    @Test(
        "a subject is rendered for each customer, whether it reads business fields only or customer fields too",
        arguments: [
            ("News from {{business.name}} ({{business.timezone}})", ["News from Test Café (America/New_York)", "News from Test Café (America/New_York)"]),
            ("New menu", ["New menu", "New menu"]),
            ("{{customer.first_name}}, news from {{business.name}}", ["Ana, news from Test Café", "Bo, news from Test Café"]),
            ("{{#customer.email_opt_in}}{{business.name}}{{/customer.email_opt_in}} news", ["Test Café news", "Test Café news"]),
        ])
    func subjects(subject: String, expected: [String]) async throws {
        let fixture = try fixture(subject: subject)
        try fixture.add("c1", signedUp: "2026-11-25T10:00:00Z", email: "c1@example.com", name: "Ana Lima")
        try fixture.add("c2", signedUp: "2026-11-25T10:30:00Z", email: "c2@example.com", name: "Bo Berg")
        let plan = try await fixture.plan(at: "2026-11-25T11:00:00Z", render: true)
        #expect(plan.messages.map { $0.rendered?.heading?.value } == expected)
        #expect(plan.messages.map { $0.rendered?.body } == ["<p>Hi Ana</p>\n", "<p>Hi Bo</p>\n"])
    }

    @Test(
        "only a heading outside sections, reading fields of the given groups, counts as the same for every message",
        arguments: [
            ("News from {{business.name}}", true),
            ("New menu", true),
            ("Hi {{customer.first_name}} from {{business.name}}", false),
            ("{{#business.name}}x{{/business.name}}", false),
            ("{{name}}", false),
            ("{{unsubscribe_url}}", false),
        ])
    func readsOnlyBusiness(subject: String, fixed: Bool) throws {
        var diagnostics = Diagnostics()
        let template = try #require(
            MessageTemplate.parse(
                "---\nsubject: \(subject)\n---\nBody\n", name: "t", channel: .email, file: "Templates/t.email.mustache",
                diagnostics: &diagnostics))
        #expect(template.headingReadsOnly(groups: ["business"]) == fixed)
    }
}
