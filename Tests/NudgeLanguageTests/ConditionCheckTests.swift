import Testing

@testable import NudgeLanguage

/// One problem of a `ConditionError`, comparable in tests.
struct Problem: Equatable, CustomStringConvertible {
    var message: String
    var offset: Int
    var suggestion: String?

    init(_ message: String, at offset: Int, _ suggestion: String? = nil) {
        self.message = message
        self.offset = offset
        self.suggestion = suggestion
    }

    var description: String { "\(offset): \(message)" + (suggestion.map { " (\($0))" } ?? "") }
}

/// The problems `Condition.compile` reports for `text`, or an empty list when it compiles.
func problems(_ text: String, trigger: TriggerKind? = .birthday) -> [Problem] {
    switch Condition.compile(text, catalog: FieldCatalog(trigger: trigger)) {
    case .success: return []
    case .failure(let error): return error.problems.map { Problem($0.message, at: $0.offset, $0.suggestion) }
    }
}

@Suite("Condition type checking")
struct ConditionCheckTests {
    @Test(
        "reports type errors at the offending token",
        arguments: [
            ("customer.visits_total == \"3\"", Problem("cannot compare a number with text using '=='", at: 22)),
            ("customer.tags == customer.name", Problem("cannot compare a list of text with text using '=='", at: 14)),
            ("customer.email_opt_in > true", Problem("cannot order a boolean and a boolean using '>'", at: 22)),
            (
                "customer.signed_up_at > 30",
                Problem(
                    "cannot order an instant and a number using '>'", at: 22,
                    "use days_since(…) to compare instants with numbers")
            ),
            ("not customer.visits_total", Problem("'not' needs true or false, not a number", at: 0)),
            ("-customer.name == 1", Problem("'-' needs a number, not text", at: 0)),
            ("customer.name + 1 == \"x\"", Problem("cannot add text and a number", at: 14)),
            ("customer.visits_total * customer.name > 1", Problem("'*' needs numbers, not text", at: 24)),
            ("customer.signed_up_at - 1 > 0", Problem("'-' needs numbers, not an instant", at: 0, "use days_since(…)")),
            ("[1, \"a\"] == null", Problem("list items must have one type", at: 4)),
            ("1 in customer.tags", Problem("cannot look for a number in a list of text", at: 2)),
            ("\"vip\" in customer.name", Problem("'in' needs a list on its right, not text", at: 9)),
            ("days_since(customer.name) > 3", Problem("days_since(…) needs an instant, not text", at: 11)),
            ("lower(customer.visits_total) == \"x\"", Problem("lower(…) needs text, not a number", at: 6)),
            ("has(\"x\")", Problem("has(…) takes a field, e.g. has(customer.email)", at: 4)),
        ]
    )
    func typeErrors(text: String, expected: Problem) {
        #expect(problems(text) == [expected])
    }

    @Test("reports 'and' and 'or' on non-booleans once per bad side")
    func logicOnNumbers() {
        #expect(
            problems("customer.visits_total and 1") == [
                Problem("'and' needs true or false on both sides, not a number", at: 0),
                Problem("'and' needs true or false on both sides, not a number", at: 26),
            ])
        #expect(
            problems("customer.visits_total or customer.name") == [
                Problem("'or' needs true or false on both sides, not a number", at: 0),
                Problem("'or' needs true or false on both sides, not text", at: 25),
            ])
        #expect(problems("customer.email_opt_in and 1 > 0") == [])
    }

    @Test(
        "requires the whole condition to be true or false",
        arguments: [
            (
                "customer.visits_total",
                Problem(
                    "a condition must be true or false, but this is a number", at: 0, "compare it, for example '… > 0'")
            ),
            (
                "customer.visits_total + 1",
                Problem(
                    "a condition must be true or false, but this is a number", at: 0, "compare it, for example '… > 0'")
            ),
            ("lower(customer.name)", Problem("a condition must be true or false, but this is text", at: 0)),
            ("customer.signed_up_at", Problem("a condition must be true or false, but this is an instant", at: 0)),
            ("customer.tags", Problem("a condition must be true or false, but this is a list of text", at: 0)),
            ("null", Problem("a condition must be true or false, but this is null", at: 0)),
        ]
    )
    func nonBooleanCondition(text: String, expected: Problem) {
        #expect(problems(text) == [expected])
    }

    @Test(
        "reports unknown fields and names with a did-you-mean",
        arguments: [
            (
                "customer.visit_total >= 1",
                Problem("unknown field 'customer.visit_total'", at: 0, "did you mean 'customer.visits_total'?")
            ),
            (
                "customer.frist_name == \"A\"",
                Problem("unknown field 'customer.frist_name'", at: 0, "did you mean 'customer.first_name'?")
            ),
            (
                "custmer.email_opt_in",
                Problem("unknown field 'custmer.email_opt_in'", at: 0, "did you mean 'customer.email_opt_in'?")
            ),
            (
                "bussiness.name == \"x\"",
                Problem("unknown field 'bussiness.name'", at: 0, "did you mean 'business.name'?")
            ),
            (
                "customer.visits_total > 1 and visits_total > 2",
                Problem("unknown name 'visits_total'", at: 30, "did you mean 'customer.visits_total'?")
            ),
            (
                "frobnicate == 1",
                Problem(
                    "unknown name 'frobnicate'", at: 0,
                    "fields are written with their group, e.g. 'customer.frobnicate'")
            ),
        ]
    )
    func unknownFields(text: String, expected: Problem) {
        #expect(problems(text) == [expected])
    }

    @Test(
        "limits offer, progress and trigger parameters to the workflows that have them",
        arguments: [
            (
                "offer.name == \"Latte\"", TriggerKind.birthday,
                Problem("'offer.name' is only available in milestone, reward and new_offer workflows", at: 0)
            ),
            (
                "progress.percent >= 50", .inactivity,
                Problem("'progress.percent' is only available in milestone and reward workflows", at: 0)
            ),
            (
                "customer.age > 1 and progress.stamps > 3", .signup,
                Problem("'progress.stamps' is only available in milestone and reward workflows", at: 21)
            ),
            (
                "trigger.days > 30", .birthday,
                Problem("'trigger.days' is not a parameter of the birthday trigger", at: 0)
            ),
            (
                "trigger.percent == 100", .signup,
                Problem("'trigger.percent' is not a parameter of the signup trigger", at: 0)
            ),
            (
                "trigger.days_before == 0", .milestone,
                Problem("'trigger.days_before' is not a parameter of the milestone trigger", at: 0)
            ),
        ]
    )
    func triggerSpecificFields(text: String, trigger: TriggerKind, expected: Problem) {
        #expect(problems(text, trigger: trigger) == [expected])
    }

    @Test(
        "accepts trigger-specific fields where they exist",
        arguments: [
            ("offer.name == \"Latte\" and progress.percent >= 50", TriggerKind?.some(.milestone)),
            ("offer.stamps_required > 5", nil),
            ("trigger.days == 30", .inactivity),
            ("trigger.days_before == 0", .birthday),
            ("trigger.days_after == 7", .signup),
            ("trigger.offer == \"latte\" and trigger.percent >= 80", .milestone),
            ("trigger.kind == \"birthday\"", .birthday),
        ]
    )
    func triggerSpecificFieldsAccepted(text: String, trigger: TriggerKind?) {
        #expect(problems(text, trigger: trigger) == [])
    }

    @Test(
        "reports unknown functions and wrong arity",
        arguments: [
            ("lowr(customer.name) == \"ana\"", Problem("unknown function 'lowr'", at: 0, "did you mean 'lower'?")),
            (
                "day_since(customer.signed_up_at) > 3",
                Problem("unknown function 'day_since'", at: 0, "did you mean 'days_since'?")
            ),
            (
                "size(customer.tags) > 1",
                Problem("unknown function 'size'", at: 0, "expected one of: days_since, has, hours_since, lower, percent_rank")
            ),
            ("lower(customer.name, customer.email) == \"x\"", Problem("lower(…) takes one argument, not 2", at: 0)),
            ("days_since() > 3", Problem("days_since(…) takes one argument, not 0", at: 0)),
            ("customer.age > 1 and has()", Problem("has(…) takes one argument, not 0", at: 21)),
        ]
    )
    func functions(text: String, expected: Problem) {
        #expect(problems(text) == [expected])
    }

    @Test("reports every problem of an expression at once, in order")
    func allProblems() {
        #expect(
            problems("customer.visit_total > 1 and offer.name == \"x\" and lowr(customer.name) == \"a\"") == [
                Problem("unknown field 'customer.visit_total'", at: 0, "did you mean 'customer.visits_total'?"),
                Problem("'offer.name' is only available in milestone, reward and new_offer workflows", at: 29),
                Problem("unknown function 'lowr'", at: 51, "did you mean 'lower'?"),
            ])
    }

    @Test("turns a syntax error into a single problem")
    func syntaxErrorProblem() {
        #expect(
            problems("customer.age >= 18 && customer.sms_opt_in") == [
                Problem("'&&' is not an operator", at: 19, "use 'and'")
            ])
    }

    @Test(
        "accepts well-typed conditions",
        arguments: [
            "customer.attributes.points > 100",
            "\"vip\" in customer.tags",
            "customer.visits_total >= 1 and not (\"staff\" in customer.tags)",
            "customer.attributes.vip",
            "customer.age == null",
            "customer.age != null or customer.birth_date == null",
            "customer.name + \" \" + customer.email != \"\"",
            "customer.signed_up_at < customer.last_visit_at",
            "days_since(customer.attributes.joined) > 3",
            "days_since(customer.last_activity_at) >= 30 and days_since(customer.signed_up_at) < 365",
            "customer.attributes.tier in [\"gold\", \"silver\"]",
            "customer.attributes.code in customer.attributes.codes",
            "customer.visits_total in [1, 2, null]",
            "has(customer.email) and customer.email_opt_in",
            "lower(customer.name) < \"m\"",
            "-customer.lifetime_value / 2 <= customer.visits_total * 3 - 1",
            "business.name == \"Bean There\" and workflow.id != \"x\" and business.timezone != \"UTC\"",
            "customer.visits_30d > 0 or customer.visits_90d > 2",
        ]
    )
    func validConditions(text: String) {
        #expect(problems(text) == [])
    }

    @Test("records the text and every field a condition reads")
    func fieldsRead() throws {
        let text =
            "customer.visits_total >= 1 and \"vip\" in customer.tags and customer.attributes.points > 1 or has(customer.email)"
        let condition = try Condition.compile(text, catalog: FieldCatalog(trigger: .birthday)).get()
        #expect(condition.text == text)
        #expect(condition.description == text)
        #expect(
            condition.fields == [
                .customer(.visits_total), .customer(.tags), .attribute("points"), .customer(.email),
            ])
    }

    @Test(
        "resolves dotted paths to fields",
        arguments: [
            ("customer.first_name", Field.customer(.first_name)),
            ("customer.attributes", .customer(.attributes)),
            ("customer.attributes.points", .attribute("points")),
            ("customer.attributes.a.b", .attribute("a.b")),
            ("offer.stamps_required", .offer(.stamps_required)),
            ("progress.stamps_remaining", .progress(.stamps_remaining)),
            ("trigger.kind", .trigger(.kind)),
            ("business.timezone", .business(.timezone)),
            ("workflow.name", .workflow(.name)),
        ]
    )
    func resolve(path: String, field: Field) throws {
        let resolved = try FieldCatalog(trigger: nil).resolve(path).get()
        #expect(resolved == field)
        #expect(resolved.description == path)
    }

    @Test("lists the paths valid for a trigger kind")
    func allPaths() {
        let birthday = FieldCatalog(trigger: .birthday).allPaths
        #expect(birthday.contains("customer.visits_total"))
        #expect(birthday.contains("trigger.days_before"))
        #expect(birthday.contains("trigger.kind"))
        #expect(!birthday.contains("trigger.days"))
        #expect(!birthday.contains { $0.hasPrefix("offer.") || $0.hasPrefix("progress.") })
        let milestone = FieldCatalog(trigger: .milestone).allPaths
        #expect(milestone.contains("offer.name"))
        #expect(milestone.contains("progress.percent"))
        #expect(milestone.contains("trigger.offer"))
        #expect(!milestone.contains("trigger.days_after"))
        let any = FieldCatalog(trigger: nil).allPaths
        #expect(any.count == Field.CustomerField.allCases.count + 5 + 4 + 7 + 2 + 2)
    }
}
