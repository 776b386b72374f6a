import Foundation
import Testing

@testable import NudgeStore
import NudgeCore

@Suite("Importing visits")
struct VisitImportTests {
    let workspace: Workspace

    /// c1 lives in Tokyo, c2 has no zone (the default, America/New_York), c3 never visits.
    init() async throws {
        workspace = try Workspace()
        try await workspace.importCSV(
            .customers,
            "id,timezone,signed_up_at\nc1,Asia/Tokyo,2025-01-10T00:00:00Z\nc2,,2025-01-10T00:00:00Z\n"
                + "c3,,2025-01-10T00:00:00Z\n")
    }

    /// The stored visits as `customer|millis|cents` lines, in key order.
    func visits() throws -> [String] {
        try workspace.strings(
            "SELECT customer_id || '|' || visited_at || '|' || coalesce(amount_cents, 'NULL') FROM visit "
                + "ORDER BY customer_id, visited_at")
    }

    @Test("rejects a visit of an unknown customer as a bad row")
    func unknownCustomer() async throws {
        let before = try workspace.snapshot()
        let rejected = try #require(
            try await workspace.rejection(.visits, "customer_id,visited_at,amount\nc1,2025-02-01,3\nc404,2025-02-01,3\n"))
        #expect(rejected.problems.map(\.description) == ["bad.csv:3: unknown customer 'c404' (import customers first)"])
        #expect(try workspace.snapshot() == before)
    }

    @Test("reads a bare visited_at date as midnight in the customer's zone")
    func bareDateInCustomerZone() async throws {
        try await workspace.importCSV(.visits, "customer_id,visited_at\nc1,2025-02-01\nc2,2025-02-01\n")
        // Tokyo midnight is 15:00Z the day before; New York midnight is 05:00Z.
        #expect(try visits() == ["c1|1738335600000|NULL", "c2|1738386000000|NULL"])
    }

    @Test("reads a bare visited_at date in ImportOptions.defaultZone for a customer without a zone")
    func bareDateInDefaultZone() async throws {
        let berlin = try #require(TimeZone(identifier: "Europe/Berlin"))
        try await workspace.importCSV(.visits, "customer_id,visited_at\nc2,2025-06-15\n", zone: berlin)
        #expect(try visits() == ["c2|1749938400000|NULL"])
    }

    @Test("updates a visit by customer and instant, however the instant is written")
    func upsertByKey() async throws {
        try await workspace.importCSV(.visits, "customer_id,visited_at,amount\nc1,2025-02-01,5\nc2,2025-02-01T00:00:00Z,1\n")
        try await workspace.importCSV(
            .visits, "amount,visited_at,customer_id\n7.5,2025-01-31T15:00:00Z,c1\n2,2025-02-01T09:00:00+09:00,c2\n")
        #expect(try visits() == ["c1|1738335600000|750", "c2|1738368000000|200"])
        let ann = try #require(try workspace.customer("c1"))
        #expect(ann.visitsTotal == 1)
        #expect(ann.lifetimeValueCents == 750)
        #expect(try workspace.customer("c2")?.lifetimeValueCents == 200)
    }

    @Test("keeps a visit's amount when a later visits file has no amount column")
    func upsertKeepsAbsentAmount() async throws {
        try await workspace.importCSV(.visits, "customer_id,visited_at,amount\nc1,2025-02-01T00:00:00Z,5\n")
        try await workspace.importCSV(.visits, "customer_id,visited_at\nc1,2025-02-01T00:00:00Z\nc1,2025-02-02T00:00:00Z\n")
        #expect(try visits() == ["c1|1738368000000|500", "c1|1738454400000|NULL"])
        #expect(try workspace.customer("c1")?.lifetimeValueCents == 500)
        #expect(try workspace.customer("c1")?.visitsTotal == 2)
    }

    @Test("clears a visit's amount when the amount column is present but empty")
    func emptyAmountClears() async throws {
        try await workspace.importCSV(.visits, "customer_id,visited_at,amount\nc1,2025-02-01T00:00:00Z,5\n")
        try await workspace.importCSV(.visits, "customer_id,visited_at,amount\nc1,2025-02-01T00:00:00Z,\n")
        #expect(try visits() == ["c1|1738368000000|NULL"])
        #expect(try workspace.customer("c1")?.lifetimeValueCents == 0)
    }

    @Test(
        "stores decimal amounts as integer cents, rounding half away from zero",
        arguments: [
            ("12.5", 1250), ("3", 300), ("-2.25", -225), ("1.005", 101), ("1.004", 100), ("0.995", 100),
            ("0.994", 99), ("-1.005", -101), ("1.999", 200), (".5", 50), ("+4.10", 410), ("0", 0), ("007.07", 707),
            ("\" 12.34 \"", 1234), ("123456789012345.67", 12_345_678_901_234_567),
        ] as [(String, Int64)])
    func amounts(field: String, cents: Int64) async throws {
        try await workspace.importCSV(.visits, "customer_id,visited_at,amount\nc2,2025-02-01T00:00:00Z,\(field)\n")
        #expect(try visits() == ["c2|1738368000000|\(cents)"])
        #expect(try workspace.customer("c2")?.lifetimeValueCents == Int(cents))
    }

    @Test("maintains visits_total, last_visit_at, lifetime_value_cents and last_activity_at")
    func derivedFields() async throws {
        try await workspace.importCSV(
            .visits,
            "customer_id,visited_at,amount\nc1,2025-02-01T10:00:00Z,4.50\nc1,2025-03-01T10:00:00Z,3.25\n"
                + "c2,2025-02-15T10:00:00Z,\n")
        var ann = try #require(try workspace.customer("c1"))
        #expect(ann.visitsTotal == 2)
        #expect(millis(ann.lastVisitAt) == 1_740_823_200_000)
        #expect(ann.lifetimeValueCents == 775)
        #expect(millis(ann.lastActivityAt) == 1_740_823_200_000)

        let bo = try #require(try workspace.customer("c2"))
        #expect(bo.visitsTotal == 1)
        #expect(bo.lifetimeValueCents == 0)
        #expect(millis(bo.lastVisitAt) == 1_739_613_600_000)
        #expect(millis(bo.lastActivityAt) == 1_739_613_600_000)

        let cy = try #require(try workspace.customer("c3"))
        #expect(cy.visitsTotal == 0)
        #expect(cy.lastVisitAt == nil)
        #expect(cy.lifetimeValueCents == 0)
        #expect(millis(cy.lastActivityAt) == 1_736_467_200_000)

        // A second file adds an earlier visit: the totals count both files, the last visit stays.
        try await workspace.importCSV(.visits, "customer_id,visited_at,amount\nc1,2025-01-20T10:00:00Z,10\n")
        ann = try #require(try workspace.customer("c1"))
        #expect(ann.visitsTotal == 3)
        #expect(ann.lifetimeValueCents == 1775)
        #expect(millis(ann.lastVisitAt) == 1_740_823_200_000)
        #expect(millis(ann.lastActivityAt) == 1_740_823_200_000)
        #expect(try workspace.customer("c2") == bo)
    }

    @Test("keeps last_activity_at at sign-up when every visit is older than the sign-up")
    func visitBeforeSignUp() async throws {
        try await workspace.importCSV(.visits, "customer_id,visited_at\nc3,2024-12-01T10:00:00Z\n")
        let cy = try #require(try workspace.customer("c3"))
        #expect(millis(cy.lastVisitAt) == 1_733_047_200_000)
        #expect(millis(cy.lastActivityAt) == 1_736_467_200_000)
    }

    @Test("recomputes last_activity_at when a customers re-import moves signed_up_at")
    func signUpMovedByCustomersImport() async throws {
        try await workspace.importCSV(.visits, "customer_id,visited_at,amount\nc1,2025-03-01T10:00:00Z,1\n")
        #expect(millis(try workspace.customer("c1")?.lastActivityAt) == 1_740_823_200_000)

        // Signed up after the last visit: activity is the sign-up.
        try await workspace.importCSV(.customers, "id,signed_up_at\nc1,2025-04-01T00:00:00Z\n")
        var ann = try #require(try workspace.customer("c1"))
        #expect(millis(ann.signedUpAt) == 1_743_465_600_000)
        #expect(millis(ann.lastActivityAt) == 1_743_465_600_000)
        #expect(ann.visitsTotal == 1)
        #expect(millis(ann.lastVisitAt) == 1_740_823_200_000)

        // Moved back before the visit: activity is the visit again.
        try await workspace.importCSV(.customers, "id,signed_up_at\nc1,2025-01-01T00:00:00Z\n")
        ann = try #require(try workspace.customer("c1"))
        #expect(millis(ann.signedUpAt) == 1_735_689_600_000)
        #expect(millis(ann.lastActivityAt) == 1_740_823_200_000)
        #expect(ann.lifetimeValueCents == 100)
    }

    @Test("keeps the derived fields of customers a visits file does not name")
    func untouchedCustomers() async throws {
        try await workspace.importCSV(.visits, "customer_id,visited_at,amount\nc2,2025-02-01T00:00:00Z,2\n")
        let before = try workspace.customer("c2")
        try await workspace.importCSV(.visits, "customer_id,visited_at,amount\nc1,2025-02-01T00:00:00Z,3\n")
        #expect(try workspace.customer("c2") == before)
        #expect(try workspace.customer("c1")?.lifetimeValueCents == 300)
    }
}
