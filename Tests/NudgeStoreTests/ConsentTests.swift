import Foundation
import GRDB
import NudgeLanguage
import Testing

@testable import NudgeStore
import NudgeCore

@Suite("Consent changes from providers and customers")
struct ConsentTests {
    let workspace: Workspace

    init() throws {
        workspace = try Workspace()
    }

    static let customers = """
        id,email,phone,signed_up_at,email_opt_in,sms_opt_in
        c1,ann@example.com,+15550001111,2025-01-10,yes,yes
        c2,bo@example.com,+15550002222,2025-01-10,yes,yes
        """

    func optIns(_ id: String) throws -> String {
        try workspace.strings("SELECT email_opt_in || sms_opt_in FROM customer WHERE id = ?", arguments: [id]).joined()
    }

    func record(_ id: String, channel: String, optIn: Bool, at seconds: TimeInterval) async throws {
        let event = DeliveryEvent(
            provider: "test", eventID: id, customerID: "c1", channel: channel, kind: optIn ? .started : .stopped,
            at: Workspace.now.addingTimeInterval(seconds))
        try workspace.database.record(
            event, consent: [ConsentChange(customerID: "c1", channel: channel, optIn: optIn, reason: id)],
            receivedAt: Workspace.now)
    }

    @Test("an opt-out recorded by Nudge outlives re-imports of the platform's opt-in, until a later opt-in")
    func reimportKeepsOptOut() async throws {
        try await workspace.importCSV(.customers, Self.customers)
        try await record("stop", channel: "sms", optIn: false, at: 1)
        try await record("bounce", channel: "email", optIn: false, at: 2)
        #expect(try optIns("c1") == "00")
        try await workspace.importCSV(.customers, Self.customers)
        #expect(try optIns("c1") == "00")
        #expect(try optIns("c2") == "11")
        try await record("start", channel: "sms", optIn: true, at: 3)
        #expect(try optIns("c1") == "01")
        try await workspace.importCSV(.customers, Self.customers.replacingOccurrences(of: "c1,ann@example.com,+15550001111,2025-01-10,yes,yes", with: "c1,ann@example.com,+15550001111,2025-01-10,yes,no"))
        #expect(try optIns("c1") == "00", "the platform may still turn consent off")
    }

    @Test("the same provider event twice is recorded once and changes consent once")
    func duplicateEvent() async throws {
        try await workspace.importCSV(.customers, Self.customers)
        try await record("stop", channel: "sms", optIn: false, at: 1)
        let event = DeliveryEvent(provider: "test", eventID: "stop", customerID: "c1", kind: .stopped, at: Workspace.now)
        #expect(try workspace.database.record(event, consent: [], receivedAt: Workspace.now) == false)
        #expect(try workspace.integer("SELECT count(*) FROM consent_change") == 1)
    }

    @Test("a message committed before the customer opted out is suppressed when claimed, not sent")
    func claimSkipsOptedOut() async throws {
        try await workspace.importCSV(.customers, Self.customers)
        let now = StoredInstant.millis(Workspace.now)
        try await workspace.database.writer.write { db in
            for (id, customer, channel) in [("m1", "c1", "sms"), ("m2", "c1", "email"), ("m3", "c2", "sms")] {
                try OutboxMessage(
                    id: id, workflowId: "w", customerId: customer, occurrence: "o-\(id)", actionIndex: 0, channel: channel,
                    recipient: "x", template: "t", headingKey: nil, heading: nil, body: "b", dueAt: now, createdAt: now,
                    status: .pending, reason: nil
                ).insert(db)
            }
        }
        try await record("stop", channel: "sms", optIn: false, at: 1)
        // A claim window holding only the opted-out message does not end the claim: the next window is read.
        let first = try workspace.database.claimOutbox(owner: "me", now: Workspace.now, leaseSeconds: 60, limit: 1)
        #expect(first.count == 1 && first[0].id != "m1")
        let claimed = first + (try workspace.database.claimOutbox(owner: "me", now: Workspace.now, leaseSeconds: 60, limit: 10))
        #expect(claimed.map(\.id).sorted() == ["m2", "m3"])
        #expect(try workspace.strings("SELECT status || ': ' || reason FROM outbox WHERE id = 'm1'") == ["suppressed: opted out of sms before delivery"])
    }
}
