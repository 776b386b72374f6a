import Foundation
import NudgeEngine
import NudgeLanguage
import NudgeProviders
import NudgeRender
import NudgeStore
import Testing
import NudgeCore

@Suite("Unsubscribe links in emails")
struct UnsubscribeRenderingTests {
    static let config = Fixture.defaultConfig + """

        serve:
          public_url: https://hooks.cafe.example/
          unsubscribe_secret_env: CAFE_UNSUBSCRIBE_SECRET
        """

    static let template = "---\nsubject: Hi\n---\n<p>Bye? <a href=\"{{unsubscribe_url}}\">Unsubscribe</a></p>\n"

    /// A signup workflow emailing template `bye`, with `files` beside its HTML template.
    func fixture(_ files: [String: String] = [:]) throws -> Fixture {
        try Fixture(
            config: Self.config,
            workflows: ["w.yaml": "id: w\ntrigger: { signup: {} }\nactions:\n  - send: { channel: email, template: bye }\n"],
            templates: [],
            extraFiles: files.merging(["Templates/bye.email.mustache": Self.template]) { own, _ in own })
    }

    @Test("an email renders the customer's signed link, which verifies back to the customer")
    func signed() async throws {
        let fixture = try fixture()
        try fixture.add("c 1", signedUp: "2026-11-25T10:00:00Z", email: "c1@example.com")
        let project = try fixture.project()
        let links = try #require(UnsubscribeLinks(config: project.config, environment: ["CAFE_UNSUBSCRIBE_SECRET": "k"]))
        let plan = try await Planner(project: project, store: fixture.database, unsubscribe: links)
            .plan(now: try #require(ISO8601.parse("2026-11-25T11:00:00Z", zone: .gmt)), render: true)
        let body = try #require(plan.messages.first?.rendered?.body)
        let url = try #require(body.split(separator: "\"").first { $0.hasPrefix("https://") }.map(String.init))
        #expect(url.hasPrefix("https://hooks.cafe.example/unsubscribe/"))
        let token = String(url.dropFirst("https://hooks.cafe.example/unsubscribe/".count))
        #expect(links.customerID(fromToken: token) == "c 1")
    }

    @Test("without the secret the link is visibly unsigned, and check is clean")
    func unsigned() async throws {
        let fixture = try fixture()
        try fixture.add("c1", signedUp: "2026-11-25T10:00:00Z", email: "c1@example.com")
        #expect(try fixture.project().warnings.isEmpty)
        let plan = try await fixture.plan(at: "2026-11-25T11:00:00Z", render: true)
        #expect(plan.messages.first?.rendered?.body.contains("https://hooks.cafe.example/unsubscribe/YzE.unsigned") == true)
    }

    @Test("{{unsubscribe_url}} is an unknown variable outside email templates")
    func onlyEmail() throws {
        let fixture = try Fixture(
            config: Self.config,
            workflows: ["w.yaml": "id: w\ntrigger: { signup: {} }\nactions:\n  - send: { channel: sms, template: bye }\n"],
            templates: [], extraFiles: ["Templates/bye.sms.mustache": "Stop: {{unsubscribe_url}}\n"])
        #expect(throws: FixtureError.self) { try fixture.project() }
    }

    @Test("a <template>.email.text.mustache file gives the email its plain-text part, with the same fields and link")
    func textTemplate() async throws {
        let fixture = try fixture([
            "Templates/bye.email.text.mustache": "Hi {{customer.first_name}} & co. Leave: {{unsubscribe_url}}\n"
        ])
        try fixture.add("c1", signedUp: "2026-11-25T10:00:00Z", email: "c1@example.com")
        #expect(try fixture.project().warnings.isEmpty)
        let plan = try await fixture.plan(at: "2026-11-25T11:00:00Z", render: true)
        #expect(plan.messages.first?.rendered?.text == "Hi Ana & co. Leave: https://hooks.cafe.example/unsubscribe/YzE.unsigned\n")
        #expect(plan.messages.first?.jsonLine(includeRendered: true).contains(#""text":"Hi Ana & co."#) == true)
    }

    @Test("a text template with an unknown field is a check error; one without its HTML email is a warning")
    func textTemplateChecks() throws {
        let fixture = try fixture([
            "Templates/bye.email.text.mustache": "Hi {{customer.frist_name}}\n",
            "Templates/orphan.email.text.mustache": "Hi\n",
        ])
        let (project, diagnostics) = Project.load(directory: fixture.directory.path, providers: Providers.catalog)
        #expect(project == nil)
        let lines = diagnostics.map(\.description)
        #expect(lines.contains { $0.hasSuffix("Templates/bye.email.text.mustache:1:4: error: unknown template variable 'customer.frist_name' (did you mean 'customer.first_name'?)") }, "\(lines)")
        #expect(lines.contains { $0.hasSuffix("Templates/orphan.email.text.mustache:1:1: warning: plain-text part of an email template that does not exist: Templates/orphan.email.mustache") }, "\(lines)")
    }

    @Test(
        "check warns when a real email provider has no working unsubscribe link, and when Twilio has no public URL",
        arguments: [
            ("", "emails sent through sendgrid will carry no unsubscribe link"),
            ("serve: { public_url: https://h.example }\n", "unsubscribe links will be unsigned"),
        ])
    func providerWarnings(serve: String, warning: String) throws {
        let config = """
            business: { name: Test Café, timezone: UTC }
            \(serve)channels:
              email: { provider: sendgrid, api_key_env: SG_KEY, from: hello@cafe.example }
              sms: { provider: twilio, account_sid: AC1, auth_token_env: TW, from: "+15557122661" }
            """
        let fixture = try Fixture(config: config, workflows: [:], templates: ["t"])
        let warnings = try fixture.project().warnings.map(\.message)
        #expect(warnings.contains { $0.contains(warning) }, "\(warnings)")
        #expect(warnings.contains { $0.hasPrefix("without serve.public_url Twilio sends no delivery status") } == serve.isEmpty)
    }
}
