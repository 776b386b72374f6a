import Foundation
import Testing

@testable import NudgeStore

@Suite("Importing offers and progress")
struct OfferProgressImportTests {
    let workspace: Workspace

    /// c1 lives in Tokyo, c2 has no zone (the default, America/New_York); two offers.
    init() async throws {
        workspace = try Workspace()
        try await workspace.importCSV(
            .customers, "id,timezone,signed_up_at\nc1,Asia/Tokyo,2025-01-10T00:00:00Z\nc2,,2025-01-10T00:00:00Z\n")
        try await workspace.importCSV(.offers, "id,name,stamps_required\ncoffee,Coffee card,10\npastry,\"Pastry, any\",8\n")
    }

    func offers() throws -> [String] {
        try workspace.strings(
            "SELECT id || '|' || coalesce(name, 'NULL') || '|' || stamps_required FROM offer ORDER BY id")
    }

    func progress() throws -> [String] {
        try workspace.strings(
            "SELECT customer_id || '|' || offer_id || '|' || stamps || '|' || rewards_earned || '|' || updated_at "
                + "FROM progress ORDER BY customer_id, offer_id")
    }

    @Test("stores offers with their names and stamp counts")
    func offersStored() async throws {
        #expect(try offers() == ["coffee|Coffee card|10", "pastry|Pastry, any|8"])
    }

    @Test("updates an offer by id, keeping its name when the file has no name column")
    func offerUpsert() async throws {
        let summary = try await workspace.importCSV(.offers, "stamps_required,id,name\n12,coffee,Coffee card XL\n5,tea,\n")
        #expect(summary.rows == 2)
        #expect(try offers() == ["coffee|Coffee card XL|12", "pastry|Pastry, any|8", "tea|NULL|5"])
        try await workspace.importCSV(.offers, "id,stamps_required\npastry,6\n")
        #expect(try offers() == ["coffee|Coffee card XL|12", "pastry|Pastry, any|6", "tea|NULL|5"])
    }

    @Test("stores published_at (a bare date or local time in the business zone) and category, keeping them when a file lacks them")
    func publication() async throws {
        try await workspace.importCSV(
            .offers,
            "id,stamps_required,published_at,category\nwinter,6,2026-12-01T09:00:00Z,coffee\nscone,6,2026-12-04,pastry\n"
                + "tea,5,2026-12-05T10:30,\nplain,4,,\n")
        let stored = {
            try workspace.strings(
                "SELECT id || '|' || coalesce(published_at, 'NULL') || '|' || coalesce(category, 'NULL') FROM offer ORDER BY id")
        }
        // 2026-12-04 is local midnight in New York (UTC−5); 10:30 there is 15:30 UTC.
        #expect(
            try stored() == [
                "coffee|NULL|NULL", "pastry|NULL|NULL", "plain|NULL|NULL", "scone|1796360400000|pastry",
                "tea|1796484600000|NULL", "winter|1796115600000|coffee",
            ])
        try await workspace.importCSV(.offers, "id,stamps_required,name\nwinter,8,Winter latte\n")
        #expect(try stored().last == "winter|1796115600000|coffee")
        try await workspace.importCSV(.offers, "id,stamps_required,published_at\nwinter,8,\n")
        #expect(try stored().last == "winter|NULL|coffee")
    }

    @Test("a published_at that is not an instant is a bad row")
    func badPublication() async throws {
        let before = try workspace.snapshot()
        let rejected = try #require(
            try await workspace.rejection(.offers, "id,stamps_required,published_at\nwinter,6,next week\n"))
        #expect(rejected.problems.count == 1)
        #expect(rejected.problems.first?.description.hasPrefix("bad.csv:2: 'published_at'") == true)
        #expect(try workspace.snapshot() == before)
    }

    @Test("rejects stamps_required 0 as a bad row")
    func zeroStampsRequired() async throws {
        let before = try workspace.snapshot()
        let rejected = try #require(try await workspace.rejection(.offers, "id,stamps_required\ncoffee,11\nfree,0\n"))
        #expect(rejected.problems.map(\.description) == ["bad.csv:3: 'stamps_required' must be at least 1, not 0"])
        #expect(try workspace.snapshot() == before)
    }

    @Test("defaults rewards_earned to 0 and updated_at to the import time")
    func defaults() async throws {
        try await workspace.importCSV(.progress, "customer_id,offer_id,stamps\nc1,coffee,3\n")
        try await workspace.importCSV(
            .progress, "customer_id,offer_id,stamps,rewards_earned,updated_at\nc2,coffee,0,,\nc2,pastry,7,2,\n")
        #expect(
            try progress() == [
                "c1|coffee|3|0|1773576000000", "c2|coffee|0|0|1773576000000", "c2|pastry|7|2|1773576000000",
            ])
    }

    @Test("uses ImportOptions.now, not the clock, for a missing updated_at")
    func updatedAtIsOptionsNow() async throws {
        let now = Date(timeIntervalSince1970: 1_000_000_000.123)
        try await workspace.importCSV(.progress, "customer_id,offer_id,stamps\nc1,coffee,3\n", now: now)
        #expect(try progress() == ["c1|coffee|3|0|1000000000123"])
    }

    @Test("reads updated_at as an instant, a bare date being midnight in the customer's zone")
    func updatedAt() async throws {
        try await workspace.importCSV(
            .progress,
            "customer_id,offer_id,stamps,updated_at\nc1,coffee,3,2025-02-01\nc2,coffee,4,2025-02-01\n"
                + "c2,pastry,5,2025-02-01T00:00:00Z\n")
        #expect(
            try progress() == [
                "c1|coffee|3|0|1738335600000", "c2|coffee|4|0|1738386000000", "c2|pastry|5|0|1738368000000",
            ])
    }

    @Test("updates progress by customer and offer")
    func upsertByKey() async throws {
        try await workspace.importCSV(
            .progress,
            "customer_id,offer_id,stamps,rewards_earned,updated_at\nc1,coffee,3,0,2025-02-01T00:00:00Z\n"
                + "c1,pastry,1,0,2025-02-01T00:00:00Z\n")
        try await workspace.importCSV(
            .progress,
            "offer_id,updated_at,customer_id,stamps,rewards_earned\ncoffee,2025-02-02T00:00:00Z,c1,10,1\n")
        #expect(try progress() == ["c1|coffee|10|1|1738454400000", "c1|pastry|1|0|1738368000000"])
        #expect(try workspace.integer("SELECT count(*) FROM progress") == 2)
    }

    @Test("keeps rewards_earned when a later progress file has no rewards_earned column")
    func upsertKeepsAbsentRewards() async throws {
        try await workspace.importCSV(
            .progress, "customer_id,offer_id,stamps,rewards_earned,updated_at\nc1,coffee,3,2,2025-02-01T00:00:00Z\n")
        try await workspace.importCSV(.progress, "customer_id,offer_id,stamps\nc1,coffee,4\nc2,coffee,1\n")
        #expect(try progress() == ["c1|coffee|4|2|1773576000000", "c2|coffee|1|0|1773576000000"])
    }

    @Test("rejects progress for an unknown offer or customer as bad rows")
    func unknownOfferOrCustomer() async throws {
        try await workspace.importCSV(.progress, "customer_id,offer_id,stamps\nc1,coffee,3\n")
        let before = try workspace.snapshot()
        let rejected = try #require(
            try await workspace.rejection(
                .progress, "customer_id,offer_id,stamps\nc1,coffee,4\nc1,tea,1\nc9,coffee,1\nc2,pastry,2\n",
                file: "progress.csv"))
        #expect(
            rejected.problems.map(\.description) == [
                "progress.csv:3: unknown offer 'tea' (import offers first)",
                "progress.csv:4: unknown customer 'c9' (import customers first)",
            ])
        #expect(try workspace.snapshot() == before)
        #expect(try progress() == ["c1|coffee|3|0|1773576000000"])
    }

    @Test("rejects negative stamps as a bad row")
    func negativeStamps() async throws {
        let rejected = try #require(try await workspace.rejection(.progress, "customer_id,offer_id,stamps\nc1,coffee,-2\n"))
        #expect(rejected.problems.map(\.description) == ["bad.csv:2: 'stamps' must be at least 0, not -2"])
        #expect(try progress() == [])
    }
}
