import Foundation
import GRDB
@testable import NudgeEngine
import NudgeLanguage
import NudgeRender
import NudgeStore
import Testing
import NudgeCore

@Suite("Planner: conditions, consent and channels")
struct PlannerTests {
    static let signupWorkflow = """
        trigger: { signup: {} }
        actions:
          - send: { channel: [push, sms, email], template: t }
        """

    @Test("the first channel the customer can receive is chosen")
    func fallback() async throws {
        let fixture = try Fixture(workflow: Self.signupWorkflow)
        try fixture.add("push", signedUp: "2026-11-25T10:00:00Z", pushToken: "tok1")
        try fixture.add("pushOff", signedUp: "2026-11-25T10:00:00Z", phone: "+14155550100", pushToken: "tok2", pushOptIn: false)
        try fixture.add("email", signedUp: "2026-11-25T10:00:00Z", phone: "+14155550101", smsOptIn: false)
        try fixture.add(
            "none", signedUp: "2026-11-25T10:00:00Z", email: "n@example.com", emailOptIn: false, phone: "+14155550102",
            smsOptIn: false)
        let plan = try await fixture.plan(at: "2026-11-25T11:00:00Z")
        let byCustomer = Dictionary(uniqueKeysWithValues: plan.messages.map { ($0.customerID, $0) })
        #expect(byCustomer["push"]?.channel == .push)
        #expect(byCustomer["push"]?.recipient == "tok1")
        #expect(byCustomer["pushOff"]?.channel == .sms)
        #expect(byCustomer["pushOff"]?.recipient == "+14155550100")
        #expect(byCustomer["email"]?.channel == .email)
        #expect(byCustomer["none"]?.status == .suppressed)
        #expect(byCustomer["none"]?.channel == nil)
        #expect(
            byCustomer["none"]?.reason
                == "push: no push token; sms: not opted in to sms; email: not opted in to email")
        #expect(plan.sendCount == 3)
        #expect(plan.suppressedCount == 1)
    }

    @Test("a plan cut into slices (one per core when large) is the plan made in one piece")
    func slices() async throws {
        let fixture = try Fixture(
            workflow: """
                trigger: { signup: {} }
                when: '"regular" in customer.tags'
                actions:
                  - send: { channel: [sms, email], template: t }
                """)
        for index in 0..<2_500 {
            let minute = index % 50
            try fixture.add(
                "c\(index)", signedUp: "2026-11-25T10:\(minute < 10 ? "0" : "")\(minute):00Z",
                emailOptIn: index % 5 != 0, phone: index % 3 == 0 ? "+1415555\(1000 + index)" : nil,
                tags: index % 4 == 0 ? [] : ["regular"], name: "Guest \(index)")
        }
        let project = try fixture.project()
        let now = try #require(ISO8601.parse("2026-11-25T11:00:00Z", zone: project.config.timeZone))
        let planner = Planner(project: project, store: fixture.database)
        let whole = try await planner.plan(now: now, workflowIDs: nil, render: true, slices: 1)
        #expect(whole.messages.count == 1_875)
        #expect(whole.filteredOut == 625)
        #expect(whole.sendCount > 0 && whole.suppressedCount > 0)
        for slices in [3, nil] {
            let cut = try await planner.plan(now: now, workflowIDs: nil, render: true, slices: slices)
            #expect(cut.filteredOut == whole.filteredOut)
            #expect(cut.messages.map { $0.jsonLine(includeRendered: true) } == whole.messages.map { $0.jsonLine(includeRendered: true) })
        }
    }

    @Test("wallet needs a pass; email needs an address")
    func singleChannelReasons() async throws {
        let fixture = try Fixture(
            workflow: """
                trigger: { signup: {} }
                actions:
                  - send: { channel: wallet, template: t }
                """)
        try fixture.add("nopass", signedUp: "2026-11-25T10:00:00Z")
        try fixture.add("pass", signedUp: "2026-11-25T10:00:00Z", wallet: "pass-1")
        let plan = try await fixture.plan(at: "2026-11-25T11:00:00Z")
        #expect(plan.messages.map(\.customerID) == ["nopass", "pass"])
        #expect(plan.messages[0].reason == "no wallet pass")
        #expect(plan.messages[1].recipient == "pass-1")
    }

    @Test("when conditions filter customers, evaluated at now")
    func conditions() async throws {
        let fixture = try Fixture(
            workflow: """
                trigger: { signup: { days_after: 30 } }
                when:
                  - customer.visits_total >= 2
                  - not ("staff" in customer.tags)
                  - customer.visits_30d >= 1
                  - customer.days_since_last_activity <= 10
                actions:
                  - send: { channel: email, template: t }
                """)
        let signedUp = "2026-10-26T12:00:00Z"
        try fixture.add("yes", signedUp: signedUp, visits: ["2026-10-27T12:00:00Z", "2026-11-20T12:00:00Z"])
        try fixture.add("staff", signedUp: signedUp, tags: ["staff"], visits: ["2026-10-27T12:00:00Z", "2026-11-20T12:00:00Z"])
        try fixture.add("once", signedUp: signedUp, visits: ["2026-11-20T12:00:00Z"])
        try fixture.add("old", signedUp: signedUp, visits: ["2026-10-26T13:00:00Z", "2026-10-26T14:00:00Z"])
        let plan = try await fixture.plan(at: "2026-11-25T13:00:00Z")
        #expect(plan.messages.map(\.customerID) == ["yes"])
        #expect(plan.filteredOut == 3)
    }

    @Test("age and birthdays without a year")
    func age() async throws {
        let fixture = try Fixture(
            workflow: """
                trigger: { birthday: {} }
                when: customer.age >= 18
                actions:
                  - send: { channel: email, template: t }
                """)
        try fixture.add("adult", zone: "Europe/London", birthDate: "2008-11-25")
        try fixture.add("minor", zone: "Europe/London", birthDate: "2009-11-25")
        try fixture.add("noyear", zone: "Europe/London", birthDate: "--11-25")
        let plan = try await fixture.plan(at: "2026-11-25T10:00:00Z")
        #expect(plan.messages.map(\.customerID) == ["adult"])
    }

    @Test("disabled workflows are skipped and --workflow filters")
    func selection() async throws {
        let fixture = try Fixture(
            workflows: [
                "a.yaml": "id: a\ntrigger: { signup: {} }\nactions: [ { send: { channel: email, template: t } } ]\n",
                "b.yaml": "id: b\ntrigger: { signup: {} }\nactions: [ { send: { channel: email, template: t } } ]\n",
                "c.yaml":
                    "id: c\nenabled: false\ntrigger: { signup: {} }\nactions: [ { send: { channel: email, template: t } } ]\n",
            ])
        try fixture.add("c1", signedUp: "2026-11-25T10:00:00Z")
        #expect(try await fixture.plan(at: "2026-11-25T11:00:00Z").messages.map(\.workflowID) == ["a", "b"])
        #expect(try await fixture.plan(at: "2026-11-25T11:00:00Z", workflows: ["b"]).messages.map(\.workflowID) == ["b"])
    }

    @Test("several actions plan one message each; rendering escapes HTML in email only")
    func renderAndActions() async throws {
        let fixture = try Fixture(
            workflow: """
                trigger: { signup: {} }
                actions:
                  - send: { channel: email, template: t }
                  - send: { channel: sms, template: t }
                """)
        try fixture.add("c1", signedUp: "2026-11-25T10:00:00Z", phone: "+14155550100", name: "Bo <b>Jones</b>")
        let plan = try await fixture.plan(at: "2026-11-25T11:00:00Z", render: true)
        #expect(plan.messages.map(\.channel) == [.email, .sms])
        #expect(plan.messages[0].rendered?.heading?.value == "Hi Bo")
        #expect(plan.messages[0].rendered?.body == "<p>Hello Bo &lt;b&gt;Jones&lt;/b&gt;</p>\n")
        #expect(plan.messages[1].rendered?.body == "Hi Bo from Test Café\n")
        let json = plan.messages[0].jsonLine(includeRendered: true)
        #expect(json.hasPrefix(#"{"workflow":"w","customer":"c1","occurrence":"signup","channel":"email","template":"t","due":"2026-11-25T10:00:00Z","status":"send","reason":null,"to":"c1@example.com","variant":null,"send_after":null,"subject":"Hi Bo","body":"#))
    }

    @Test("a JSON object written field by field is what JSONText.object writes, escapes included")
    func typedJSON() throws {
        let texts: [String?] = ["plain", "quote \" and \\ backslash", "line\nbreak\ttab\u{1}", "café ☕", "", nil]
        for text in texts {
            var object = JSONText.Object()
            object.add("key \"k\"", text)
            object.add("n", -42)
            #expect(object.json == JSONText.object([("key \"k\"", text), ("n", -42)]))
            let parsed = try #require(try JSONSerialization.jsonObject(with: Data(object.json.utf8)) as? [String: Any])
            #expect(parsed["n"] as? Int == -42)
            #expect((parsed["key \"k\""] as? String) == text)
        }
        #expect(JSONText.Object().json == "{}")
        // Control characters as \u00XX in lower case, the short escapes where JSON has them, the rest as it is.
        #expect(JSONText.quote("a\u{1}\u{1f}\n\r\t\"\\é\u{7f}") == #""a\u0001\u001f\n\r\t\"\\é\#u{7f}""#)
    }

    @Test("dry-run changes nothing")
    func readOnly() async throws {
        let fixture = try Fixture(workflow: Self.signupWorkflow)
        try fixture.add("c1", signedUp: "2026-11-25T10:00:00Z")
        _ = try await fixture.plan(at: "2026-11-25T11:00:00Z")
        let ledgerRows = try await fixture.database.reader.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM ledger") }
        #expect(ledgerRows == 0)
        #expect(try await fixture.plan(at: "2026-11-25T11:00:00Z").messages.count == 1)
    }
}

@Suite("Render context")
struct RenderContextTests {
    @Test("time zones are named as written, UTC included")
    func zoneNames() async throws {
        let config = Fixture.defaultConfig.replacingOccurrences(of: "America/New_York", with: "UTC")
        let fixture = try Fixture(
            config: config,
            workflows: [
                "w.yaml": "id: w\ntrigger: { signup: {} }\nactions: [ { send: { channel: sms, template: z } } ]\n"
            ], templates: [],
            extraFiles: ["Templates/z.sms.mustache": "{{business.timezone}} {{customer.timezone}}"])
        try fixture.add("utc", signedUp: "2026-11-25T10:00:00Z", phone: "+14155550100")
        try fixture.add("tokyo", zone: "Asia/Tokyo", signedUp: "2026-11-25T10:00:00Z", phone: "+14155550101")
        let plan = try await fixture.plan(at: "2026-11-25T11:00:00Z", render: true)
        #expect(plan.messages.map { $0.rendered?.body } == ["UTC Asia/Tokyo", "UTC UTC"])
    }
}

@Suite("Shared scans")
struct SharedScanTests {
    @Test("workflows with the same trigger share one scan and keep their own ids, conditions and ledger")
    func sharedTrigger() async throws {
        let fixture = try Fixture(
            workflows: [
                "a.yaml": "id: a\ntrigger: { birthday: {} }\nactions: [ { send: { channel: email, template: t } } ]\n",
                "b.yaml":
                    "id: b\ntrigger: { birthday: { days_before: 0 } }\nwhen: '\"vip\" in customer.tags'\nactions: [ { send: { channel: email, template: t } } ]\n",
                "c.yaml":
                    "id: c\ntrigger: { birthday: {} }\nsend_at: \"07:00\"\nactions: [ { send: { channel: email, template: t } } ]\n",
            ])
        try fixture.add("vip", zone: "Europe/London", birthDate: "1990-11-25", tags: ["vip"])
        try fixture.add("plain", zone: "Europe/London", birthDate: "1991-11-25")
        try fixture.markSent("a", "plain", "birthday:2026")
        let plan = try await fixture.plan(at: "2026-11-25T10:00:00Z")
        let sent = plan.messages.map { "\($0.workflowID):\($0.customerID)@\(ISO8601.format($0.due))" }.sorted()
        #expect(
            sent == [
                "a:vip@2026-11-25T09:00:00Z", "b:vip@2026-11-25T09:00:00Z", "c:plain@2026-11-25T07:00:00Z",
                "c:vip@2026-11-25T07:00:00Z",
            ])
    }
}
