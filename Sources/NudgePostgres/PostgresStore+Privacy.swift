public import Foundation
import Logging
public import NudgeStore
import PostgresNIO
import NudgeCore

/// GDPR access and erasure (`nudge customers export|erase`), on PostgreSQL.
extension PostgresStore: PrivacyStore {
    public func erasureKeyChecks() async throws -> Set<String> {
        var checks = Set<String>()
        for try await check in try await client.query("SELECT DISTINCT key_check FROM erasure", logger: logger)
            .decode(String.self)
        {
            checks.insert(check)
        }
        return checks
    }

    public func storedErasureKey() async throws -> String? {
        for try await secret in try await client.query("SELECT secret FROM erasure_key WHERE id = 1", logger: logger)
            .decode(String.self)
        {
            return secret
        }
        return nil
    }

    public func ledgerEntries(customerID: String) async throws -> [LedgerEntry] {
        var entries: [LedgerEntry] = []
        let rows = try await client.query(
            """
            SELECT workflow_id, occurrence, committed_at FROM ledger WHERE customer_id = \(customerID)
            ORDER BY committed_at, workflow_id, occurrence
            """, logger: logger)
        for try await (workflow, occurrence, at) in rows.decode((String, String, Int64).self) {
            entries.append(LedgerEntry(workflowID: workflow, occurrence: occurrence, committedAt: StoredInstant.date(at)))
        }
        return entries
    }

    public func segmentEntries(customerID: String) async throws -> [(segment: String, enteredOn: String)] {
        var entries: [(segment: String, enteredOn: String)] = []
        let rows = try await client.query(
            "SELECT segment, entered_on FROM segment_entry WHERE customer_id = \(customerID) ORDER BY segment",
            logger: logger)
        for try await (segment, date) in rows.decode((String, String).self) { entries.append((segment, date)) }
        return entries
    }

    public func erasedPseudonyms() async throws -> Set<String> {
        var pseudonyms = Set<String>()
        for try await pseudonym in try await client.query("SELECT pseudonym FROM erasure", logger: logger).decode(String.self) {
            pseudonyms.insert(pseudonym)
        }
        return pseudonyms
    }

    public func erasedAt(pseudonym: String) async throws -> Date? {
        for try await at in try await client.query(
            "SELECT erased_at FROM erasure WHERE pseudonym = \(pseudonym)", logger: logger
        ).decode(Int64.self) {
            return StoredInstant.date(at)
        }
        return nil
    }

    /// The statements SQLite runs (`ErasureSQL`), each counting the rows it changed. The deleted rows' bytes stay
    /// in the table files until VACUUM reuses their space.
    public func erase(
        customerID: String, pseudonym: String, keyCheck: String, newKey: String?, at: Date
    ) async throws -> [(table: String, rows: Int)] {
        try await client.withTransaction(logger: logger) { connection in
            var report: [(table: String, rows: Int)] = []
            for (table, sql) in ErasureSQL.statements {
                var binds = PostgresBindings()
                for value in ErasureSQL.arguments(sql, customerID, pseudonym) { binds.append(value) }
                let text = sql.replacingOccurrences(of: "?1", with: "$1").replacingOccurrences(of: "?2", with: "$2")
                let query = PostgresQuery(
                    unsafeSQL: "WITH changed AS (\(text) RETURNING 1) SELECT count(*) FROM changed", binds: binds)
                for try await rows in try await connection.query(query, logger: logger).decode(Int64.self) {
                    ErasureSQL.add(Int(rows), to: table, in: &report)
                }
            }
            try await connection.query(
                """
                INSERT INTO erasure (pseudonym, erased_at, key_check) VALUES (\(pseudonym), \(StoredInstant.millis(at)), \(keyCheck))
                ON CONFLICT (pseudonym) DO UPDATE SET erased_at = excluded.erased_at
                """, logger: logger)
            if let newKey {
                try await connection.query("INSERT INTO erasure_key (id, secret) VALUES (1, \(newKey))", logger: logger)
            }
            return report
        }
    }
}
