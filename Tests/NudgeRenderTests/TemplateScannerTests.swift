import NudgeLanguage
import Testing

@testable import NudgeRender
import NudgeCore

/// Scans `text` starting at `line:column` of `t.mustache`.
private func scan(_ text: String, line: Int = 1, column: Int = 1) -> (
    variables: [TemplateVariable], diagnostics: [String]
) {
    var diagnostics = Diagnostics()
    let variables = TemplateScanner.scan(
        text, origin: SourceLocation(file: "t.mustache", line: line, column: column), diagnostics: &diagnostics)
    return (variables, diagnostics.sorted.map(\.description))
}

/// `name@LINE:COL` for each variable.
private func summary(_ variables: [TemplateVariable]) -> [String] {
    variables.map { "\($0.name)@\($0.location.line):\($0.location.column)" }
}

/// A variable as the scanner would record it, for `check` tests.
private func variable(_ name: String, isSection: Bool = false, in sections: [String] = []) -> TemplateVariable {
    TemplateVariable(
        name: name, location: SourceLocation(file: "t", line: 1, column: 1), isSection: isSection, sections: sections)
}

@Suite("Template scanner")
struct TemplateScannerTests {
    @Test(
        "finds variables with their line and column",
        arguments: [
            ("Hi {{customer.first_name}}!", ["customer.first_name@1:4"]),
            ("a\n  {{ customer.name }}", ["customer.name@2:3"]),
            ("{{a.b}}{{c.d}}\n\n{{e.f}}", ["a.b@1:1", "c.d@1:8", "e.f@3:1"]),
            ("{{{customer.name}}} and {{&business.name}}", ["customer.name@1:1", "business.name@1:25"]),
            ("{{{ customer.name }}}", ["customer.name@1:1"]),
            ("{{& customer.name }}", ["customer.name@1:1"]),
            ("Café ☕ {{customer.name}}", ["customer.name@1:8"]),
            ("{{! customer.nope }}Hi {{customer.name}}", ["customer.name@1:24"]),
            ("{{!\n a long\n comment }}\n{{customer.name}}", ["customer.name@4:1"]),
            ("{{% CONTENT_TYPE: TEXT}}{{x.y}}", ["x.y@1:25"]),
            ("{{uppercased(customer.name)}}", ["customer.name@1:1"]),
            ("no tags { here } {x}", []),
            ("{{}}", []),
            ("Hi {{customer.name", []),
        ]
    )
    func finds(text: String, expected: [String]) {
        let (variables, diagnostics) = scan(text)
        #expect(summary(variables) == expected)
        #expect(diagnostics == [])
    }

    @Test("offsets places by the origin: its column on the first line only")
    func origin() {
        #expect(summary(scan("x {{a.b}}\n{{c.d}}", line: 5, column: 10).variables) == ["a.b@5:12", "c.d@6:1"])
    }

    @Test("tracks sections, so names inside them are relative")
    func sections() {
        let (variables, _) = scan(
            "{{#customer}}{{first_name}}{{/customer}} {{^customer.email}}none{{/customer.email}} {{x.y}}")
        #expect(summary(variables) == ["customer@1:1", "first_name@1:14", "customer.email@1:42", "x.y@1:85"])
        #expect(variables.map(\.isSection) == [true, false, true, false])
        #expect(variables.map(\.sections) == [[], ["customer"], [], []])
    }

    @Test("tracks nested sections outermost first")
    func nestedSections() {
        let (variables, _) = scan("{{#customer}}{{#attributes}}{{tier}}{{/attributes}}{{name}}{{/customer}}")
        #expect(variables.map(\.name) == ["customer", "attributes", "tier", "name"])
        #expect(variables.map(\.sections) == [[], ["customer"], ["customer", "attributes"], ["customer"]])
    }

    @Test("rejects partials, blocks and delimiter changes")
    func unsupported() {
        #expect(
            scan("{{> footer}}").diagnostics == [
                "t.mustache:1:1: error: partials and blocks are not supported in templates"
            ])
        #expect(
            scan("x {{$block}}y{{/block}}").diagnostics == [
                "t.mustache:1:3: error: partials and blocks are not supported in templates"
            ])
        let delimiters = scan("{{=<% %>=}}<% customer.name %>")
        #expect(
            delimiters.diagnostics == [
                "t.mustache:1:1: error: changing Mustache delimiters is not supported in templates"
            ])
        #expect(delimiters.variables.isEmpty)
    }
}

@Suite("Template variable check")
struct TemplateVariableCheckTests {
    static let birthday = FieldCatalog(trigger: .birthday)
    static let milestone = FieldCatalog(trigger: .milestone)

    @Test(
        "accepts fields of the catalog, directly or relative to a group section",
        arguments: [
            variable("customer.first_name"),
            variable("business.name"),
            variable("trigger.days_before"),
            variable("customer.attributes.points"),
            variable("customer.attributes"),
            variable("customer", isSection: true),
            variable("first_name", in: ["customer"]),
            variable("name", in: ["customer"]),
            variable("points", in: ["customer.attributes"]),
            variable("customer.email", isSection: true),
            variable(".", in: ["customer.tags"]),
            variable("first_name", in: ["customer", "customer.tags"]),
        ]
    )
    func accepts(variable: TemplateVariable) {
        #expect(variable.check(against: Self.birthday) == nil)
    }

    @Test(
        "flags unknown variables with a did-you-mean",
        arguments: [
            (
                variable("customer.first_nam"), "unknown template variable 'customer.first_nam'",
                "did you mean 'customer.first_name'?"
            ),
            (
                variable("customer.frist_name"), "unknown template variable 'customer.frist_name'",
                "did you mean 'customer.first_name'?"
            ),
            (variable("first_name"), "unknown template variable 'first_name'", "did you mean 'customer.first_name'?"),
            (
                variable("visits_total"), "unknown template variable 'visits_total'",
                "did you mean 'customer.visits_total'?"
            ),
            (variable("bussiness.name"), "unknown template variable 'bussiness.name'", "did you mean 'business.name'?"),
            (
                variable("frist_name", in: ["customer"]), "unknown template variable 'frist_name'",
                "did you mean 'customer.first_name'?"
            ),
            (variable("zzz"), "unknown template variable 'zzz'", nil),
        ] as [(TemplateVariable, String, String?)]
    )
    func unknown(variable: TemplateVariable, message: String, suggestion: String?) throws {
        let (actualMessage, actualSuggestion) = try #require(variable.check(against: Self.birthday))
        #expect(actualMessage == message)
        #expect(actualSuggestion == suggestion)
    }

    @Test("flags offer and progress fields outside milestone workflows")
    func milestoneOnly() throws {
        for (name, kinds) in [("offer.name", "milestone, reward and new_offer"), ("progress.stamps", "milestone and reward")] {
            let (message, suggestion) = try #require(variable(name).check(against: Self.birthday))
            #expect(message == "'\(name)' is only available in \(kinds) workflows")
            #expect(suggestion == nil)
            #expect(variable(name).check(against: Self.milestone) == nil)
            #expect(variable(name).check(against: FieldCatalog(trigger: nil)) == nil)
        }
        let relative = try #require(variable("name", in: ["offer"]).check(against: Self.birthday))
        #expect(relative.0 == "'offer.name' is only available in milestone, reward and new_offer workflows")
        #expect(variable("name", in: ["offer"]).check(against: Self.milestone) == nil)
        let section = try #require(variable("offer", isSection: true).check(against: Self.birthday))
        #expect(section.0 == "'offer' is only available in milestone, reward and new_offer workflows")
        #expect(variable("offer", isSection: true).check(against: Self.milestone) == nil)
        #expect(variable("offer", isSection: true).check(against: FieldCatalog(trigger: .new_offer)) == nil)
        let progress = try #require(variable("progress", isSection: true).check(against: FieldCatalog(trigger: .new_offer)))
        #expect(progress.0 == "'progress' is only available in milestone and reward workflows")
        // An announced offer has a category and a publication time; a stamp card's offer is read without them.
        #expect(variable("offer.category").check(against: FieldCatalog(trigger: .new_offer)) == nil)
        let category = try #require(variable("offer.category").check(against: Self.milestone))
        #expect(category.0 == "'offer.category' is only available in new_offer workflows")
    }

    @Test("flags trigger parameters the workflow's trigger does not have")
    func triggerParameters() throws {
        let (message, _) = try #require(variable("trigger.days").check(against: Self.birthday))
        #expect(message == "'trigger.days' is not a parameter of the birthday trigger")
        #expect(variable("trigger.days").check(against: FieldCatalog(trigger: .inactivity)) == nil)
    }

    @Test("flags a group used as a value and '.' outside a section")
    func groupsAndDot() throws {
        let group = try #require(variable("customer").check(against: Self.birthday))
        #expect(group.0 == "'customer' is a group of fields; name one, such as 'customer.id'")
        let business = try #require(variable("business").check(against: Self.birthday))
        #expect(business.0 == "'business' is a group of fields; name one, such as 'business.name'")
        let dot = try #require(variable(".").check(against: Self.birthday))
        #expect(dot.0 == "'.' is only meaningful inside a section")
    }

    @Test("accepts extra names the caller provides")
    func extraNames() {
        #expect(variable("unsubscribe_url").check(against: Self.birthday, extraNames: ["unsubscribe_url"]) == nil)
        #expect(variable("unsubscribe_url").check(against: Self.birthday) != nil)
    }

    @Test("checks every variable of a parsed template")
    func checksParsedTemplate() throws {
        var diagnostics = Diagnostics()
        let text =
            "---\nsubject: Your {{offer.name}} card\n---\nHi {{customer.first_nam}}, {{progress.stamps}} stamps\n"
        let template = try #require(
            MessageTemplate.parse(text, name: "t", channel: .email, file: "t.email.mustache", diagnostics: &diagnostics)
        )
        let birthdayProblems = template.variables.compactMap { v in
            v.check(against: Self.birthday).map { "\(v.location): \($0.0)" }
        }
        #expect(
            birthdayProblems == [
                "t.email.mustache:2:15: 'offer.name' is only available in milestone, reward and new_offer workflows",
                "t.email.mustache:4:4: unknown template variable 'customer.first_nam'",
                "t.email.mustache:4:28: 'progress.stamps' is only available in milestone and reward workflows",
            ])
        let milestoneProblems = template.variables.compactMap { $0.check(against: Self.milestone)?.0 }
        #expect(milestoneProblems == ["unknown template variable 'customer.first_nam'"])
    }
}
