import Foundation
import GRDB
import NudgeEngine
import NudgeLanguage
import NudgeProviders
import NudgeStore
import Testing
import NudgeCore

/// Frequency caps and quiet hours (nudge.yaml `policy:`), with explicit instants and zones.
@Suite("Policy: caps and quiet hours")
struct PolicyTests {
    static func config(_ policy: String) -> String {
        Fixture.defaultConfig + "\npolicy:\n" + policy
    }

    /// A workflow that sends on sign-up, with extra keys (category, priority, on_cap, max_defer).
    static func signup(_ id: String, channel: String = "email", _ extra: String = "") -> String {
        """
        id: \(id)
        trigger:
          signup: {}
        actions:
          - send: { channel: \(channel), template: t }
        catch_up: 30d
        \(extra)
        """
    }

    func fixture(policy: String, workflows: [String: String]) throws -> Fixture {
        try Fixture(config: Self.config(policy), workflows: workflows.mapValues { $0 }.reduce(into: [:]) { $0[$1.key + ".yaml"] = $1.value })
    }

    func commit(_ fixture: Fixture, at now: String) async throws -> [String] {
        try await fixture.commit(at: now).map(Self.shown)
    }

    static func shown(_ message: PlannedMessage) -> String {
        "\(message.workflowID) \(message.status.rawValue)"
            + (message.sendAfter.map { " after \(ISO8601.format($0))" } ?? "") + (message.reason.map { " (\($0))" } ?? "")
    }

    @Test(
        "a message in quiet hours waits for their end in the customer's zone, on DST days by the wall clock",
        arguments: [
            // zone, now (UTC), send_after (UTC) or nil
            ("America/New_York", "2026-11-25T02:30:00Z", "2026-11-25T13:00:00Z"),  // 21:30 EST → 08:00 EST
            ("America/New_York", "2026-11-25T13:00:00Z", nil),  // 08:00 EST: the window is over
            ("America/New_York", "2026-11-25T01:59:00Z", nil),  // 20:59 EST
            ("America/New_York", "2026-03-08T04:00:00Z", "2026-03-08T12:00:00Z"),  // 23:00 EST → 08:00 EDT (spring forward)
            ("America/New_York", "2026-11-01T03:00:00Z", "2026-11-01T13:00:00Z"),  // 23:00 EDT → 08:00 EST (fall back)
            ("Europe/London", "2026-03-29T00:30:00Z", "2026-03-29T07:00:00Z"),  // 00:30 GMT → 08:00 BST
            ("Europe/London", "2026-10-25T06:00:00Z", "2026-10-25T08:00:00Z"),  // 07:00 BST, then 06:00 GMT → 08:00 GMT
            ("Asia/Tokyo", "2026-11-25T13:00:00Z", "2026-11-25T23:00:00Z"),  // 22:00 JST → 08:00 JST
        ])
    func quietHours(zone: String, now: String, sendAfter: String?) async throws {
        let fixture = try fixture(
            policy: "  quiet_hours: { from: \"21:00\", to: \"08:00\" }\n", workflows: ["w": Self.signup("w")])
        let signedUp = try #require(ISO8601.parse(now, zone: TimeZone(identifier: "UTC")!)).addingTimeInterval(-60)
        try fixture.add("c1", zone: zone, signedUp: ISO8601.format(signedUp))
        let plan = try await fixture.plan(at: now)
        #expect(plan.messages.map(Self.shown) == ["w send" + (sendAfter.map { " after \($0)" } ?? "")])
        let line = try #require(plan.messages.first?.jsonLine(includeRendered: false))
        #expect(line.contains(#""send_after":"# + (sendAfter.map { "\"\($0)\"" } ?? "null")))
    }

    @Test("transactional messages ignore quiet hours and caps, and caps do not count them")
    func transactional() async throws {
        let fixture = try fixture(
            policy: "  caps:\n    - { max: 1, per: 7d }\n  quiet_hours: { from: \"21:00\", to: \"08:00\" }\n",
            workflows: [
                "a": Self.signup("a", "category: transactional"), "b": Self.signup("b", "category: transactional"),
                "c": Self.signup("c"),
            ])
        try fixture.add("c1", signedUp: "2026-11-25T12:00:00Z")
        // 15:00 in New York.
        #expect(
            try await fixture.plan(at: "2026-11-25T20:00:00Z").messages.map(Self.shown) == ["a send", "b send", "c send"])
        // 22:00 in New York: only the marketing one waits.
        #expect(
            try await fixture.plan(at: "2026-11-26T03:00:00Z").messages.map(Self.shown)
                == ["a send", "b send", "c send after 2026-11-26T13:00:00Z"])
    }

    @Test("messages competing for a cap in one plan go by priority, then workflow id; the others are dropped with the cap as reason")
    func priorities() async throws {
        let fixture = try fixture(
            policy: "  caps:\n    - { max: 2, per: 7d }\n    - { channel: sms, max: 1, per: 7d }\n",
            workflows: [
                "a": Self.signup("a"), "b": Self.signup("b", "priority: 10"), "c": Self.signup("c", channel: "sms", "priority: 20"),
                "d": Self.signup("d", channel: "sms", "priority: 5"), "e": Self.signup("e", "priority: 100"),
            ])
        try fixture.add("c1", signedUp: "2026-11-25T12:00:00Z", phone: "+14155550100")
        try fixture.add("c2", signedUp: "2026-11-25T12:00:00Z", phone: "+14155550101", smsOptIn: false)
        let plan = try await fixture.plan(at: "2026-11-25T14:00:00Z")
        // c1: d (5) then b (10) fill the weekly cap; c (20) is an SMS over the SMS cap too; a and e (100) tie: by id.
        // c2 cannot get SMS: b, then a (by id) fill the cap.
        #expect(
            plan.messages.map { "\($0.customerID) " + Self.shown($0) } == [
                "c1 a suppressed (frequency cap: 2 per 7d)", "c2 a send", "c1 b send", "c2 b send",
                "c1 c suppressed (frequency cap: 2 per 7d)", "c2 c suppressed (not opted in to sms)", "c1 d send",
                "c2 d suppressed (not opted in to sms)", "c1 e suppressed (frequency cap: 2 per 7d)",
                "c2 e suppressed (frequency cap: 2 per 7d)",
            ])
        #expect(plan.messages.filter { $0.status == .suppressed }.allSatisfy { $0.channel == nil })
    }

    @Test("a channel's cap counts only that channel")
    func channelCap() async throws {
        let fixture = try fixture(
            policy: "  caps:\n    - { channel: sms, max: 1, per: 1d }\n",
            workflows: ["a": Self.signup("a", channel: "sms"), "b": Self.signup("b", channel: "sms"), "c": Self.signup("c")])
        try fixture.add("c1", signedUp: "2026-11-25T12:00:00Z", phone: "+14155550100")
        #expect(
            try await fixture.plan(at: "2026-11-25T14:00:00Z").messages.map(Self.shown) == [
                "a send", "b suppressed (frequency cap: 1 sms per 1d)", "c send",
            ])
    }

    @Test("caps count what earlier runs sent or scheduled; defer moves a message to the first instant the caps allow, within max_defer")
    func acrossRuns() async throws {
        let fixture = try fixture(
            policy: "  caps:\n    - { max: 1, per: 2d }\n",
            workflows: [
                "a": Self.signup("a"),
                "b": Self.signup("b", "on_cap: defer"),
                "c": Self.signup("c", "on_cap: defer\nmax_defer: 1d"),
                "z": """
                    id: z
                    trigger:
                      signup: { days_after: 1 }
                    actions:
                      - send: { channel: email, template: t }
                    on_cap: defer
                    """,
            ])
        try fixture.add("c1", signedUp: "2026-11-25T12:00:00Z")
        // Run 1 at 14:00: a is sent; b waits two days after it; c would wait as long, more than its max_defer.
        #expect(
            try await commit(fixture, at: "2026-11-25T14:00:00Z") == [
                "a send", "b send after 2026-11-27T14:00:00Z",
                "c suppressed (frequency cap: 1 per 2d (the caps allow it at 2026-11-27T14:00:00Z, beyond max_defer 1d))",
            ])
        let stored = try await fixture.database.reader.read { db in
            try Row.fetchAll(db, sql: "SELECT workflow_id, next_attempt_at, category FROM outbox WHERE status = 'pending' ORDER BY workflow_id")
                .map { "\($0[0] as String) \(ISO8601.format(StoredInstant.date($0[1]))) \($0[2] as String)" }
        }
        #expect(stored == ["a 2026-11-25T14:00:00Z marketing", "b 2026-11-27T14:00:00Z marketing"])
        // Run 2 a day later: z is due; a (sent yesterday) and b (scheduled) both count: z goes after b's window.
        #expect(try await commit(fixture, at: "2026-11-26T14:00:00Z") == ["z send after 2026-11-29T14:00:00Z"])
    }

    @Test("nudge.yaml's policy and the workflows' policy keys are checked where they are written")
    func mistakes() throws {
        func problems(_ policy: String, workflow: String = "") throws -> [String] {
            let fixture = try Fixture(
                config: Self.config(policy), workflows: ["w.yaml": Self.signup("w", workflow)])
            let (_, diagnostics) = Project.load(directory: fixture.directory.path, providers: Providers.catalog)
            return diagnostics.filter { $0.severity == .error }.map { "\($0.location.line):\($0.location.column): \($0.message)" }
        }
        let cases: [(policy: String, workflow: String, problem: String)] = [
            ("  caps:\n    - { max: 0, per: 7d }\n", "", "12:14: 'max' must be between 1 and 1000, not 0"),
            ("  caps:\n    - { max: 2, per: week }\n", "", "12:22: 'per' must be a duration such as 1d or 7d (at most a year), not 'week'"),
            ("  caps:\n    - { chanel: sms, max: 1, per: 1d }\n", "", "12:9: unknown key 'chanel' in a cap"),
            ("  quiet_hours: { from: \"21:00\", to: \"8am\" }\n", "", "11:37: 'to' must be a time of day as \"HH:MM\", not '8am'"),
            ("  quiet_hours: { from: \"21:00\", to: \"21:00\" }\n", "", "11:16: quiet hours from 21:00 to 21:00 are empty"),
            ("  caps: []\n", "category: promo", "7:11: 'category' must be marketing or transactional, not 'promo'"),
            ("  caps: []\n", "on_cap: wait", "7:9: 'on_cap' must be drop or defer, not 'wait'"),
            ("  caps: []\n", "priority: -1", "7:11: 'priority' must be between 0 and 1000000, not -1"),
        ]
        for (policy, workflow, problem) in cases {
            let found = try problems(policy, workflow: workflow)
            #expect(found.first == problem, "\(found)")
        }
    }
}
