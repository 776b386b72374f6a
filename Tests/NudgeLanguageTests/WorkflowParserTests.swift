import Foundation
import Testing

@testable import NudgeLanguage
import NudgeCore

/// Parses a workflow file as `Workflows/x.yaml` and returns the workflow and the sorted diagnostics as printed.
private func parse(
    _ text: String, channels: Set<Channel> = Set(Channel.allCases)
) -> (workflow: Workflow?, diagnostics: [String]) {
    var diagnostics = Diagnostics()
    let workflow = WorkflowParser.parse(text, file: "Workflows/x.yaml", channels: channels, diagnostics: &diagnostics)
    return (workflow, diagnostics.sorted.map(\.description))
}

/// A workflow file with `trigger` (its lines after `trigger:`, or a scalar) on line 2 on.
private func file(trigger: String = "  birthday: {}", when: String? = nil, extra: String = "") -> String {
    var text = "id: x\ntrigger:\(trigger.hasPrefix(" ") && !trigger.hasPrefix("  ") ? "" : "\n")\(trigger)\n"
    if let when { text += "when: \(when)\n" }
    text += "actions:\n  - send: { channel: email, template: t }\n"
    text += extra
    return text
}

@Suite("Workflow parser")
struct WorkflowParserTests {
    @Test("parses a complete workflow into checked values")
    func validWorkflow() throws {
        let text = """
            id: birthday-treat
            name: Birthday treat
            enabled: false
            trigger:
              birthday: {}
            when:
              - customer.visits_total >= 1
              - not ("staff" in customer.tags)
            actions:
              - send: { channel: email, template: birthday }
              - send: { channel: [push, sms], template: birthday }
            send_at: "10:00"
            description: Treat regulars on their birthday.

            """
        let (parsed, diagnostics) = parse(text)
        #expect(diagnostics == [])
        let workflow = try #require(parsed)
        #expect(workflow.id == "birthday-treat")
        #expect(workflow.name == "Birthday treat")
        #expect(workflow.isEnabled == false)
        #expect(workflow.trigger == .birthday(daysBefore: 0))
        #expect(workflow.trigger.kind == .birthday)
        #expect(workflow.trigger.isDateBased)
        #expect(workflow.conditions.map(\.text) == ["customer.visits_total >= 1", "not (\"staff\" in customer.tags)"])
        #expect(workflow.fieldsRead == [.customer(.visits_total), .customer(.tags)])
        #expect(workflow.actions.map(\.channels) == [[.email], [.push, .sms]])
        #expect(workflow.actions.map(\.template) == ["birthday", "birthday"])
        #expect(workflow.actions.map(\.location.description) == ["Workflows/x.yaml:10:39", "Workflows/x.yaml:11:45"])
        #expect(workflow.catchUp == DurationSpec(seconds: 86_400, text: "1d"))
        #expect(workflow.sendAt == TimeOfDay(hour: 10, minute: 0))
        #expect(workflow.file == "Workflows/x.yaml")
        #expect(workflow.idLocation == SourceLocation(file: "Workflows/x.yaml", line: 1, column: 5))
    }

    @Test("fills in defaults: enabled, name, catch_up, send_at, no conditions")
    func defaults() throws {
        let (parsed, diagnostics) = parse(file(trigger: "  signup:", when: "", extra: "catch_up: 2w\n"))
        #expect(diagnostics == [])
        let workflow = try #require(parsed)
        #expect(workflow.isEnabled)
        #expect(workflow.name == "x")
        #expect(workflow.trigger == .signup(daysAfter: 0))
        #expect(workflow.trigger.isDateBased == false)
        #expect(workflow.conditions.isEmpty)
        #expect(workflow.catchUp == DurationSpec(seconds: 1_209_600, text: "2w"))
        #expect(workflow.sendAt == nil)
        let plain = try #require(parse(file()).workflow)
        #expect(plain.catchUp.seconds == 86_400)
        #expect(plain.catchUp.text == "1d")
    }

    @Test(
        "reads each trigger kind with its parameters",
        arguments: [
            ("  birthday: { days_before: 3 }", Trigger.birthday(daysBefore: 3)),
            ("  birthday: {}", .birthday(daysBefore: 0)),
            ("  birthday:", .birthday(daysBefore: 0)),
            (" birthday", .birthday(daysBefore: 0)),
            ("  inactivity: { days: [90, 30, 60] }", .inactivity(days: [30, 60, 90])),
            ("  inactivity: { days: 14 }", .inactivity(days: [14])),
            ("  inactivity:\n    days:\n      - 60\n      - 0", .inactivity(days: [0, 60])),
            ("  milestone: { offer: \"*\", percent: [100, 50, 80] }", .milestone(offer: nil, percents: [50, 80, 100])),
            ("  milestone: { offer: latte-card, percent: 80 }", .milestone(offer: "latte-card", percents: [80])),
            ("  signup: {}", .signup(daysAfter: 0)),
            ("  signup: { days_after: 7 }", .signup(daysAfter: 7)),
            (" signup", .signup(daysAfter: 0)),
        ]
    )
    func triggers(lines: String, trigger: Trigger) throws {
        let (parsed, diagnostics) = parse(file(trigger: lines))
        #expect(diagnostics == [])
        #expect(try #require(parsed).trigger == trigger)
    }

    @Test("reports a YAML syntax error with its line")
    func yamlSyntaxError() {
        let (workflow, diagnostics) = parse("id: x\ntrigger:\n  birthday: {}\n actions: []\n")
        #expect(workflow == nil)
        #expect(
            diagnostics == [
                "Workflows/x.yaml:4:2: error: invalid YAML: did not find expected key while parsing a block mapping"
            ])
    }

    @Test("reports an unclosed flow mapping with the line it is noticed on")
    func yamlUnclosedFlow() {
        let (workflow, diagnostics) = parse("id: x\ntrigger: { birthday: {}\nactions: []\n")
        #expect(workflow == nil)
        #expect(
            diagnostics == [
                "Workflows/x.yaml:3:1: error: invalid YAML: did not find expected ',' or '}' while parsing a flow mapping"
            ])
    }

    @Test("reports an empty file and a file that is not a mapping")
    func notAMapping() {
        #expect(parse("").diagnostics == ["Workflows/x.yaml:1:1: error: the file is empty"])
        #expect(
            parse("- id: x\n").diagnostics == ["Workflows/x.yaml:1:1: error: a workflow must be a mapping, not a list"])
    }

    @Test("reports a duplicate key at its first occurrence")
    func duplicateKey() {
        let (workflow, diagnostics) = parse(file() + "id: y\n")
        #expect(workflow == nil)
        #expect(diagnostics == ["Workflows/x.yaml:1:1: error: duplicate key 'id'"])
    }

    @Test("reports an unknown top-level key with a did-you-mean")
    func unknownKey() {
        let text = "id: x\ntigger:\n  birthday: {}\nactions:\n  - send: { channel: email, template: t }\n"
        let (workflow, diagnostics) = parse(text)
        #expect(workflow == nil)
        #expect(
            diagnostics == [
                "Workflows/x.yaml:1:1: error: missing key 'trigger' in the workflow",
                "Workflows/x.yaml:2:1: error: unknown key 'tigger' in a workflow (did you mean 'trigger'?)",
            ])
    }

    @Test("reports missing id, trigger and actions together")
    func missingKeys() {
        let (workflow, diagnostics) = parse("name: Nothing here\n")
        #expect(workflow == nil)
        #expect(
            diagnostics == [
                "Workflows/x.yaml:1:1: error: missing key 'actions' in the workflow",
                "Workflows/x.yaml:1:1: error: missing key 'id' in the workflow",
                "Workflows/x.yaml:1:1: error: missing key 'trigger' in the workflow",
            ])
    }

    @Test(
        "rejects ids that are not letters, digits, '-' and '_'",
        arguments: ["id: bad id", "id: café", "id: \"\"", "id: [a]", "id: a/b"]
    )
    func badID(line: String) {
        let text = file().replacingOccurrences(of: "id: x", with: line)
        #expect(
            parse(text).diagnostics == [
                "Workflows/x.yaml:1:5: error: 'id' must be letters, digits, '-' and '_', such as birthday-treat"
            ])
    }

    @Test("reports two triggers at the second one")
    func twoTriggers() {
        let (workflow, diagnostics) = parse(file(trigger: "  birthday: {}\n  signup: {}"))
        #expect(workflow == nil)
        #expect(
            diagnostics == [
                "Workflows/x.yaml:4:3: error: a workflow has exactly one trigger, but this one has 2: birthday, signup "
                    + "(split it into one workflow per trigger)"
            ])
    }

    @Test(
        "reports unknown and malformed triggers",
        arguments: [
            ("  birthdy: { days_before: 1 }", "3:3: error: unknown trigger 'birthdy' (did you mean 'birthday'?)"),
            ("  inactivty: { days: 30 }", "3:3: error: unknown trigger 'inactivty' (did you mean 'inactivity'?)"),
            (
                "  anniversary: {}",
                "3:3: error: unknown trigger 'anniversary' (expected one of: birthday, inactivity, milestone, new_offer, once, reward, schedule, segment, signup, visit)"
            ),
            (
                " birthdy",
                "2:10: error: 'trigger' must be a mapping with one trigger such as 'birthday: { days_before: 0 }' (did you mean 'birthday'?)"
            ),
            (
                " {}",
                "2:10: error: 'trigger' is empty (expected one of: birthday, inactivity, milestone, signup, segment, reward, visit, once, schedule, new_offer)"
            ),
            (
                " [birthday]",
                "2:10: error: 'trigger' must be a mapping with one trigger such as 'birthday: { days_before: 0 }'"
            ),
        ]
    )
    func badTrigger(lines: String, expected: String) {
        let (workflow, diagnostics) = parse(file(trigger: lines))
        #expect(workflow == nil)
        #expect(diagnostics == ["Workflows/x.yaml:" + expected])
    }

    @Test(
        "reports trigger parameters out of range or malformed, at the value",
        arguments: [
            (
                "  milestone: { offer: \"*\", percent: [50, 150] }",
                "3:42: error: 'percent' must be between 0 and 100, not 150"
            ),
            ("  milestone: { offer: \"*\", percent: -1 }", "3:37: error: 'percent' must be between 0 and 100, not -1"),
            ("  inactivity: { days: [30, -5] }", "3:28: error: 'days' must be between 0 and 3650, not -5"),
            ("  birthday: { days_before: 400 }", "3:28: error: 'days_before' must be between 0 and 365, not 400"),
            ("  birthday: { days_before: -1 }", "3:28: error: 'days_before' must be between 0 and 365, not -1"),
            ("  birthday: { days_before: two }", "3:28: error: 'days_before' must be a whole number, not 'two'"),
            ("  signup: { days_after: 1.5 }", "3:25: error: 'days_after' must be a whole number, not '1.5'"),
            ("  signup: { days_after: 4000 }", "3:25: error: 'days_after' must be between 0 and 3650, not 4000"),
            ("  inactivity: { days: [30, 30] }", "3:28: error: 'days' lists 30 twice"),
            ("  inactivity: { days: [] }", "3:23: error: 'days' needs at least one number"),
            ("  inactivity: {}", "3:15: error: missing key 'days' in the inactivity trigger"),
            ("  reward: {}", "3:11: error: missing key 'offer' in the reward trigger"),
            (
                "  new_offer: { offer: coffee }",
                "3:16: error: the new_offer trigger takes no parameters, but this one has 'offer' (write new_offer: {} and pick the offers with 'when', e.g. offer.category in customer.preferences)"
            ),
            ("  visit: { delay: 2x }", "3:19: error: 'delay' must be a duration such as 0m, 2h or 1d (at most a year), not '2x'"),
            (
                "  once: { at: tomorrow }",
                "3:15: error: 'at' must be an ISO 8601 time such as \"2026-12-20T10:00\" (the business's zone) or \"2026-12-20T10:00:00Z\", not 'tomorrow'"
            ),
            (
                "  schedule: { cron: \"0 10 * *\" }",
                "3:21: error: invalid 'cron': a cron expression has 5 fields (minute hour day-of-month month day-of-week), such as \"0 10 * * 1\"; this one has 4"
            ),
            (
                "  schedule: { cron: \"61 * * * *\" }",
                "3:21: error: invalid 'cron': the minute field '61': 61 is outside 0–59"
            ),
            ("  milestone: { percent: 50 }", "3:14: error: missing key 'offer' in the milestone trigger"),
            (
                "  birthday: { days: 3 }",
                "3:15: error: unknown key 'days' in the birthday trigger (expected one of: days_before)"
            ),
            (
                "  milestone: { offer: \"\", percent: 50 }",
                "3:23: error: 'offer' must be an offer id or \"*\" for any offer"
            ),
            ("  birthday: 3", "3:13: error: the birthday trigger must be a mapping, not a scalar"),
        ]
    )
    func badTriggerParameters(lines: String, expected: String) {
        let (workflow, diagnostics) = parse(file(trigger: lines))
        #expect(workflow == nil)
        #expect(diagnostics == ["Workflows/x.yaml:" + expected])
    }

    @Test("reports the missing parameters of a trigger written as a bare name, in the file")
    func bareTriggerMissingParameters() {
        #expect(
            parse(file(trigger: " inactivity")).diagnostics == [
                "Workflows/x.yaml:2:10: error: missing key 'days' in the inactivity trigger"
            ])
        #expect(
            parse(file(trigger: " milestone")).diagnostics == [
                "Workflows/x.yaml:2:10: error: missing key 'offer' in the milestone trigger",
                "Workflows/x.yaml:2:10: error: missing key 'percent' in the milestone trigger",
            ])
    }

    @Test("reports every missing parameter of a milestone trigger")
    func milestoneMissingBoth() {
        #expect(
            parse(file(trigger: "  milestone: {}")).diagnostics == [
                "Workflows/x.yaml:3:14: error: missing key 'offer' in the milestone trigger",
                "Workflows/x.yaml:3:14: error: missing key 'percent' in the milestone trigger",
            ])
    }

    @Test(
        "rejects catch_up values that are not positive durations",
        arguments: ["1 day", "2x", "0d", "-1d", "d", "1.5h"]
    )
    func badCatchUp(value: String) {
        #expect(
            parse(file(extra: "catch_up: \(value)\n")).diagnostics == [
                "Workflows/x.yaml:6:11: error: 'catch_up' must be a positive duration such as 30m, 12h, 1d or 2w, not '\(value)'"
            ])
    }

    @Test(
        "accepts catch_up durations",
        arguments: [("30m", 1800), ("12h", 43_200), ("1d", 86_400), ("2w", 1_209_600)]
    )
    func catchUp(value: String, seconds: Int) throws {
        let workflow = try #require(parse(file(extra: "catch_up: \(value)\n")).workflow)
        #expect(workflow.catchUp == DurationSpec(seconds: seconds, text: value))
    }

    @Test("rejects send_at values that are not HH:MM", arguments: ["9am", "24:00", "9:00", "\"12:60\"", "noon"])
    func badSendAt(value: String) {
        let shown = value.replacingOccurrences(of: "\"", with: "")
        #expect(
            parse(file(extra: "send_at: \(value)\n")).diagnostics == [
                "Workflows/x.yaml:6:10: error: 'send_at' must be a time of day as \"HH:MM\", not '\(shown)'"
            ])
    }

    @Test("rejects an 'enabled' that is not a boolean and accepts yes/no")
    func enabled() throws {
        #expect(
            parse(file(extra: "enabled: perhaps\n")).diagnostics == [
                "Workflows/x.yaml:6:10: error: 'enabled' must be true or false"
            ])
        #expect(try #require(parse(file(extra: "enabled: no\n")).workflow).isEnabled == false)
        #expect(try #require(parse(file(extra: "enabled: yes\n")).workflow).isEnabled == true)
    }

    @Test("reports empty or malformed actions")
    func badActions() {
        let base = "id: x\ntrigger:\n  birthday: {}\n"
        #expect(
            parse(base + "actions: []\n").diagnostics == [
                "Workflows/x.yaml:4:10: error: 'actions' is empty: a workflow needs at least one send"
            ])
        #expect(
            parse(base + "actions:\n").diagnostics == [
                "Workflows/x.yaml:4:9: error: 'actions' is empty: a workflow needs at least one send"
            ])
        #expect(
            parse(base + "actions: send\n").diagnostics == [
                "Workflows/x.yaml:4:10: error: 'actions' must be a list such as '- send: { channel: email, template: welcome }'"
            ])
    }

    @Test(
        "reports bad send actions at the offending value",
        arguments: [
            (
                "  - send: { channel: emial, template: t }",
                "5:22: error: unknown channel 'emial' (did you mean 'email'?)"
            ),
            (
                "  - send: { channel: fax, template: t }",
                "5:22: error: unknown channel 'fax' (expected one of: email, push, sms, wallet)"
            ),
            ("  - send: { channel: [email, email], template: t }", "5:30: error: channel 'email' is listed twice"),
            ("  - send: { channel: [], template: t }", "5:22: error: 'channel' needs at least one channel"),
            ("  - sned: { channel: email, template: t }", "5:5: error: unknown action 'sned' (did you mean 'send'?)"),
            ("  - send: { channel: email }", "5:11: error: missing key 'template' in send"),
            (
                "  - send: { channel: email, template: a/b }",
                "5:39: error: 'template' must be a template name such as birthday"
            ),
            (
                "  - send: { channel: email, template: t, to: x }",
                "5:42: error: unknown key 'to' in send (expected one of: channel, template)"
            ),
            ("  - send email", "5:5: error: each action must be one 'send: { channel: …, template: … }'"),
        ]
    )
    func badAction(line: String, expected: String) {
        let text = "id: x\ntrigger:\n  birthday: {}\nactions:\n\(line)\n"
        let (workflow, diagnostics) = parse(text)
        #expect(workflow == nil)
        #expect(diagnostics == ["Workflows/x.yaml:" + expected])
    }

    @Test("reports a channel that nudge.yaml does not configure")
    func unconfiguredChannel() {
        let text = "id: x\ntrigger:\n  birthday: {}\nactions:\n  - send: { channel: [email, sms], template: t }\n"
        #expect(
            parse(text, channels: [.email]).diagnostics == [
                "Workflows/x.yaml:5:30: error: channel 'sms' is not configured in nudge.yaml "
                    + "(add it under 'channels:', e.g. sms: { provider: file, path: outbox/sms.jsonl })"
            ])
        #expect(parse(text, channels: [.email, .sms]).diagnostics == [])
    }

    @Test(
        "points expression errors at the token inside the 'when' string",
        arguments: [
            (
                "customer.visit_total >= 1",
                "4:7: error: unknown field 'customer.visit_total' (did you mean 'customer.visits_total'?)"
            ),
            (
                "\"customer.visit_total >= 1\"",
                "4:8: error: unknown field 'customer.visit_total' (did you mean 'customer.visits_total'?)"
            ),
            (
                "'customer.visit_total >= 1'",
                "4:8: error: unknown field 'customer.visit_total' (did you mean 'customer.visits_total'?)"
            ),
            ("customer.visits_total >= \"1\"", "4:29: error: cannot order a number and text using '>='"),
            ("'customer.visits_total >= \"1\"'", "4:30: error: cannot order a number and text using '>='"),
            ("\"customer.visits_total >= '1'\"", "4:30: error: cannot order a number and text using '>='"),
            ("customer.age >= 18 && customer.sms_opt_in", "4:26: error: '&&' is not an operator (use 'and')"),
            (
                "customer.visits_total",
                "4:7: error: a condition must be true or false, but this is a number (compare it, for example '… > 0')"
            ),
            ("'offer.name == \"x\"'", "4:8: error: 'offer.name' is only available in milestone, reward and new_offer workflows"),
            ("trigger.days > 3", "4:7: error: 'trigger.days' is not a parameter of the birthday trigger"),
        ]
    )
    func expressionColumns(when: String, expected: String) {
        let (workflow, diagnostics) = parse(file(when: when))
        #expect(workflow == nil)
        #expect(diagnostics == ["Workflows/x.yaml:" + expected])
    }

    @Test("points expression errors in a 'when' list at their item")
    func expressionColumnsInList() {
        let text = """
            id: x
            trigger:
              inactivity: { days: 30 }
            when:
              - customer.visits_total > 1 and offer.name == 'x'
              - trigger.days >= 30
              -   customer.age > "18"
              - customer.name: x
            actions:
              - send: { channel: email, template: t }

            """
        #expect(
            parse(text).diagnostics == [
                "Workflows/x.yaml:5:35: error: 'offer.name' is only available in milestone, reward and new_offer workflows",
                "Workflows/x.yaml:7:20: error: cannot order a number and text using '>'",
                "Workflows/x.yaml:8:5: error: each 'when' entry must be an expression such as customer.visits_total >= 1, "
                    + "not a mapping (quote an expression that contains ': ')",
            ])
    }

    @Test("reports every problem of a file at once, sorted by place")
    func allProblemsAtOnce() {
        let text = """
            id: bad id
            tigger: {}
            when:
              - customer.visit_total > 1
              - customer.age >= '18'
            actions:
              - send: { channel: emial, template: t }
              - send: { channel: sms, template: t }
            catch_up: 1 day
            send_at: 9am
            enabled: perhaps

            """
        let (workflow, diagnostics) = parse(text, channels: [.email])
        #expect(workflow == nil)
        #expect(
            diagnostics == [
                "Workflows/x.yaml:1:1: error: missing key 'trigger' in the workflow",
                "Workflows/x.yaml:1:5: error: 'id' must be letters, digits, '-' and '_', such as birthday-treat",
                "Workflows/x.yaml:2:1: error: unknown key 'tigger' in a workflow (did you mean 'trigger'?)",
                "Workflows/x.yaml:4:5: error: unknown field 'customer.visit_total' (did you mean 'customer.visits_total'?)",
                "Workflows/x.yaml:5:18: error: cannot order a number and text using '>='",
                "Workflows/x.yaml:7:22: error: unknown channel 'emial' (did you mean 'email'?)",
                "Workflows/x.yaml:8:22: error: channel 'sms' is not configured in nudge.yaml "
                    + "(add it under 'channels:', e.g. sms: { provider: file, path: outbox/sms.jsonl })",
                "Workflows/x.yaml:9:11: error: 'catch_up' must be a positive duration such as 30m, 12h, 1d or 2w, not '1 day'",
                "Workflows/x.yaml:10:10: error: 'send_at' must be a time of day as \"HH:MM\", not '9am'",
                "Workflows/x.yaml:11:10: error: 'enabled' must be true or false",
            ])
    }

    @Test("keeps a draft of what parsed, for checks across files, when the file has errors")
    func draft() throws {
        var diagnostics = Diagnostics()
        let text = file(trigger: "  milestone: { offer: \"*\", percent: 150 }", when: "offer.nme == 'x'")
        let draft = try #require(
            WorkflowParser.parseDraft(text, file: "Workflows/x.yaml", channels: [.email], diagnostics: &diagnostics))
        #expect(draft.workflow == nil)
        #expect(draft.id == "x")
        #expect(draft.idLocation == SourceLocation(file: "Workflows/x.yaml", line: 1, column: 5))
        #expect(draft.triggerKind == .milestone)
        #expect(draft.actions.map(\.template) == ["t"])
        #expect(
            diagnostics.sorted.map(\.description) == [
                "Workflows/x.yaml:3:37: error: 'percent' must be between 0 and 100, not 150",
                "Workflows/x.yaml:4:7: error: unknown field 'offer.nme' (did you mean 'offer.name'?)",
            ])
    }

    @Test("drafts the trigger kind of a bare trigger name with missing parameters")
    func draftOfBareTrigger() throws {
        var diagnostics = Diagnostics()
        let text = file(trigger: " inactivity", when: "offer.name == 'x'")
        let draft = try #require(
            WorkflowParser.parseDraft(text, file: "Workflows/x.yaml", channels: [.email], diagnostics: &diagnostics))
        #expect(draft.triggerKind == .inactivity)
        #expect(
            diagnostics.sorted.map(\.description) == [
                "Workflows/x.yaml:2:10: error: missing key 'days' in the inactivity trigger",
                "Workflows/x.yaml:3:7: error: 'offer.name' is only available in milestone, reward and new_offer workflows",
            ])
    }

    @Test("drafts no id when it is invalid and no trigger kind when it is unknown")
    func draftWithoutID() throws {
        var diagnostics = Diagnostics()
        let text = file(trigger: "  birthdy: {}").replacingOccurrences(of: "id: x", with: "id: bad id")
        let draft = try #require(
            WorkflowParser.parseDraft(text, file: "Workflows/x.yaml", channels: [.email], diagnostics: &diagnostics))
        #expect(draft.id == nil)
        #expect(draft.triggerKind == nil)
        #expect(draft.workflow == nil)
        #expect(
            WorkflowParser.parseDraft("- x", file: "Workflows/x.yaml", channels: [.email], diagnostics: &diagnostics)
                == nil)
    }

    @Test("appends to diagnostics already collected for other files")
    func appendsDiagnostics() {
        var diagnostics = Diagnostics()
        diagnostics.warning("earlier", at: SourceLocation(file: "nudge.yaml", line: 1))
        _ = WorkflowParser.parse("name: x\n", file: "Workflows/a.yaml", channels: [.email], diagnostics: &diagnostics)
        #expect(diagnostics.all.count == 4)
        #expect(diagnostics.all.first?.message == "earlier")
        #expect(diagnostics.hasErrors)
    }

    @Test("a broadcast without 'when' is a warning at its trigger; with one, or with when: 'true', it is not")
    func broadcastWithoutWhen() {
        let (workflow, diagnostics) = parse(file(trigger: "  schedule: { cron: \"0 10 * * 5\" }"))
        #expect(workflow != nil)
        #expect(
            diagnostics == [
                "Workflows/x.yaml:3:3: warning: a schedule workflow without 'when' is sent to every customer "
                    + "(pick its audience, e.g. when: '\"regulars\" in customer.segments', or when: 'true' for everyone)"
            ])
        #expect(parse(file(trigger: "  once: { at: \"2026-12-20T10:00\" }", when: "'true'")).diagnostics.isEmpty)
        #expect(parse(file(trigger: "  once: { at: \"2026-12-20T10:00\" }", when: "customer.visits_total > 0")).diagnostics.isEmpty)
        #expect(parse(file(trigger: "  reward: { offer: coffee }")).diagnostics.isEmpty)
        #expect(parse(file(trigger: "  new_offer: {}", when: "offer.category in customer.preferences")).diagnostics.isEmpty)
        #expect(
            parse(file(trigger: "  new_offer: {}")).diagnostics == [
                "Workflows/x.yaml:3:3: warning: a new_offer workflow without 'when' is sent to every customer "
                    + "(pick its audience, e.g. when: '\"regulars\" in customer.segments', or when: 'true' for everyone)"
            ])
    }
}
