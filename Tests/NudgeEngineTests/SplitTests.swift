import Foundation
import GRDB
import NudgeEngine
import NudgeLanguage
import NudgeStore
import Testing
import NudgeCore

@Suite("A/B split with a holdout")
struct SplitTests {
    static let split = Split(
        variants: [
            Split.Variant(name: "pastry", weight: 45, actions: 0..<1),
            Split.Variant(name: "discount", weight: 45, actions: 1..<2),
            Split.Variant(name: "control", weight: 10, actions: 2..<2),
        ], location: SourceLocation(file: "w.yaml"))

    static let workflow = """
        trigger:
          signup: {}
        actions:
          - split:
              pastry:   { weight: 45, then: [ { send: { channel: email, template: t } } ] }
              discount: { weight: 45, then: [ { send: { channel: [sms, email], template: t } } ] }
              control:  { weight: 10 }
        """

    // Computed apart from Nudge (Python's hashlib), from the rule the README documents.
    @Test(
        "the variant is the documented function of (workflow id, customer id)",
        arguments: [
            ("c1", "discount"), ("c2", "pastry"), ("c3", "control"), ("c4", "pastry"), ("c5", "discount"),
            ("c8", "discount"), ("c00042", "pastry"), ("ana@example", "discount"),
        ])
    func documented(customer: String, variant: String) {
        #expect(Self.split.variant(workflowID: "win-back", customerID: customer).name == variant)
    }

    @Test("over 10,000 customers each variant's share is within 2 points of its weight")
    func shares() {
        var counts: [String: Int] = [:]
        for n in 1...10_000 {
            counts[Self.split.variant(workflowID: "win-back", customerID: String(format: "c%05d", n)).name, default: 0] += 1
        }
        let shares = Self.split.variants.map { (name: $0.name, weight: $0.weight, share: Double(counts[$0.name] ?? 0) / 100) }
        print("split shares over 10,000 customers: " + shares.map { "\($0.name) \($0.share) % (weight \($0.weight))" }.joined(separator: ", "))
        for share in shares { #expect(abs(share.share - Double(share.weight)) <= 2, "\(share.name)") }
        // Another workflow draws anew: the same customers fall otherwise.
        let other = (1...200).filter { n in
            let id = String(format: "c%05d", n)
            return Self.split.variant(workflowID: "win-back", customerID: id).name
                != Self.split.variant(workflowID: "welcome", customerID: id).name
        }
        #expect(other.count > 50)
    }

    func fixture(customers: Int) throws -> Fixture {
        let fixture = try Fixture(workflow: Self.workflow)
        for n in 1...customers {
            try fixture.add(String(format: "c%03d", n), signedUp: "2026-11-25T10:00:00Z", phone: "+1415555\(1000 + n)")
        }
        return fixture
    }

    @Test("each customer gets their variant's sends; a holdout is planned as suppressed, reason holdout; run records what dry-run showed")
    func planned() async throws {
        let fixture = try fixture(customers: 300)
        let plan = try await fixture.plan(at: "2026-11-25T10:30:00Z")
        #expect(plan.messages.count == 300)
        for message in plan.messages {
            let variant = Self.split.variant(workflowID: "w", customerID: message.customerID).name
            #expect(message.variant == variant)
            switch variant {
            case "pastry": #expect(message.channel == .email && message.actionIndex == 0 && message.status == .send)
            case "discount": #expect(message.channel == .sms && message.actionIndex == 1 && message.status == .send)
            default:
                #expect(message.status == .suppressed && message.reason == "holdout" && message.channel == nil)
                #expect(message.jsonLine(includeRendered: false).contains(#""template":null"#))
            }
        }
        #expect(Set(plan.messages.compactMap(\.variant)) == ["pastry", "discount", "control"])
        #expect(plan.messages.first?.jsonLine(includeRendered: false).contains(#""variant":""#) == true)

        let project = try fixture.project()
        let now = try #require(ISO8601.parse("2026-11-25T10:30:00Z", zone: project.config.timeZone))
        let summary = try await Planner(project: project, store: fixture.database).commit(
            now: now, createdAt: now, newID: { UUID().uuidString })
        #expect(summary.plan.messages.map { "\($0.customerID) \($0.variant ?? "-")" } == plan.messages.map { "\($0.customerID) \($0.variant ?? "-")" })
        let (ledger, outbox) = try await fixture.database.reader.read { db in
            (
                try Row.fetchAll(db, sql: "SELECT customer_id, variant FROM ledger ORDER BY customer_id").map { "\($0[0] as String) \($0[1] as String)" },
                try Row.fetchAll(db, sql: "SELECT customer_id, variant, status FROM outbox ORDER BY customer_id")
                    .map { "\($0[0] as String) \($0[1] as String)" }
            )
        }
        let expected = plan.messages.map { "\($0.customerID) \($0.variant ?? "-")" }.sorted()
        #expect(ledger == expected)
        #expect(outbox == expected)
        // The holdout is in the ledger too: a second run plans nobody again.
        #expect(try await fixture.plan(at: "2026-11-25T10:45:00Z").messages.isEmpty)
    }
}

@Suite("A/B split in the workflow language")
struct SplitLanguageTests {
    func parse(_ actions: String) -> (Workflow?, [String]) {
        var diagnostics = Diagnostics()
        let workflow = WorkflowParser.parse(
            "id: x\ntrigger:\n  signup: {}\nactions:\n" + actions, file: "x.yaml", channels: [.email, .sms],
            diagnostics: &diagnostics)
        return (workflow, diagnostics.all.map { "\($0.location.line):\($0.location.column): \($0.message)" })
    }

    @Test("variants, their weights and their sends are read in order; a variant without then is a holdout")
    func parsed() throws {
        let (workflow, problems) = parse(
            """
              - split:
                  a: { weight: 3, then: [ { send: { channel: email, template: one } }, { send: { channel: sms, template: two } } ] }
                  control: { weight: 1 }
                  b:
                    weight: 2
                    then:
                      - send: { channel: sms, template: three }
            """)
        #expect(problems.isEmpty)
        let split = try #require(workflow?.split)
        #expect(split.variants.map(\.name) == ["a", "control", "b"])
        #expect(split.variants.map(\.weight) == [3, 1, 2])
        #expect(split.variants.map(\.actions) == [0..<2, 2..<2, 2..<3])
        #expect(split.variants.map(\.isHoldout) == [false, true, false])
        #expect(workflow?.actions.map(\.template) == ["one", "two", "three"])
    }

    @Test(
        "a split's mistakes are reported where they are written",
        arguments: [
            ("  - split: { a: { weight: 1, then: [ { send: { channel: email, template: t } } ] } }\n", "5:12: a split needs at least two variants, each 'NAME: { weight: N, then: [sends] }'"),
            ("  - split: { a: { weight: 0 }, b: { weight: 1, then: [ { send: { channel: email, template: t } } ] } }\n", "5:27: 'weight' must be between 1 and 1000000, not 0"),
            ("  - split: { a: { then: [ { send: { channel: email, template: t } } ] }, b: { weight: 1 } }\n", "5:17: missing key 'weight' in variant 'a'"),
            ("  - split: { a: { weight: 1 }, b: { weight: 1 } }\n", "5:5: every variant of this split is a holdout: nothing would ever be sent"),
            ("  - split: { a: { weight: 1, share: 2 }, b: { weight: 1, then: [ { send: { channel: email, template: t } } ] } }\n", "5:30: unknown key 'share' in variant 'a'"),
            ("  - split: { a: { weight: 1, then: [ { send: { channel: push, template: t } } ] }, b: { weight: 1 } }\n", "5:57: channel 'push' is not configured in nudge.yaml"),
            ("  - send: { channel: email, template: t }\n  - split: { a: { weight: 1, then: [ { send: { channel: email, template: t } } ] }, b: { weight: 1 } }\n", "6:5: a workflow with a split sends only through its variants"),
            ("  - split: { a b: { weight: 1 }, b: { weight: 1, then: [ { send: { channel: email, template: t } } ] } }\n", "5:14: a variant's name must be letters, digits, '-' and '_', such as control"),
        ])
    func mistakes(actions: String, problem: String) {
        let (workflow, problems) = parse(actions)
        #expect(workflow == nil)
        #expect(problems.first == problem, "\(problems)")
    }
}

extension SplitTests {
    @Test("exit_when holds the holdout back as it does the variants, so the groups stay comparable")
    func holdoutExits() async throws {
        let fixture = try Fixture(workflow: Self.workflow + "\nexit_when: customer.visits_total == 0\n")
        for n in 1...40 { try fixture.add(String(format: "c%03d", n), signedUp: "2026-11-25T10:00:00Z") }
        let plan = try await fixture.plan(at: "2026-11-25T10:30:00Z")
        #expect(plan.messages.isEmpty && plan.filteredOut == 40)
    }
}
