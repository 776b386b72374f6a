public import Foundation
import Logging
import NudgeLanguage
public import NudgeStore
import PostgresNIO
import NudgeCore
import Synchronization

/// CSV imports on PostgreSQL.
///
/// A file is checked by the same importer as on SQLite, run into a scratch SQLite file seeded with
/// the rows the file touches (so upserts keep absent columns, dates are read in stored zones and unknown customers
/// or offers are bad rows, exactly as on SQLite). A rejected file stops there: nothing reaches PostgreSQL. An
/// accepted one is streamed with `COPY FROM STDIN` into a temporary staging table and upserted in one statement,
/// all in one transaction with the refresh of the visit-derived fields (in `customer_activity`).
///
/// A file large beside its table (`BulkLoad`) is loaded in bulk: the table's secondary indexes and foreign keys are
/// dropped and made again in the same transaction, and an empty table is copied into directly, without staging.
extension PostgresStore: ImportStore {
    /// The columns of the customer table here: those of the file, without the visit-derived fields, which live in
    /// `customer_activity`.
    static let customerTextColumns = """
        id, name, email, phone, birth_date, birth_month_day, birth_year::text, timezone, signed_up_at::text,
        email_opt_in::int::text, sms_opt_in::int::text, push_opt_in::int::text, push_token, wallet_pass_id, tags,
        attributes, push_platform, wallet_platform
        """
    static let customerColumnNames = customerTextColumns.split(separator: ",").map {
        String($0.trimmingCharacters(in: .whitespacesAndNewlines).prefix { $0 != ":" })
    }

    /// The columns of the offer table, as the scratch database and COPY carry them.
    static let offerColumns = ["id", "name", "stamps_required", "published_at", "category"]

    /// Fills `customer_activity` for the customers with visits, or only for those in `touched` (a query of
    /// customer ids), from their visits; `intoEmptyTable` when it holds no row yet.
    static func activityUpsert(touched: String?, intoEmptyTable empty: Bool) -> String {
        let filter = touched.map { "WHERE v.customer_id IN (\($0))" } ?? ""
        let insert = """
            INSERT INTO customer_activity
            SELECT v.customer_id, c.timezone, max(v.visited_at), count(*), coalesce(sum(v.amount_cents), 0),
              greatest(c.signed_up_at, max(v.visited_at))
            FROM visit v JOIN customer c ON c.id = v.customer_id \(filter)
            GROUP BY v.customer_id, c.timezone, c.signed_up_at
            """
        if empty { return insert }
        // A customer whose figures the file does not change is not rewritten.
        return insert + """

            ON CONFLICT (customer_id) DO UPDATE SET timezone = EXCLUDED.timezone, last_visit_at = EXCLUDED.last_visit_at,
              visits_total = EXCLUDED.visits_total, lifetime_value_cents = EXCLUDED.lifetime_value_cents,
              last_activity_at = EXCLUDED.last_activity_at
            WHERE (customer_activity.timezone, customer_activity.last_visit_at, customer_activity.visits_total,
                   customer_activity.lifetime_value_cents, customer_activity.last_activity_at)
              IS DISTINCT FROM (EXCLUDED.timezone, EXCLUDED.last_visit_at, EXCLUDED.visits_total,
                   EXCLUDED.lifetime_value_cents, EXCLUDED.last_activity_at)
            """
    }

    public func importCSV(_ kind: ImportKind, path: String, options: ImportOptions) async throws -> ImportSummary {
        let started = Date()
        let counts = try await tableCounts(kind)
        // The file's keys choose what to seed; a first load of customers seeds nothing and reads only the header.
        let keys = try ImportKeys.read(kind, path: path, withKeys: kind != .customers || counts.customers > 0)
        // The scratch database is a temporary file: a million rows stay on disk, not in memory.
        let scratchPath = FileManager.default.temporaryDirectory.appendingPathComponent("nudge-import-\(UUID().uuidString).sqlite").path
        defer {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: scratchPath + suffix) }
        }
        let scratch = try AppDatabase.scratch(path: scratchPath)
        // Seed what the file touches, nothing from an empty table. Customers are read whole when the file names three
        // quarters of them or more (one scan is cheaper than looking each key up).
        let manyCustomers = keys.customerIDs.count * 4 >= counts.customers * 3
        if kind == .customers, counts.customers > 0 {
            // An upsert keeps the columns the file lacks: the whole stored row is seeded (the scratch file's
            // last_activity_at only needs a value: the visit-derived fields are not taken from it).
            try await seed(
                scratch, table: "customer", columns: Self.customerColumnNames + ["last_activity_at"],
                "SELECT \(unescaped: Self.customerTextColumns), '0' FROM customer WHERE id = ANY(\(keys.customerIDs))")
        }
        var checkOptions = options
        if kind == .visits || kind == .progress {
            // Visits and progress only look customers up (do they exist, in which zone are their dates read): the
            // ids and zones are kept in memory, and the derived fields are recomputed here, not in the scratch file.
            checkOptions.knownCustomers = try await knownCustomers(
                counts.customers == 0 ? .none : manyCustomers ? .all : .ids(keys.customerIDs),
                capacity: min(counts.customers, keys.customerIDs.count))
            checkOptions.refreshesDerivedFields = false
        }
        if kind == .offers || kind == .progress {
            try await seed(
                scratch, table: "offer", columns: Self.offerColumns,
                "SELECT id, name, stamps_required::text, published_at::text, category FROM offer WHERE id = ANY(\(keys.offerIDs))")
        }
        if kind == .progress, counts.progress > 0 {
            try await seed(
                scratch, table: "progress", columns: ImportKind.progressColumns,
                """
                SELECT customer_id, offer_id, stamps::text, rewards_earned::text, updated_at::text FROM progress
                WHERE customer_id = ANY(\(keys.customerIDs)) AND offer_id = ANY(\(keys.offerIDs))
                """)
        }
        let seeded = Date()
        // A first load into an empty table is checked and copied in one pass.
        let tableRows: Int? =
            switch kind {
            case .customers: counts.customers
            case .visits: counts.visits
            case .progress: counts.progress
            case .offers: nil
            }
        if tableRows == 0,
            let rows = try await streamFirstLoad(kind, path: path, header: keys.columns, scratch: scratch, options: checkOptions)
        {
            return ImportSummary(kind: kind, rows: rows, seconds: Date().timeIntervalSince(started))
        }
        let checked = try scratch.importCSV(kind, path: path, options: checkOptions)
        let scratched = Date()
        events.debug(
            "import checked",
            metadata: [
                "seed.seconds": "\(seeded.timeIntervalSince(started))", "check.seconds": "\(scratched.timeIntervalSince(seeded))",
            ])
        // Tables the file loads in bulk: their secondary indexes and foreign keys are built again afterwards.
        var bulk: [String] = []
        switch kind {
        case .customers:
            if bulkLoad.applies(rows: checked.rows, tableRows: counts.customers) { bulk.append("customer") }
        case .visits:
            if bulkLoad.applies(rows: checked.rows, tableRows: counts.visits) { bulk.append("visit") }
            // The visit-derived fields of every customer the file names are written again.
            if bulkLoad.applies(rows: keys.customerIDs.count, tableRows: counts.customers) {
                bulk.append("customer_activity")
            }
        case .progress:
            if bulkLoad.applies(rows: checked.rows, tableRows: counts.progress) { bulk.append("progress") }
        case .offers: break
        }
        try await client.withTransaction(logger: logger) { connection in
            // Joins and aggregates over whole tables, which parallel workers speed up (the pool's sessions have none).
            try await connection.query("SET LOCAL max_parallel_workers_per_gather = 2", logger: logger)
            try await withoutIndexes(on: bulk, connection) { empty in
                switch kind {
                case .customers:
                    try await upsertCustomers(
                        from: scratch, header: keys.columns, intoEmptyTable: empty.contains("customer"), connection)
                case .visits:
                    try await upsertVisits(
                        from: scratch, header: keys.columns, intoEmptyTable: empty.contains("visit"),
                        activityEmpty: empty.contains("customer_activity"), connection)
                case .offers: try await upsertOffers(from: scratch, header: keys.columns, connection)
                case .progress: try await upsertProgress(from: scratch, intoEmptyTable: empty.contains("progress"), connection)
                }
            }
        }
        events.debug("import upserted", metadata: ["upsert.seconds": "\(Date().timeIntervalSince(scratched))"])
        return ImportSummary(kind: kind, rows: checked.rows, seconds: Date().timeIntervalSince(started))
    }

    public func assignWalletPass(customerID: String, passID: String, platform: String?) async throws -> String? {
        let rows = try await client.query(
            """
            UPDATE customer SET wallet_pass_id = coalesce(nullif(wallet_pass_id, ''), \(passID)),
              wallet_platform = coalesce(wallet_platform, \(platform))
            WHERE id = \(customerID) RETURNING wallet_pass_id
            """, logger: logger)
        for try await pass in rows.decode(String.self) { return pass }
        return nil
    }

    /// Builds the demo in a scratch SQLite file, then replaces this database's customers with it.
    public func replaceWithDemo(customers: Int, now: Date) async throws {
        let scratchPath = FileManager.default.temporaryDirectory
            .appendingPathComponent("nudge-demo-\(UUID().uuidString).sqlite").path
        defer {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: scratchPath + suffix) }
        }
        let scratch = try AppDatabase.scratch(path: scratchPath)
        try DemoData.populate(scratch, count: customers, now: now)
        try await replaceContents(from: scratch)
    }

    /// Replaces the customers, visits, offers, progress, ledger, erasures, segment entries and model fits here with
    /// those of `source`, in one transaction, moving the rows with COPY (the demo, and tests that plan on both
    /// stores). The outbox, delivery events and consent changes are emptied, or with `messages` copied too (what the
    /// engagement score reads).
    public func replaceContents(from source: AppDatabase, messages: Bool = false) async throws {
        try await client.withTransaction(logger: logger) { connection in
            try await connection.execute(
                script: """
                    DELETE FROM delivery_attempt; DELETE FROM outbox; DELETE FROM ledger; DELETE FROM progress;
                    DELETE FROM visit; DELETE FROM offer; DELETE FROM customer_activity; DELETE FROM segment_entry;
                    DELETE FROM customer; DELETE FROM model_fit; DELETE FROM delivery_event; DELETE FROM consent_change;
                    DELETE FROM erasure; DELETE FROM erasure_key
                    """, logger: logger)
            var tables: [(String, [String], [String])] = [
                ("offer", Self.offerColumns, ["id"]),
                ("customer", Self.customerColumnNames, ["id"]),
                ("visit", ImportKind.visitColumns, ["customer_id", "visited_at"]),
                ("progress", ImportKind.progressColumns, ["customer_id", "offer_id"]),
                (
                    "ledger", ["workflow_id", "customer_id", "occurrence", "committed_at", "variant", "due_at", "step"],
                    ["workflow_id", "customer_id", "occurrence"]
                ),
                ("segment_entry", ["segment", "customer_id", "entered_on"], ["segment", "customer_id"]),
                ("erasure", ["pseudonym", "erased_at", "key_check"], ["pseudonym"]),
                ("erasure_key", ["id", "secret"], ["id"]),
                (
                    "model_fit",
                    [
                        "id", "fitted_at", "customers", "repeat_customers", "r", "alpha", "a", "b", "bgnbd_log_likelihood", "p",
                        "q", "v", "gamma_gamma_log_likelihood", "details",
                    ], ["id"]
                ),
            ]
            if messages {
                tables += [
                    (
                        "outbox",
                        [
                            "id", "workflow_id", "customer_id", "occurrence", "action_index", "channel", "recipient", "template",
                            "heading_key", "heading", "body", "due_at", "created_at", "status", "reason", "attempts",
                            "next_attempt_at", "lease_owner", "lease_expires_at", "delivered_at", "provider_message_id", "text_body",
                            "variant", "category", "step", "platform",
                        ], ["id"]
                    ),
                    (
                        "delivery_event",
                        ["provider", "event_id", "outbox_id", "customer_id", "channel", "kind", "at", "received_at", "detail"],
                        ["provider", "event_id"]
                    ),
                    ("consent_change", ["id", "customer_id", "channel", "opt_in", "reason", "at"], ["id"]),
                ]
            }
            for (table, columns, key) in tables {
                try await stage(table, from: source, columns: columns, key: key, connection)
                let list = columns.joined(separator: ", ")
                try await connection.query(
                    PostgresQuery(unsafeSQL: "INSERT INTO \(table) (\(list)) SELECT \(list) FROM \(table)_in"), logger: logger)
            }
            // The visit-derived fields, from the visits, as SQLite derives them.
            try await activityFromVisits(loaded: "visit", touched: nil, activityEmpty: true, connection)
            try await addZones(from: "customer", connection)
        }
    }

    /// Adds the zones of the customers in `table` to `customer_zone` ('' for customers without one).
    func addZones(from table: String, _ connection: PostgresConnection) async throws {
        try await connection.query(
            PostgresQuery(
                unsafeSQL: "INSERT INTO customer_zone SELECT DISTINCT coalesce(timezone, '') FROM \(table) ON CONFLICT DO NOTHING"),
            logger: logger)
        // Too few rows for autovacuum ever to count them: without statistics the planner takes the zones that the
        // planning queries loop over for a thousand.
        try await connection.query("ANALYZE customer_zone", logger: logger)
    }

    /// How many rows the tables a `kind` file touches hold now.
    func tableCounts(_ kind: ImportKind) async throws -> (customers: Int, visits: Int, progress: Int) {
        // Only the counts the import uses are taken: counting a few million visits is not free.
        let visits = kind == .visits ? "(SELECT count(*) FROM visit)" : "0"
        let progress = kind == .progress ? "(SELECT count(*) FROM progress)" : "0"
        let rows = try await client.query(
            "SELECT (SELECT count(*) FROM customer), \(unescaped: visits), \(unescaped: progress)", logger: logger)
        for try await (customers, visits, progress) in rows.decode((Int, Int, Int).self) {
            return (customers, visits, progress)
        }
        return (0, 0, 0)
    }

    /// Runs `body` with the secondary indexes and the foreign keys of `tables` dropped, and the primary keys of the
    /// empty ones (with the foreign keys that reference them), then makes them again from their definitions in the
    /// catalog, in the caller's transaction: a failed body or a key that no longer holds rolls everything back. The
    /// tables are locked first: other sessions wait for them until the transaction ends. `body` is told which of
    /// `tables` are empty: no other session can write to them before the end of the transaction, so rows may be
    /// copied straight in (without a primary key to keep, rows must be unique, as a checked file's are).
    func withoutIndexes(
        on tables: [String], _ connection: PostgresConnection, _ body: (Set<String>) async throws -> Void
    ) async throws {
        guard !tables.isEmpty else { return try await body([]) }
        let started = Date()
        try await connection.query(
            PostgresQuery(unsafeSQL: "LOCK TABLE \(tables.joined(separator: ", ")) IN ACCESS EXCLUSIVE MODE"), logger: logger)
        var empty = Set<String>()
        for table in tables {
            let rows = try await connection.query(
                PostgresQuery(unsafeSQL: "SELECT NOT EXISTS (SELECT 1 FROM \(table))"), logger: logger)
            for try await isEmpty in rows.decode(Bool.self) where isEmpty { empty.insert(table) }
        }
        // Made again in this order (primary keys, indexes, foreign keys), dropped in the reverse one.
        let emptyTables = Array(empty)
        var definitions: [(drop: String, make: String)] = []
        let rows = try await connection.query(
            """
            SELECT CASE c.contype WHEN 'p' THEN 1 ELSE 3 END,
                   'ALTER TABLE ' || quote_ident(t.relname) || ' DROP CONSTRAINT ' || quote_ident(c.conname),
                   'ALTER TABLE ' || quote_ident(t.relname) || ' ADD CONSTRAINT ' || quote_ident(c.conname) || ' '
                     || pg_get_constraintdef(c.oid)
            FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid LEFT JOIN pg_class r ON r.oid = c.confrelid
            WHERE pg_table_is_visible(t.oid)
              AND ((c.contype = 'p' AND t.relname = ANY(\(emptyTables)))
                OR (c.contype = 'f' AND (t.relname = ANY(\(tables))
                  OR (r.relname = ANY(\(emptyTables)) AND pg_table_is_visible(r.oid)))))
            UNION ALL
            SELECT 2, 'DROP INDEX ' || quote_ident(i.relname), pg_get_indexdef(x.indexrelid)
            FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
            WHERE t.relname = ANY(\(tables)) AND pg_table_is_visible(t.oid)
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid AND c.conrelid = t.oid)
            ORDER BY 1, 2
            """, logger: logger)
        for try await (_, drop, make) in rows.decode((Int32, String, String).self) { definitions.append((drop, make)) }
        try await connection.query("SET LOCAL maintenance_work_mem = '256MB'", logger: logger)
        for definition in definitions.reversed() {
            try await connection.query(PostgresQuery(unsafeSQL: definition.drop), logger: logger)
        }
        let dropped = Date()
        try await body(empty)
        let loaded = Date()
        for definition in definitions { try await connection.query(PostgresQuery(unsafeSQL: definition.make), logger: logger) }
        events.debug(
            "import loaded in bulk",
            metadata: [
                "tables": "\(tables.joined(separator: ","))", "dropped": "\(definitions.count)",
                "load.seconds": "\(loaded.timeIntervalSince(dropped))", "rebuild.seconds": "\(Date().timeIntervalSince(loaded))",
                "drop.seconds": "\(dropped.timeIntervalSince(started))",
            ])
    }

    /// Which customers an import of visits or progress looks up.
    enum CustomerLookup {
        case none, all
        case ids([String])
    }

    /// The ids and zones of the customers `lookup` names that exist here. They come a page to a row, as arrays (a
    /// row each costs more in the client than in the server), a customer without a zone as ''.
    func knownCustomers(_ lookup: CustomerLookup, capacity: Int, page: Int = 50_000) async throws -> KnownCustomers {
        var known = KnownCustomers(minimumCapacity: capacity)
        let started = Date()
        /// Adds the ids and zones of `query`'s one row; returns the ids.
        func add(_ query: PostgresQuery) async throws -> [String] {
            for try await (ids, zones) in try await client.query(query, logger: logger).decode(([String]?, [String]?).self) {
                guard let ids, let zones else { return [] }
                for (id, zone) in zip(ids, zones) { known.add(id: id, zone: zone.isEmpty ? nil : zone) }
                return ids
            }
            return []
        }
        switch lookup {
        case .none: return known
        case .all:
            var after: String?
            repeat {
                let ids = try await add(
                    """
                    SELECT array_agg(id ORDER BY id), array_agg(coalesce(timezone, '') ORDER BY id) FROM (
                      SELECT id, timezone FROM customer WHERE \(after == nil) OR id > \(after ?? "") ORDER BY id LIMIT \(page)) AS p
                    """)
                after = ids.count == page ? ids.last : nil
            } while after != nil
        case .ids(let ids):
            // One query, one row: the ids are found by one scan, where pages would each scan again.
            _ = try await add("SELECT array_agg(id), array_agg(coalesce(timezone, '')) FROM customer WHERE id = ANY(\(ids))")
        }
        events.debug(
            "import looked customers up",
            metadata: ["customers": "\(known.count)", "seconds": "\(Date().timeIntervalSince(started))"])
        return known
    }

    /// Rows per page moved between the stores.
    static let pageSize = 20_000

    /// Copies the rows `query` selects here into `table` of the scratch database, page by page.
    func seed(_ scratch: AppDatabase, table: String, columns: [String], _ query: PostgresQuery) async throws {
        var page: [[String?]] = []
        var inserting = 0.0
        let started = Date()
        for try await row in try await client.query(query, logger: logger) {
            page.append(try row.map { try $0.decode(String?.self) })
            if page.count == Self.pageSize {
                let writing = Date()
                try scratch.insertText(table: table, columns: columns, rows: page)
                inserting += Date().timeIntervalSince(writing)
                page.removeAll(keepingCapacity: true)
            }
        }
        let writing = Date()
        try scratch.insertText(table: table, columns: columns, rows: page)
        inserting += Date().timeIntervalSince(writing)
        events.debug(
            "import seeded",
            metadata: [
                "table": "\(table)", "seed.seconds": "\(Date().timeIntervalSince(started))",
                "scratch_insert.seconds": "\(inserting)",
            ])
    }

    /// Streams `table` of the scratch database, page by page in key order, into a fresh temporary table
    /// `TABLE_in` shaped like `table` here, or straight into `table` when `direct` (an empty table that no other
    /// session can write to).
    func stage(
        _ table: String, from scratch: AppDatabase, columns: [String], key: [String], direct: Bool = false,
        _ connection: PostgresConnection
    ) async throws {
        if !direct {
            try await connection.query(
                "CREATE TEMPORARY TABLE \(unescaped: table)_in (LIKE \(unescaped: table)) ON COMMIT DROP", logger: logger)
        }
        let started = Date()
        defer { events.debug("import staged", metadata: ["table": "\(table)", "stage.seconds": "\(Date().timeIntervalSince(started))"]) }
        try await connection.copyFrom(table: direct ? table : "\(table)_in", columns: columns, logger: logger) { writer in
            var after: [String?]?
            repeat {
                var text = CopyText()
                after = try scratch.textPage(of: table, columns: columns, key: key, after: after, limit: Self.pageSize) {
                    text.row(bytes: $0)
                }
                if text.rows > 0 { try await writer.write(text.buffer) }
            } while after != nil
        }
    }

    func upsertCustomers(
        from scratch: AppDatabase, header: [String], intoEmptyTable empty: Bool, _ connection: PostgresConnection
    ) async throws {
        let columns = Self.customerColumnNames
        if empty {
            // Nothing to merge with, and no customer has visits yet.
            try await stage("customer", from: scratch, columns: columns, key: ["id"], direct: true, connection)
            try await addZones(from: "customer", connection)
            return
        }
        try await stage("customer", from: scratch, columns: columns, key: ["id"], connection)
        // The scratch rows hold each customer's final imported columns (seeded from here, then upserted). An opt-out
        // made through Nudge outlives the file's opt-in.
        let updates = columns.filter { $0 != "id" }.map { column in
            if let channel = ConsentChange.columns.first(where: { $0.value == column })?.key {
                return """
                    \(column) = CASE WHEN (SELECT opt_in FROM consent_change WHERE customer_id = EXCLUDED.id \
                    AND channel = '\(channel)' ORDER BY at DESC, id DESC LIMIT 1) = false THEN false \
                    ELSE EXCLUDED.\(column) END
                    """
            }
            return "\(column) = EXCLUDED.\(column)"
        }
        let list = columns.joined(separator: ", ")
        // A row the file does not change is not rewritten (a daily re-import of the same export touches nothing).
        let targets = updates.map { "customer." + String($0.prefix { $0 != " " }) }
        let values = updates.map { String($0.drop { $0 != "=" }.dropFirst()).trimmingCharacters(in: .whitespaces) }
        try await connection.query(
            PostgresQuery(
                unsafeSQL: """
                    INSERT INTO customer (\(list)) SELECT \(list) FROM customer_in
                    ON CONFLICT (id) DO UPDATE SET \(updates.joined(separator: ", "))
                    WHERE (\(targets.joined(separator: ", "))) IS DISTINCT FROM (\(values.joined(separator: ", ")))
                    """), logger: logger)
        try await addZones(from: "customer_in", connection)
        // A customer with visits who moves zone or sign-up date: the activity row keeps the zone and the latest
        // of sign-up and last visit.
        try await connection.query(
            """
            UPDATE customer_activity a SET timezone = c.timezone, last_activity_at = greatest(c.signed_up_at, a.last_visit_at)
            FROM customer_in c WHERE a.customer_id = c.id
              AND (a.timezone, a.last_activity_at) IS DISTINCT FROM (c.timezone, greatest(c.signed_up_at, a.last_visit_at))
            """, logger: logger)
    }

    func upsertVisits(
        from scratch: AppDatabase, header: [String], intoEmptyTable empty: Bool, activityEmpty: Bool,
        _ connection: PostgresConnection
    ) async throws {
        try await stage(
            "visit", from: scratch, columns: ImportKind.visitColumns,
            key: ["customer_id", "visited_at"], direct: empty, connection)
        // Without an amount column a known visit keeps its amount; an unchanged one is not rewritten.
        let conflict =
            header.contains("amount")
            ? "DO UPDATE SET amount_cents = EXCLUDED.amount_cents WHERE visit.amount_cents IS DISTINCT FROM EXCLUDED.amount_cents"
            : "DO NOTHING"
        if !empty {
            try await connection.query(
                """
                INSERT INTO visit SELECT * FROM visit_in
                ON CONFLICT (customer_id, visited_at) \(unescaped: conflict)
                """, logger: logger)
        }
        // Into an empty table every visit is the file's.
        try await activityFromVisits(
            loaded: empty ? "visit" : "visit_in", touched: empty ? nil : "SELECT DISTINCT customer_id FROM visit_in",
            activityEmpty: activityEmpty, connection)
    }

    /// Writes the `customer_activity` rows of the customers in `touched` (a query of ids; nil: every customer with
    /// visits) after visits were loaded into `loaded`.
    func activityFromVisits(loaded: String, touched: String?, activityEmpty: Bool, _ connection: PostgresConnection)
        async throws
    {
        // Fresh statistics for the join: a table just loaded has none, and a temporary one never gets any by itself
        // (a plan guessed without them took twice as long on a million customers).
        try await connection.query(PostgresQuery(unsafeSQL: "ANALYZE \(loaded)"), logger: logger)
        try await connection.query(
            PostgresQuery(unsafeSQL: Self.activityUpsert(touched: touched, intoEmptyTable: activityEmpty)), logger: logger)
    }

    func upsertOffers(from scratch: AppDatabase, header: [String], _ connection: PostgresConnection) async throws {
        try await stage("offer", from: scratch, columns: Self.offerColumns, key: ["id"], connection)
        try await connection.query(
            """
            INSERT INTO offer (id, name, stamps_required, published_at, category)
            SELECT id, name, stamps_required, published_at, category FROM offer_in
            ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, stamps_required = EXCLUDED.stamps_required,
              published_at = EXCLUDED.published_at, category = EXCLUDED.category
            """, logger: logger)
    }

    func upsertProgress(from scratch: AppDatabase, intoEmptyTable empty: Bool, _ connection: PostgresConnection) async throws {
        try await stage(
            "progress", from: scratch, columns: ImportKind.progressColumns,
            key: ["customer_id", "offer_id"], direct: empty, connection)
        guard !empty else { return }
        try await connection.query(
            """
            INSERT INTO progress SELECT * FROM progress_in
            ON CONFLICT (customer_id, offer_id) DO UPDATE SET stamps = EXCLUDED.stamps,
              rewards_earned = EXCLUDED.rewards_earned, updated_at = EXCLUDED.updated_at
            WHERE (progress.stamps, progress.rewards_earned, progress.updated_at)
              IS DISTINCT FROM (EXCLUDED.stamps, EXCLUDED.rewards_earned, EXCLUDED.updated_at)
            """, logger: logger)
    }

    /// A first load of customers, visits or progress into an empty table: the file's rows are checked on a thread
    /// of their own and streamed as they pass straight into the table (its keys and indexes built afterwards), with
    /// no scratch copy. A bad row rejects the file and rolls everything back. Nil, with nothing written, when the
    /// rows cannot go in as they are: the table is no longer empty, or the file names a key twice (its last row
    /// wins, which the scratch path's upsert does).
    func streamFirstLoad(
        _ kind: ImportKind, path: String, header: [String], scratch: AppDatabase, options: ImportOptions
    ) async throws -> Int? {
        let table = kind.table
        let started = Date()
        do {
            return try await client.withTransaction(logger: logger) { connection in
                try await connection.query("SET LOCAL max_parallel_workers_per_gather = 2", logger: logger)
                var rows = 0
                try await withoutIndexes(on: kind == .visits ? [table, "customer_activity"] : [table], connection) { empty in
                    guard empty.contains(table) else { throw FirstLoadFallback() }
                    rows = try await streamChecked(
                        kind, into: table, path: path, header: header, scratch: scratch, options: options, connection)
                    switch kind {
                    case .customers: try await addZones(from: "customer", connection)
                    case .visits:
                        try await activityFromVisits(
                            loaded: "visit", touched: nil, activityEmpty: empty.contains("customer_activity"), connection)
                    case .offers, .progress: break
                    }
                }
                events.debug(
                    "import streamed",
                    metadata: ["table": "\(table)", "rows": "\(rows)", "seconds": "\(Date().timeIntervalSince(started))"])
                return rows
            }
        } catch let error as PostgresTransactionError {
            if error.closureError is FirstLoadFallback { return nil }
            if let closure = error.closureError as? PSQLError, closure.serverInfo?[.sqlState] == "23505",
                closure.serverInfo?[.constraintName] == "\(table)_pkey"
            {
                events.debug("import streamed a key twice: checked again in a scratch file", metadata: ["table": "\(table)"])
                return nil
            }
            if let rejected = error.closureError as? ImportRejected { throw rejected }
            throw error
        }
    }

    /// Why a first load goes the scratch file's way after all.
    struct FirstLoadFallback: Error {}

    /// Checks a file on a thread of its own and copies its good rows into `table` as they pass; returns the rows
    /// read. The check's error (a rejected file) comes first: the copy only fails after it.
    func streamChecked(
        _ kind: ImportKind, into table: String, path: String, header: [String], scratch: AppDatabase,
        options: ImportOptions, _ connection: PostgresConnection
    ) async throws -> Int {
        let feed = CopyFeed()
        var options = options
        options.checkedRows = { fields in try feed.row(fields) }
        let checkOptions = options
        let check = Task<Int, any Error>.detachedThread {
            do {
                let rows = try scratch.importCSV(kind, path: path, options: checkOptions).rows
                feed.finish(throwing: nil)
                return rows
            } catch {
                feed.finish(throwing: error)
                throw error
            }
        }
        do {
            try await connection.copyFrom(table: table, columns: kind.checkedColumns(header: header), logger: logger) {
                writer in
                for try await chunk in feed.chunks {
                    try await writer.write(chunk)
                    feed.sent()
                }
            }
        } catch {
            feed.cancel()
            if case .failure(let checkError) = await check.result, !(checkError is CancellationError) { throw checkError }
            throw error
        }
        return try await check.value
    }
}

/// Checked rows on their way into COPY: the checking thread fills 1 MiB buffers and waits while a few are in
/// flight; the connection sends them and says when each has gone.
final class CopyFeed: @unchecked Sendable {
    let chunks: AsyncThrowingStream<ByteBuffer, any Error>
    private let continuation: AsyncThrowingStream<ByteBuffer, any Error>.Continuation
    /// Touched only by the checking thread.
    private var text = CopyText()
    private let room = DispatchSemaphore(value: CopyFeed.inFlight)
    private let cancelled = Atomic(false)
    private static let inFlight = 8

    init() { (chunks, continuation) = AsyncThrowingStream.makeStream() }

    /// Adds a row (the checking thread).
    func row(_ fields: [UnsafeBufferPointer<UInt8>?]) throws {
        text.row(bytes: fields)
        if text.isFull { try send() }
    }

    private func send() throws {
        room.wait()
        if cancelled.load(ordering: .relaxed) { throw CancellationError() }
        continuation.yield(text.buffer)
        text = CopyText()
    }

    /// Ends the rows (the checking thread): the last buffer goes, or `error` ends the copy.
    func finish(throwing error: (any Error)?) {
        if let error { return continuation.finish(throwing: error) }
        do {
            if text.rows > 0 { try send() }
            continuation.finish()
        } catch {
            continuation.finish(throwing: error)
        }
    }

    /// A buffer has gone (the connection).
    func sent() { room.signal() }

    /// The copy failed: the checking thread stops at its next buffer.
    func cancel() {
        cancelled.store(true, ordering: .relaxed)
        for _ in 0..<Self.inFlight { room.signal() }
    }
}

extension Task where Failure == any Error {
    /// Runs blocking `body` on a thread of its own (not one of the concurrency pool's few), as a task to await.
    static func detachedThread(_ body: @escaping @Sendable () throws -> Success) -> Task<Success, any Error> {
        Task {
            try await withCheckedThrowingContinuation { continuation in
                Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
            }
        }
    }
}
