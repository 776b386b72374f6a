import Foundation
import NudgeCore
import NudgeEngine
import NudgeRender
import Testing

@Suite("Plan differences (nudge diff)")
struct PlanDiffTests {
    @Test("added, removed and changed messages; a message planned again later counts once")
    func differences() async throws {
        let fixture = try Fixture(workflow: """
            trigger:
              inactivity: { days: [30] }
            actions:
              - send: { channel: [email, sms], template: t }
            catch_up: 2d
            """)
        try fixture.add("ana", visits: ["2026-09-20T14:00:00Z"])
        try fixture.add("bo", emailOptIn: false, phone: "+15555550101", visits: ["2026-09-20T14:00:00Z"])
        let old = try await fixture.plan(at: "2026-10-20T15:00:00Z", render: true)
        let later = try await fixture.plan(at: "2026-10-21T15:00:00Z", render: true)
        #expect(old.messages.count == 2 && later.messages.count == 2)
        // The same plans on both sides: nothing differs; the second day's plan holds the same messages again.
        let same = PlanDiff(old: [old, later], new: [old, later])
        #expect(same.changes.isEmpty && same.unchanged == 2)

        var new = old
        new.messages.removeAll { $0.customerID == "ana" }
        new.messages[0].channel = .email
        new.messages[0].rendered?.body = "other"
        var extra = old.messages[0]
        extra.customerID = "cy"
        new.messages.append(extra)
        let diff = PlanDiff(old: [old], new: [new])
        #expect(diff.changes.map(\.kind) == [.removed, .changed, .added])
        #expect(diff.changes.map(\.customerID) == ["ana", "bo", "cy"])
        #expect(diff.changes[1].differences == ["channel sms → email"])
        #expect(diff.byWorkflow.map(\.workflow) == ["w"])
        var reworded = old
        reworded.messages[0].rendered?.body = "other"
        #expect(PlanDiff(old: [old], new: [reworded]).changes.first?.differences == ["body differs"])
    }
}
