import Foundation
import GRDB
import NudgeCore
import NudgeEngine
import NudgeStore
import NudgeTestSupport
import PostgresNIO
import Testing

@testable import NudgePostgres

/// `nudge customers erase` on PostgreSQL: the same statements as on SQLite, the same rows changed, and no table
/// left holding the customer's name, email, phone or birth date.
@Suite("Customer erasure on PostgreSQL", .serialized, .enabled(if: PostgresServer.isAvailable))
struct ErasureTests {
    static let personal = ["Zelda Quartermain", "zelda.quartermain@example.org", "+15557654321", "1984-07-19"]
    static let key = ErasureKey(secret: "a-long-erasure-key-for-tests")

    /// c1 (to erase) and c2, with visits, a stamp card, a segment entry, ledger and outbox rows, an attempt whose
    /// provider detail names the address, a bounce whose payload does, a Twilio event keyed by the customer and an
    /// SMS opt-out.
    static func seeded() throws -> AppDatabase {
        let database = try AppDatabase.inMemory()
        try database.writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO customer (id, name, email, phone, birth_date, birth_month_day, birth_year, signed_up_at, last_activity_at)
                    VALUES ('c1', 'Zelda Quartermain', 'zelda.quartermain@example.org', '+15557654321', '1984-07-19', '07-19', 1984, 0, 0),
                           ('c2', 'Bo Chen', 'bo@example.com', '+15550000002', '1990-01-02', '01-02', 1990, 0, 0);
                    INSERT INTO visit (customer_id, visited_at, amount_cents) VALUES ('c1', 1000, 450), ('c1', 2000, 600), ('c2', 1000, 300);
                    INSERT INTO offer (id, name, stamps_required) VALUES ('card', 'Card', 10);
                    INSERT INTO progress (customer_id, offer_id, stamps, updated_at) VALUES ('c1', 'card', 3, 2000);
                    INSERT INTO segment_entry (segment, customer_id, entered_on) VALUES ('regulars', 'c1', '2026-11-01');
                    INSERT INTO ledger (workflow_id, customer_id, occurrence, committed_at)
                    VALUES ('welcome', 'c1', 'signup', 3000), ('welcome', 'c2', 'signup', 3000), ('hello', 'c1', 'signup', 3000);
                    INSERT INTO outbox (id, workflow_id, customer_id, occurrence, action_index, channel, recipient, template,
                      heading_key, heading, body, due_at, created_at, status, next_attempt_at, attempts)
                    VALUES ('m1', 'welcome', 'c1', 'signup', 0, 'email', 'zelda.quartermain@example.org', 'welcome', 'subject',
                        'Hi Zelda Quartermain', '<p>Born 1984-07-19</p>', 3000, 3000, 'delivered', 3000, 1),
                      ('m2', 'hello', 'c1', 'signup', 0, 'sms', '+15557654321', 'hello', NULL, NULL, 'Hi Zelda', 3000, 3000,
                        'pending', 3000, 0),
                      ('m3', 'welcome', 'c2', 'signup', 0, 'email', 'bo@example.com', 'welcome', 'subject', 'Hi Bo',
                        '<p>Hi</p>', 3000, 3000, 'delivered', 3000, 1);
                    INSERT INTO delivery_event (provider, event_id, outbox_id, customer_id, channel, kind, at, received_at, detail)
                    VALUES ('sendgrid', 'ev-1', 'm1', 'c1', 'email', 'bounced', 4000, 4000, '550 zelda.quartermain@example.org'),
                      ('twilio', 'SM1:c1', NULL, 'c1', 'sms', 'stopped', 4000, 4000, 'STOP from +15557654321'),
                      ('unsubscribe', 'customer:c1:4000', NULL, 'c1', 'email', 'unsubscribed', 4000, 4000, 'unsubscribe page');
                    INSERT INTO consent_change (customer_id, channel, opt_in, reason, at) VALUES ('c1', 'sms', 0, 'STOP', 4000);
                    """)
        }
        return database
    }

    /// Every row of every table of `store`, as PostgreSQL prints it.
    static func everyRow(_ store: PostgresStore) async throws -> [String] {
        var tables: [String] = []
        for try await table in try await store.client.query(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        ).decode(String.self) {
            tables.append(table)
        }
        var rows: [String] = []
        for table in tables {
            for try await row in try await store.client.query(PostgresQuery(unsafeSQL: "SELECT t::text FROM \(table) t"))
                .decode(String.self)
            {
                rows.append("\(table): \(row)")
            }
        }
        return rows
    }

    @Test("erasure changes the same rows as on SQLite and leaves no personal data; the ledger keeps the keyed hash")
    func erase() async throws {
        let sqlite = try Self.seeded()
        let (store, url) = try await PostgresServer.freshStore()
        defer { PostgresServer.dispose(store, url) }
        try await store.replaceContents(from: sqlite, messages: true)
        try await store.client.query(
            "INSERT INTO delivery_attempt (outbox_id, attempt, at, outcome, detail) VALUES ('m1', 1, 3000, 'delivered', 'accepted for zelda.quartermain@example.org')")
        try await sqlite.writer.write { db in
            try db.execute(
                sql: "INSERT INTO delivery_attempt (outbox_id, attempt, at, outcome, detail) VALUES ('m1', 1, 3000, 'delivered', 'accepted for zelda.quartermain@example.org')")
        }
        let before = try await Self.everyRow(store)
        for value in Self.personal { #expect(before.contains { $0.contains(value) }, "the test's data holds \(value)") }

        let at = Date(timeIntervalSince1970: 5)
        guard case .erased(let pseudonym, let rows) = try await CustomerErasure.erase(id: "c1", store: store, key: Self.key, now: at)
        else {
            Issue.record("c1 was not erased")
            return
        }
        guard case .erased(_, let sqliteRows) = try await CustomerErasure.erase(id: "c1", store: sqlite, key: Self.key, now: at)
        else {
            Issue.record("c1 was not erased on SQLite")
            return
        }
        #expect(rows.map { "\($0.table) \($0.rows)" } == sqliteRows.map { "\($0.table) \($0.rows)" })
        #expect(
            rows.map { "\($0.table) \($0.rows)" } == [
                "delivery_attempt 1", "delivery_event 3", "outbox 2", "ledger 2", "consent_change 1", "segment_entry 1",
                "progress 1", "visit 2", "customer 1",
            ])
        #expect(pseudonym == Self.key.pseudonym(for: "c1") && pseudonym.hasPrefix("erased:") && pseudonym.count == 39)

        let after = try await Self.everyRow(store)
        for value in Self.personal { #expect(!after.contains { $0.contains(value) }, "\(after.filter { $0.contains(value) })") }
        #expect(!after.contains { $0.contains("SM1:c1") }, "the Twilio event's key names the keyed hash")
        #expect(!after.contains { $0.contains("customer:c1:") }, "the unsubscribe event's key names the keyed hash")
        #expect(after.contains { $0.contains("customer:\(pseudonym):4000") })
        #expect(after.contains { $0.contains("Bo Chen") } && after.contains { $0.contains("bo@example.com") })
        // The ledger still knows what fired for the erased customer, under the keyed hash.
        let hits = try await store.ledgerHits([LedgerKey(workflowID: "welcome", customerID: pseudonym, occurrence: "signup")])
        #expect(hits.count == 1)
        #expect(try await store.erasureKeyChecks() == [Self.key.check])
        #expect(try await store.erasedAt(pseudonym: pseudonym) == at)
        // The text still waiting is not sent.
        let history = try await store.history(customerID: pseudonym)
        #expect(history.first { $0.message.id == "m2" }?.message.status == .suppressed)
        #expect(history.allSatisfy { $0.message.recipient == nil && $0.message.body == nil })

        // Again: nothing holds the id any more; the erasure's time stays; a bounce that came in since under the keyed
        // hash (its payload quoting the address) is cleared.
        try await store.client.query(
            """
            INSERT INTO delivery_event (provider, event_id, outbox_id, customer_id, channel, kind, at, received_at, detail)
            VALUES ('sendgrid', 'ev-late', 'm1', \(pseudonym), 'email', 'bounced', 6000, 6000, '550 zelda.quartermain@example.org')
            """)
        guard case .alreadyErased(_, let first, let again) = try await CustomerErasure.erase(
            id: "c1", store: store, key: Self.key, now: Date(timeIntervalSince1970: 9))
        else {
            Issue.record("c1 is not known as erased")
            return
        }
        #expect(first == at && again.map { "\($0.table) \($0.rows)" } == ["delivery_event 1"])
        #expect(!(try await Self.everyRow(store)).contains { $0.contains("zelda") })
        guard case .alreadyErased(_, _, let third) = try await CustomerErasure.erase(id: "c1", store: store, key: Self.key, now: at)
        else {
            Issue.record("c1 is not known as erased")
            return
        }
        #expect(third.isEmpty)
        // Another key is refused.
        await #expect(throws: ErasureKey.Problem.mismatch) {
            try await CustomerErasure.erase(id: "c2", store: store, key: ErasureKey(secret: "some-other-long-key"), now: at)
        }
        #expect(try await CustomerErasure.erase(id: "nobody", store: store, key: Self.key, now: at).isUnknown)
    }
}

extension ErasureTests {
    @Test("without NUDGE_ERASURE_KEY the first erasure makes the database's key, in its transaction; later ones use it")
    func databaseKey() async throws {
        let sqlite = try Self.seeded()
        let (store, url) = try await PostgresServer.freshStore()
        defer { PostgresServer.dispose(store, url) }
        try await store.replaceContents(from: sqlite, messages: true)
        let at = Date(timeIntervalSince1970: 5)
        #expect(try await store.storedErasureKey() == nil)
        guard case .erased(let first, _) = try await CustomerErasure.erase(id: "c1", store: store, key: nil, now: at) else {
            Issue.record("c1 was not erased")
            return
        }
        let secret = try #require(try await store.storedErasureKey())
        #expect(secret.count == 64 && first == ErasureKey(secret: secret).pseudonym(for: "c1"))
        #expect(try await store.erasureKeyChecks() == [ErasureKey(secret: secret).check])
        // A key in the environment later does not split the ledger's hashes between two keys.
        let later = ErasureKey(secret: "some-other-long-key")
        guard case .erased(let second, _) = try await CustomerErasure.erase(id: "c2", store: store, key: later, now: at)
        else {
            Issue.record("c2 was not erased")
            return
        }
        #expect(second == ErasureKey(secret: secret).pseudonym(for: "c2"))
        #expect(try await store.storedErasureKey() == secret)
        // The same on SQLite.
        guard case .erased(let onSQLite, _) = try await CustomerErasure.erase(id: "c1", store: sqlite, key: nil, now: at)
        else {
            Issue.record("c1 was not erased on SQLite")
            return
        }
        let sqliteSecret = try #require(try sqlite.storedErasureKey())
        #expect(sqliteSecret != secret && onSQLite == ErasureKey(secret: sqliteSecret).pseudonym(for: "c1"))
    }
}

extension CustomerErasure.Outcome {
    var isUnknown: Bool {
        if case .unknown = self { return true }
        return false
    }
}
