import Foundation
import Logging
import NudgeCore
import NudgeLanguage
import NudgeStore
import NudgeTestSupport
import PostgresNIO
import Testing

@testable import NudgePostgres

/// PostgreSQL keeps the visit-derived fields in `customer_activity` (migration `v8-customer-activity`), with a copy of
/// each customer's zone for the inactivity index; `customer_state` shows customers as SQLite stores them.
@Suite("Visit-derived fields on PostgreSQL", .serialized, .enabled(if: PostgresServer.isAvailable))
struct CustomerActivityTests {
    /// `customer_state` rows as text, in id order.
    static func states(_ store: PostgresStore) async throws -> [String] {
        var texts: [String] = []
        let rows = try await store.client.query(
            """
            SELECT id || '|' || coalesce(timezone, '-') || '|' || coalesce(last_visit_at::text, '-') || '|' || visits_total
              || '|' || lifetime_value_cents || '|' || last_activity_at FROM customer_state ORDER BY id
            """)
        for try await text in rows.decode(String.self) { texts.append(text) }
        return texts
    }

    @Test("a database made before v8 keeps every customer's derived fields, now read through customer_state")
    func migration() async throws {
        let url = try await PostgresServer.freshDatabase()
        var configuration = PostgresConnection.Configuration(
            host: url.host, port: url.port, username: url.user,
            password: PostgresServer.environment["PGPASSWORD"], database: url.database, tls: .disable)
        configuration.options.connectTimeout = .seconds(10)
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: PostgresServer.logger)
        let before = PostgresStore.migrations.prefix { $0.0 != "v8-customer-activity" }
        #expect(PostgresStore.migrations.dropFirst(before.count).first?.0 == "v8-customer-activity")
        try await connection.query("CREATE TABLE nudge_migrations (identifier TEXT PRIMARY KEY NOT NULL)", logger: PostgresServer.logger)
        for (name, sql) in before {
            try await connection.execute(script: sql, logger: PostgresServer.logger)
            try await connection.query("INSERT INTO nudge_migrations (identifier) VALUES (\(name))", logger: PostgresServer.logger)
        }
        // c1 visited twice (in Tokyo), c2 never.
        try await connection.query(
            """
            INSERT INTO customer (id, timezone, signed_up_at, last_visit_at, visits_total, lifetime_value_cents, last_activity_at)
            VALUES ('c1', 'Asia/Tokyo', 1000, 5000, 2, 750, 5000), ('c2', NULL, 2000, NULL, 0, 0, 2000)
            """, logger: PostgresServer.logger)
        try await connection.query(
            "INSERT INTO visit (customer_id, visited_at, amount_cents) VALUES ('c1', 4000, 250), ('c1', 5000, 500)",
            logger: PostgresServer.logger)
        try await connection.close()

        let store = try await PostgresStore.connect(
            url, password: PostgresServer.environment["PGPASSWORD"], logger: PostgresServer.logger, maximumConnections: 2)
        #expect(try await Self.states(store) == ["c1|Asia/Tokyo|5000|2|750|5000", "c2|-|-|0|0|2000"])
        let activity = try await store.client.query("SELECT count(*) FROM customer_activity")
        for try await count in activity.decode(Int.self) { #expect(count == 1) }
        await store.close()
        try await PostgresServer.drop(url)
    }

    @Test("a customers re-import that moves a zone or a sign-up moves the activity row with it")
    func movedCustomer() async throws {
        let (store, url) = try await PostgresServer.freshStore()
        let files = try ImportFiles()
        func load(_ kind: ImportKind, _ text: String) async throws { try await files.load(kind, text, into: store) }
        try await load(.customers, "id,timezone,signed_up_at\nc1,Asia/Tokyo,2025-01-01T00:00:00Z\nc2,,2025-01-01T00:00:00Z\n")
        try await load(.visits, "customer_id,visited_at,amount\nc1,2025-03-01T00:00:00Z,4.50\n")
        // c1 moves to Lisbon and signs up again after the visit: the latest activity is the sign-up.
        try await load(.customers, "id,timezone,signed_up_at\nc1,Europe/Lisbon,2025-06-01T00:00:00Z\n")
        #expect(
            try await Self.states(store) == [
                "c1|Europe/Lisbon|1740787200000|1|450|1748736000000", "c2|-|-|0|0|1735689600000",
            ])
        // The inactivity scan finds c1 in the new zone only, by the activity table's index, and c2 by its sign-up.
        let june = Date(timeIntervalSince1970: 1_748_736_000)
        let window = (june.addingTimeInterval(-1), june.addingTimeInterval(1))
        #expect(try await store.candidates(.lastActivity(zone: "Europe/Lisbon", from: window.0, until: window.1)).map(\.customer.id) == ["c1"])
        #expect(try await store.candidates(.lastActivity(zone: "Asia/Tokyo", from: window.0, until: window.1)).isEmpty)
        let january = Date(timeIntervalSince1970: 1_735_689_600)
        #expect(
            try await store.candidates(.lastActivity(zone: "", from: january, until: january.addingTimeInterval(1)))
                .map(\.customer.id) == ["c2"])
        await store.close()
        try await PostgresServer.drop(url)
    }
}

/// A sweep's visits come from PostgreSQL as arrays; the records must be those SQLite gives, in the same order.
@Suite("Visits of a sweep on PostgreSQL", .enabled(if: PostgresServer.isAvailable))
struct SweepVisitsTests {
    @Test("by customer and time, a missing amount nil, only the customers of the range")
    func sweepVisits() async throws {
        let (store, url) = try await PostgresServer.freshStore()
        defer { PostgresServer.dispose(store, url) }
        try await store.client.query(
            """
            INSERT INTO customer (id, signed_up_at) VALUES ('a', 0), ('b', 0), ('c', 0), ('d', 0)
            """)
        try await store.client.query(
            """
            INSERT INTO visit (customer_id, visited_at, amount_cents)
            VALUES ('c', 3000, 100), ('b', 2000, NULL), ('b', 1000, 250), ('a', 5000, 0), ('c', 1000, -40), ('d', 10, 1)
            """)
        let visits = try await store.visits(after: "a", through: "c")
        #expect(
            visits.map { "\($0.customerID) \(StoredInstant.millis($0.visitedAt)) \($0.amountCents.map(String.init) ?? "-")" }
                == ["b 1000 250", "b 2000 -", "c 1000 -40", "c 3000 100"])
        #expect(try await store.visits(after: "d", through: "z").isEmpty)
        #expect(try await store.visits(after: nil, through: "a").count == 1)
    }
}
