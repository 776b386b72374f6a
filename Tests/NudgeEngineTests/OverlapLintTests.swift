import Foundation
import NudgeEngine
import NudgeLanguage
import Testing

@Suite("Lint: workflows that can reach a customer twice on the same day")
struct OverlapLintTests {
    func warnings(_ first: String, _ second: String) throws -> [String] {
        let fixture = try Fixture(workflows: ["a.yaml": "id: a\n" + first, "b.yaml": "id: b\n" + second])
        return try fixture.project().warnings.map(\.description).filter { $0.contains("same trigger") }
    }

    static let trigger = "trigger: { birthday: {} }\n"

    @Test("same trigger, a channel in common, conditions that do not rule each other out: a warning at the second")
    func overlapping() throws {
        let found = try warnings(
            Self.trigger + "when: customer.visits_total >= 1\nactions:\n  - send: { channel: [email, sms], template: t }\n",
            Self.trigger + "when: customer.visits_total >= 3\nactions:\n  - send: { channel: email, template: t }\n")
        #expect(found.count == 1)
        #expect(found.first?.contains("/Workflows/b.yaml:1:5: warning: workflows 'a' and 'b' have the same trigger (birthday: { days_before: 0 }) and conditions that do not rule each other out: a customer can get both on the same day by email (merge them, or give one a condition the other excludes (") == true, "\(found)")
    }

    @Test("no warning when the conditions exclude each other, the channels differ, the triggers differ or one is paused")
    func apart() throws {
        let email = "actions:\n  - send: { channel: email, template: t }\n"
        #expect(try warnings(Self.trigger + "when: customer.visits_total < 5\n" + email, Self.trigger + "when: customer.visits_total >= 5\n" + email).isEmpty)
        #expect(try warnings(Self.trigger + email, Self.trigger + "actions:\n  - send: { channel: wallet, template: t }\n").isEmpty)
        #expect(try warnings(Self.trigger + email, "trigger: { birthday: { days_before: 1 } }\n" + email).isEmpty)
        #expect(try warnings(Self.trigger + email, Self.trigger + "enabled: false\n" + email).isEmpty)
    }
}
