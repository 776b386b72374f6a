import Foundation
public import Logging
public import NudgeLanguage
import NIOSSL
public import PostgresNIO
import NudgeStore

/// The store on PostgreSQL (postgres-nio): the same seam as `AppDatabase`, for platforms that already run
/// PostgreSQL and for several runners sharing one database.
///
/// Instants are stored as BIGINT milliseconds and booleans as BOOLEAN; the schema is made by the same named
/// migrations as SQLite's (`v1` … `v6-outbox-text`), recorded in `nudge_migrations`. Planners serialize on an
/// advisory lock; dispatchers claim with `FOR UPDATE SKIP LOCKED`, so any number of runners share the outbox.
public final class PostgresStore: Sendable {
    /// The connection pool.
    public let client: PostgresClient
    let runTask: Task<Void, Never>
    /// What postgres-nio logs with (errors only: its debug level logs every statement).
    let logger: Logger
    /// Nudge's own messages about the store (timings of import stages at debug level).
    let events: Logger
    /// Where it is connected (no password).
    public let url: DatabaseURL
    /// When an import loads a table in bulk.
    public let bulkLoad: BulkLoad

    /// When an import loads a table in bulk: PostgreSQL keeps secondary indexes and checks foreign keys row by
    /// row, which for a file as large as a good share of its table costs more than dropping them and making them
    /// again once the rows are in (3–4× more for a first import of a million customers on a 2-core machine).
    public struct BulkLoad: Sendable {
        /// Files with fewer rows than this are always loaded row by row.
        public var minimumRows: Int
        /// The share of the table's rows from which a file is loaded in bulk.
        public var shareOfTable: Double

        public init(minimumRows: Int = 10_000, shareOfTable: Double = 0.25) {
            self.minimumRows = minimumRows
            self.shareOfTable = shareOfTable
        }

        /// Whether `rows` written into a table of `tableRows` rows are loaded in bulk.
        public func applies(rows: Int, tableRows: Int) -> Bool {
            rows >= minimumRows && Double(rows) >= shareOfTable * Double(tableRows)
        }
    }

    /// Why the store could not be opened: one line, safe to print.
    public struct ConnectionError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    init(client: PostgresClient, url: DatabaseURL, logger: Logger, events: Logger, bulkLoad: BulkLoad) {
        self.client = client
        self.url = url
        self.bulkLoad = bulkLoad
        self.logger = logger
        self.events = events
        runTask = Task { await client.run() }
    }

    /// Connects to `url`, checks the server answers and migrates the schema.
    public static func connect(
        _ url: DatabaseURL, password: String?, logger: Logger, maximumConnections: Int = 12,
        bulkLoad: BulkLoad = BulkLoad()
    ) async throws -> PostgresStore {
        let tls: PostgresClient.Configuration.TLS
        switch url.tls {
        case .disable: tls = .disable
        case .prefer: tls = .prefer(.makeClientConfiguration())
        case .require: tls = .require(.makeClientConfiguration())
        }
        // One plain connection first: a refused connection, an unknown host, a wrong password or a missing database
        // is reported as the server or the network says it, before the pool (which would only retry) is made.
        let probeTLS: PostgresConnection.Configuration.TLS
        do {
            switch url.tls {
            case .disable: probeTLS = .disable
            case .prefer: probeTLS = .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
            case .require: probeTLS = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
            }
            var probe = PostgresConnection.Configuration(
                host: url.host, port: url.port, username: url.user, password: password, database: url.database, tls: probeTLS)
            probe.options.connectTimeout = .seconds(10)
            let connection = try await PostgresConnection.connect(configuration: probe, id: 0, logger: logger)
            try await connection.close()
        } catch {
            throw ConnectionError(description: "cannot connect to PostgreSQL at \(url.host):\(url.port): \(Self.describe(error))")
        }
        var configuration = PostgresClient.Configuration(
            host: url.host, port: url.port, username: url.user, password: password, database: url.database, tls: tls)
        configuration.options.maximumConnections = maximumConnections
        configuration.options.connectTimeout = .seconds(10)
        // The plan's queries are small index scans, a dozen or more per run: starting parallel workers for one
        // (which PostgreSQL chose for the inactivity scan's two branches) took 10 ms of its 11. Imports allow them.
        // Nor is any query compiled: an estimate over the JIT threshold (a table without statistics yet, such as
        // a fresh customer_zone) made PostgreSQL spend 140 ms compiling a sign-up scan that then ran in 0.02 ms.
        configuration.options.additionalStartupParameters = [("max_parallel_workers_per_gather", "0"), ("jit", "off")]
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .error)
        let store = PostgresStore(
            client: PostgresClient(configuration: configuration, backgroundLogger: quiet), url: url, logger: quiet,
            events: logger, bulkLoad: bulkLoad)
        do {
            try await store.migrate()
        } catch {
            await store.close()
            throw ConnectionError(description: "cannot use PostgreSQL: \(Self.describe(error))")
        }
        return store
    }

    /// Closes the pool.
    public func close() async {
        runTask.cancel()
        await runTask.value
    }

    /// The one-line account of `error` when it comes from PostgreSQL (a query, a transaction, the connection);
    /// nil for any other error.
    public static func failure(_ error: any Error) -> String? {
        error is PSQLError || error is PostgresTransactionError ? describe(error) : nil
    }

    /// A one-line account of a PostgreSQL error: the server's message, or what went wrong on the way.
    public static func describe(_ error: any Error) -> String {
        if let error = error as? PostgresTransactionError {
            return describe(error.closureError ?? error.beginError ?? error.commitError ?? error.rollbackError ?? error)
        }
        guard let error = error as? PSQLError else { return "\(error)" }
        if let message = error.serverInfo?[.message] {
            return message + (error.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? "")
        }
        if let underlying = error.underlying { return "\(underlying)" }
        return "\(error.code)"
    }

    // MARK: Migrations

    /// The schema's history, by the same names as SQLite's migrations (never edited once shipped).
    static let migrations: [(String, String)] = [
        (
            "v1",
            """
            CREATE TABLE customer (
              id TEXT PRIMARY KEY NOT NULL,
              name TEXT,
              email TEXT,
              phone TEXT,
              birth_date TEXT,
              birth_month_day TEXT,
              birth_year BIGINT,
              timezone TEXT,
              signed_up_at BIGINT NOT NULL,
              email_opt_in BOOLEAN NOT NULL DEFAULT false,
              sms_opt_in BOOLEAN NOT NULL DEFAULT false,
              push_opt_in BOOLEAN NOT NULL DEFAULT false,
              push_token TEXT,
              wallet_pass_id TEXT,
              tags TEXT NOT NULL DEFAULT '[]',
              attributes TEXT NOT NULL DEFAULT '{}',
              last_visit_at BIGINT,
              visits_total BIGINT NOT NULL DEFAULT 0,
              lifetime_value_cents BIGINT NOT NULL DEFAULT 0,
              last_activity_at BIGINT NOT NULL
            );
            CREATE INDEX customer_on_signed_up_at ON customer(signed_up_at);
            CREATE TABLE visit (
              customer_id TEXT NOT NULL REFERENCES customer(id) ON DELETE CASCADE,
              visited_at BIGINT NOT NULL,
              amount_cents BIGINT,
              PRIMARY KEY (customer_id, visited_at)
            );
            CREATE TABLE offer (
              id TEXT PRIMARY KEY NOT NULL,
              name TEXT,
              stamps_required BIGINT NOT NULL CHECK (stamps_required > 0)
            );
            CREATE TABLE progress (
              customer_id TEXT NOT NULL REFERENCES customer(id) ON DELETE CASCADE,
              offer_id TEXT NOT NULL REFERENCES offer(id) ON DELETE CASCADE,
              stamps BIGINT NOT NULL,
              rewards_earned BIGINT NOT NULL DEFAULT 0,
              updated_at BIGINT NOT NULL,
              PRIMARY KEY (customer_id, offer_id)
            );
            CREATE INDEX progress_on_updated_at ON progress(updated_at);
            CREATE TABLE ledger (
              workflow_id TEXT NOT NULL,
              customer_id TEXT NOT NULL,
              occurrence TEXT NOT NULL,
              committed_at BIGINT NOT NULL,
              PRIMARY KEY (workflow_id, customer_id, occurrence)
            );
            """
        ),
        (
            "v2-outbox",
            """
            CREATE TABLE outbox (
              id TEXT PRIMARY KEY NOT NULL,
              workflow_id TEXT NOT NULL,
              customer_id TEXT NOT NULL,
              occurrence TEXT NOT NULL,
              action_index BIGINT NOT NULL,
              channel TEXT,
              recipient TEXT,
              template TEXT NOT NULL,
              heading_key TEXT,
              heading TEXT,
              body TEXT,
              due_at BIGINT NOT NULL,
              created_at BIGINT NOT NULL,
              status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed', 'suppressed')),
              reason TEXT,
              attempts BIGINT NOT NULL DEFAULT 0,
              next_attempt_at BIGINT NOT NULL,
              lease_owner TEXT,
              lease_expires_at BIGINT,
              delivered_at BIGINT,
              provider_message_id TEXT,
              UNIQUE (workflow_id, customer_id, occurrence, action_index)
            );
            CREATE INDEX outbox_on_pending ON outbox(next_attempt_at) WHERE status = 'pending';
            CREATE INDEX outbox_on_customer ON outbox(customer_id, created_at);
            CREATE TABLE delivery_attempt (
              outbox_id TEXT NOT NULL REFERENCES outbox(id) ON DELETE CASCADE,
              attempt BIGINT NOT NULL,
              at BIGINT NOT NULL,
              outcome TEXT NOT NULL,
              detail TEXT,
              PRIMARY KEY (outbox_id, attempt)
            );
            """
        ),
        (
            "v3-zone-indexes",
            // The zones in use are kept by the importer (PostgreSQL has no cheap per-row trigger for bulk upserts).
            """
            CREATE TABLE customer_zone (timezone TEXT PRIMARY KEY NOT NULL);
            INSERT INTO customer_zone SELECT DISTINCT coalesce(timezone, '') FROM customer ON CONFLICT DO NOTHING;
            CREATE INDEX customer_on_zone_birthday ON customer(timezone, birth_month_day);
            CREATE INDEX customer_on_zone_last_activity ON customer(timezone, last_activity_at);
            """
        ),
        ("v4-zone-triggers", "SELECT 1"),
        (
            "v5-delivery-events",
            """
            CREATE TABLE delivery_event (
              provider TEXT NOT NULL,
              event_id TEXT NOT NULL,
              outbox_id TEXT,
              customer_id TEXT,
              channel TEXT,
              kind TEXT NOT NULL,
              at BIGINT NOT NULL,
              received_at BIGINT NOT NULL,
              detail TEXT,
              PRIMARY KEY (provider, event_id)
            );
            CREATE INDEX delivery_event_on_customer ON delivery_event(customer_id, at);
            CREATE INDEX delivery_event_on_outbox ON delivery_event(outbox_id);
            CREATE TABLE consent_change (
              id BIGSERIAL PRIMARY KEY,
              customer_id TEXT NOT NULL,
              channel TEXT NOT NULL,
              opt_in BOOLEAN NOT NULL,
              reason TEXT NOT NULL,
              at BIGINT NOT NULL
            );
            CREATE INDEX consent_change_on_customer ON consent_change(customer_id, at);
            CREATE INDEX customer_on_phone ON customer(phone);
            """
        ),
        ("v6-outbox-text", "ALTER TABLE outbox ADD COLUMN text_body TEXT"),
        (
            "v7-byte-order",
            // Text compares byte by byte, as SQLite's does, whatever the database's default collation: ids, workflow
            // names and statuses sort the same on both stores (under en_US or ICU "B1" would sort after "a1"), and
            // the btree indexes on text keys compare with memcmp, which imports feel.
            """
            ALTER TABLE customer ALTER COLUMN id TYPE TEXT COLLATE "C", ALTER COLUMN name TYPE TEXT COLLATE "C", ALTER COLUMN email TYPE TEXT COLLATE "C", ALTER COLUMN phone TYPE TEXT COLLATE "C", ALTER COLUMN birth_date TYPE TEXT COLLATE "C", ALTER COLUMN birth_month_day TYPE TEXT COLLATE "C", ALTER COLUMN timezone TYPE TEXT COLLATE "C", ALTER COLUMN push_token TYPE TEXT COLLATE "C", ALTER COLUMN wallet_pass_id TYPE TEXT COLLATE "C", ALTER COLUMN tags TYPE TEXT COLLATE "C", ALTER COLUMN attributes TYPE TEXT COLLATE "C";
            ALTER TABLE visit ALTER COLUMN customer_id TYPE TEXT COLLATE "C";
            ALTER TABLE offer ALTER COLUMN id TYPE TEXT COLLATE "C", ALTER COLUMN name TYPE TEXT COLLATE "C";
            ALTER TABLE progress ALTER COLUMN customer_id TYPE TEXT COLLATE "C", ALTER COLUMN offer_id TYPE TEXT COLLATE "C";
            ALTER TABLE ledger ALTER COLUMN workflow_id TYPE TEXT COLLATE "C", ALTER COLUMN customer_id TYPE TEXT COLLATE "C", ALTER COLUMN occurrence TYPE TEXT COLLATE "C";
            ALTER TABLE outbox ALTER COLUMN id TYPE TEXT COLLATE "C", ALTER COLUMN workflow_id TYPE TEXT COLLATE "C", ALTER COLUMN customer_id TYPE TEXT COLLATE "C", ALTER COLUMN occurrence TYPE TEXT COLLATE "C", ALTER COLUMN channel TYPE TEXT COLLATE "C", ALTER COLUMN recipient TYPE TEXT COLLATE "C", ALTER COLUMN template TYPE TEXT COLLATE "C", ALTER COLUMN heading_key TYPE TEXT COLLATE "C", ALTER COLUMN heading TYPE TEXT COLLATE "C", ALTER COLUMN body TYPE TEXT COLLATE "C", ALTER COLUMN status TYPE TEXT COLLATE "C", ALTER COLUMN reason TYPE TEXT COLLATE "C", ALTER COLUMN lease_owner TYPE TEXT COLLATE "C", ALTER COLUMN provider_message_id TYPE TEXT COLLATE "C", ALTER COLUMN text_body TYPE TEXT COLLATE "C";
            ALTER TABLE delivery_attempt ALTER COLUMN outbox_id TYPE TEXT COLLATE "C", ALTER COLUMN outcome TYPE TEXT COLLATE "C", ALTER COLUMN detail TYPE TEXT COLLATE "C";
            ALTER TABLE customer_zone ALTER COLUMN timezone TYPE TEXT COLLATE "C";
            ALTER TABLE delivery_event ALTER COLUMN provider TYPE TEXT COLLATE "C", ALTER COLUMN event_id TYPE TEXT COLLATE "C", ALTER COLUMN outbox_id TYPE TEXT COLLATE "C", ALTER COLUMN customer_id TYPE TEXT COLLATE "C", ALTER COLUMN channel TYPE TEXT COLLATE "C", ALTER COLUMN kind TYPE TEXT COLLATE "C", ALTER COLUMN detail TYPE TEXT COLLATE "C";
            ALTER TABLE consent_change ALTER COLUMN customer_id TYPE TEXT COLLATE "C", ALTER COLUMN channel TYPE TEXT COLLATE "C", ALTER COLUMN reason TYPE TEXT COLLATE "C";
            """
        ),
        (
            "v8-customer-activity",
            // The visit-derived fields move to a table of their own, holding a row only for customers with visits
            // (with a copy of their zone for the inactivity index): a visits import then writes those narrow rows,
            // where it rewrote every customer row it named and, for a large file, rebuilt the customer table's
            // indexes. A customer without visits was last active at sign-up: found by zone and sign-up, the index
            // that also serves the sign-ups scan (zone by zone), in place of the one on sign-up alone.
            // `customer_state` shows each customer with the fields as SQLite stores them, each looked up by its
            // key (OFFSET 0 keeps the lookup from becoming a join, which without fresh statistics PostgreSQL made a
            // hash join reading all the activity rows for a few hundred customers).
            """
            CREATE TABLE customer_activity (
              customer_id TEXT COLLATE "C" PRIMARY KEY NOT NULL REFERENCES customer(id) ON DELETE CASCADE,
              timezone TEXT COLLATE "C",
              last_visit_at BIGINT NOT NULL,
              visits_total BIGINT NOT NULL,
              lifetime_value_cents BIGINT NOT NULL,
              last_activity_at BIGINT NOT NULL
            );
            INSERT INTO customer_activity
              SELECT id, timezone, last_visit_at, visits_total, lifetime_value_cents, last_activity_at FROM customer
              WHERE last_visit_at IS NOT NULL;
            CREATE INDEX customer_activity_on_zone_last_activity ON customer_activity(timezone, last_activity_at);
            DROP INDEX customer_on_zone_last_activity;
            CREATE INDEX customer_on_zone_signed_up_at ON customer(timezone, signed_up_at);
            DROP INDEX customer_on_signed_up_at;
            ALTER TABLE customer DROP COLUMN last_visit_at, DROP COLUMN visits_total, DROP COLUMN lifetime_value_cents,
              DROP COLUMN last_activity_at;
            CREATE VIEW customer_state AS
              SELECT c.id, c.name, c.email, c.phone, c.birth_date, c.birth_month_day, c.birth_year, c.timezone,
                c.signed_up_at, c.email_opt_in, c.sms_opt_in, c.push_opt_in, c.push_token, c.wallet_pass_id, c.tags,
                c.attributes, a.last_visit_at, coalesce(a.visits_total, 0) AS visits_total,
                coalesce(a.lifetime_value_cents, 0) AS lifetime_value_cents,
                coalesce(a.last_activity_at, c.signed_up_at) AS last_activity_at
              FROM customer c
              LEFT JOIN LATERAL (SELECT * FROM customer_activity a WHERE a.customer_id = c.id OFFSET 0) a ON true
            """
        ),
        (
            "v9-segment-entry",
            // Who is in each segment a `segment: { enter: }` trigger watches, and since which local date.
            """
            CREATE TABLE segment_entry (
              segment TEXT COLLATE "C" NOT NULL,
              customer_id TEXT COLLATE "C" NOT NULL REFERENCES customer(id) ON DELETE CASCADE,
              entered_on TEXT NOT NULL,
              PRIMARY KEY (segment, customer_id)
            )
            """
        ),
        (
            "v10-model-fit",
            // Fits of the customer model (BG/NBD and Gamma-Gamma); the latest is the one used.
            """
            CREATE TABLE model_fit (
              id BIGSERIAL PRIMARY KEY,
              fitted_at BIGINT NOT NULL,
              customers BIGINT NOT NULL,
              repeat_customers BIGINT NOT NULL,
              r DOUBLE PRECISION NOT NULL, alpha DOUBLE PRECISION NOT NULL, a DOUBLE PRECISION NOT NULL,
              b DOUBLE PRECISION NOT NULL, bgnbd_log_likelihood DOUBLE PRECISION NOT NULL,
              p DOUBLE PRECISION, q DOUBLE PRECISION, v DOUBLE PRECISION, gamma_gamma_log_likelihood DOUBLE PRECISION,
              details TEXT NOT NULL
            )
            """
        ),
        (
            "v11-erasure",
            // The customers erased (`nudge customers erase`), each by the keyed hash that stands for its id in the
            // ledger, the outbox and the event log, with a check value of the key used.
            """
            CREATE TABLE erasure (
              pseudonym TEXT COLLATE "C" PRIMARY KEY NOT NULL,
              erased_at BIGINT NOT NULL,
              key_check TEXT COLLATE "C" NOT NULL
            )
            """
        ),
        (
            "v12-erasure-key",
            // The erasure key made for this database when the environment gives none.
            """
            CREATE TABLE erasure_key (
              id BIGINT PRIMARY KEY CHECK (id = 1),
              secret TEXT NOT NULL
            )
            """
        ),
        (
            "v13-offer-publishing",
            // When an offer is published and its category, for the new_offer trigger.
            """
            ALTER TABLE offer ADD COLUMN published_at BIGINT;
            ALTER TABLE offer ADD COLUMN category TEXT COLLATE "C";
            CREATE INDEX offer_on_published_at ON offer(published_at) WHERE published_at IS NOT NULL;
            """
        ),
        (
            "v14-split-and-policy",
            // The variant of a workflow's A/B split each customer got, in the ledger and on each message; each
            // message's category, which frequency caps count; when each occurrence fell due.
            """
            ALTER TABLE ledger ADD COLUMN due_at BIGINT;
            ALTER TABLE ledger ADD COLUMN step BIGINT NOT NULL DEFAULT 0;
            ALTER TABLE ledger ADD COLUMN variant TEXT COLLATE "C";
            ALTER TABLE outbox ADD COLUMN variant TEXT COLLATE "C";
            ALTER TABLE outbox ADD COLUMN category TEXT COLLATE "C";
            ALTER TABLE outbox ADD COLUMN step BIGINT NOT NULL DEFAULT 0;
            CREATE INDEX ledger_on_step ON ledger(workflow_id, step, due_at);
            """
        ),
        (
            "v15-platforms",
            // Each customer's push and wallet platform, and the platform each message was planned for: which
            // provider delivers it when each platform has its own. The view shows them after the fields it had.
            // `wallet_sync`: the stamps each wallet pass was last set to show.
            """
            ALTER TABLE customer ADD COLUMN push_platform TEXT COLLATE "C";
            ALTER TABLE customer ADD COLUMN wallet_platform TEXT COLLATE "C";
            ALTER TABLE outbox ADD COLUMN platform TEXT COLLATE "C";
            CREATE TABLE wallet_sync (
              pass_id TEXT COLLATE "C" PRIMARY KEY NOT NULL,
              customer_id TEXT COLLATE "C" NOT NULL REFERENCES customer(id) ON DELETE CASCADE,
              label TEXT COLLATE "C" NOT NULL,
              stamps BIGINT NOT NULL,
              synced_at BIGINT NOT NULL
            );
            CREATE INDEX wallet_sync_on_customer ON wallet_sync(customer_id);
            CREATE OR REPLACE VIEW customer_state AS
              SELECT c.id, c.name, c.email, c.phone, c.birth_date, c.birth_month_day, c.birth_year, c.timezone,
                c.signed_up_at, c.email_opt_in, c.sms_opt_in, c.push_opt_in, c.push_token, c.wallet_pass_id, c.tags,
                c.attributes, a.last_visit_at, coalesce(a.visits_total, 0) AS visits_total,
                coalesce(a.lifetime_value_cents, 0) AS lifetime_value_cents,
                coalesce(a.last_activity_at, c.signed_up_at) AS last_activity_at, c.push_platform, c.wallet_platform
              FROM customer c
              LEFT JOIN LATERAL (SELECT * FROM customer_activity a WHERE a.customer_id = c.id OFFSET 0) a ON true
            """
        ),
        (
            "v16-passes",
            // The PassKit web service: the devices registered for each Apple Wallet pass, and each pass's latest
            // change with its update tag (drawn from a sequence, so that concurrent changes never share one).
            """
            CREATE TABLE pass_registration (
              device_id TEXT COLLATE "C" NOT NULL,
              pass_type_id TEXT COLLATE "C" NOT NULL,
              serial TEXT COLLATE "C" NOT NULL,
              customer_id TEXT COLLATE "C" NOT NULL REFERENCES customer(id) ON DELETE CASCADE,
              push_token TEXT COLLATE "C" NOT NULL,
              registered_at BIGINT NOT NULL,
              unregistered_at BIGINT,
              PRIMARY KEY (device_id, pass_type_id, serial)
            );
            CREATE INDEX pass_registration_on_pass ON pass_registration(pass_type_id, serial);
            CREATE INDEX pass_registration_on_customer ON pass_registration(customer_id);
            CREATE SEQUENCE pass_update_tag;
            CREATE TABLE pass_update (
              pass_type_id TEXT COLLATE "C" NOT NULL,
              serial TEXT COLLATE "C" NOT NULL,
              customer_id TEXT COLLATE "C" NOT NULL REFERENCES customer(id) ON DELETE CASCADE,
              tag BIGINT NOT NULL,
              updated_at BIGINT NOT NULL,
              outbox_id TEXT COLLATE "C",
              header TEXT,
              body TEXT,
              PRIMARY KEY (pass_type_id, serial)
            );
            CREATE INDEX pass_update_on_customer ON pass_update(customer_id);
            CREATE INDEX customer_on_wallet_pass ON customer(wallet_pass_id) WHERE wallet_pass_id IS NOT NULL;
            """
        ),
    ]

    /// Applies the migrations not yet recorded, one transaction each, under an advisory lock (several runners may
    /// start at once).
    func migrate() async throws {
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.migrationLock))", logger: logger)
            try await connection.query(
                "CREATE TABLE IF NOT EXISTS nudge_migrations (identifier TEXT PRIMARY KEY NOT NULL)", logger: logger)
            var applied = Set<String>()
            for try await name in try await connection.query("SELECT identifier FROM nudge_migrations", logger: logger)
                .decode(String.self)
            {
                applied.insert(name)
            }
            for (name, sql) in Self.migrations where !applied.contains(name) {
                try await connection.execute(script: sql, logger: logger)
                try await connection.query("INSERT INTO nudge_migrations (identifier) VALUES (\(name))", logger: logger)
            }
        }
    }

    static let migrationLock: Int64 = 0x6E75_6467_6501
    static let planningLock: Int64 = 0x6E75_6467_6502
}

extension PostgresConnection {
    /// Runs each statement of a `;`-separated script (no statement holds a `;` of its own).
    func execute(script: String, logger: Logger) async throws {
        for statement in script.split(separator: ";") where !statement.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            try await query(PostgresQuery(unsafeSQL: String(statement)), logger: logger)
        }
    }
}
