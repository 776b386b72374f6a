public import GRDB
import Foundation
import CSQLiteTuning

/// The customer store: one SQLite file (WAL) with versioned migrations.
public struct AppDatabase: Sendable {
    /// The connection (a pool for files, a queue in memory).
    public let writer: any DatabaseWriter

    /// SQLite's process-wide settings, made once before the first connection opens: memory statistics off, so that
    /// connections on different threads do not take turns on one mutex (see `CSQLiteTuning`). When SQLite already
    /// runs (a connection opened elsewhere first), nothing changes but speed.
    static let processSettings: Void = { _ = nudge_sqlite_disable_memory_statistics() }()

    /// Opens (creating if needed) the database at `path` and migrates it to the current schema.
    public static func open(path: String) throws -> AppDatabase {
        _ = processSettings
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        if !FileManager.default.fileExists(atPath: directory) {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        let pool = try DatabasePool(path: path, configuration: configuration)
        return try AppDatabase(pool)
    }

    /// Opens the existing database at `path` for a command that only reads it (`dry-run`, `status`, `history`,
    /// `send-test`): one connection that writes and syncs nothing. A pool would, on every open: it makes sure the
    /// WAL file is there by creating and dropping a table, and the checkpoint when it closes syncs that twice. A
    /// database whose schema is behind this version's is migrated first, as `open` migrates it.
    public static func openForReading(path: String) throws -> AppDatabase {
        _ = processSettings
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        guard try queue.read({ try migrator.hasCompletedMigrations($0) }) else {
            try queue.close()
            return try open(path: path)
        }
        return AppDatabase(migrated: queue)
    }

    /// A throwaway database file that another store checks imports in: one connection, no journal and no syncing
    /// (a crash loses nothing worth keeping), and a 64 MB page cache, so that a large file is mostly in memory
    /// while staying bounded.
    public static func scratch(path: String) throws -> AppDatabase {
        _ = processSettings
        var configuration = Configuration()
        // The importer looks customers and offers up itself (an unknown one is a bad row with its line); the
        // database the rows go to checks its own foreign keys. Here they would only slow the seeding down.
        configuration.foreignKeysEnabled = false
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -65536")
        }
        let database = try AppDatabase(DatabaseQueue(path: path, configuration: configuration))
        // The checks look rows up by key only: the planner's indexes and the zone triggers would only slow the
        // seeding and checking of a large file.
        try database.writer.write { db in
            let names = try String.fetchAll(
                db,
                sql: """
                    SELECT name FROM sqlite_master
                    WHERE (type = 'index' AND sql IS NOT NULL AND tbl_name IN ('customer', 'visit', 'progress'))
                      OR (type = 'trigger' AND tbl_name = 'customer')
                    """)
            for name in names {
                let isTrigger = name.hasPrefix("customer_zone_on_")
                try db.execute(sql: "DROP \(isTrigger ? "TRIGGER" : "INDEX") \(name)")
            }
        }
        return database
    }

    /// An in-memory database, for tests.
    public static func inMemory() throws -> AppDatabase {
        _ = processSettings
        return try AppDatabase(DatabaseQueue())
    }

    /// Wraps `writer` and runs the migrations.
    public init(_ writer: any DatabaseWriter) throws {
        self.writer = writer
        try Self.migrator.migrate(writer)
    }

    /// Wraps `writer`, whose schema is known to be current.
    private init(migrated writer: any DatabaseWriter) {
        self.writer = writer
    }

    /// The reader for queries.
    public var reader: any DatabaseReader { writer }

    /// The schema's history. Migrations are never edited once shipped.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE customer (
                      id TEXT PRIMARY KEY NOT NULL,
                      name TEXT,
                      email TEXT,
                      phone TEXT,
                      birth_date TEXT,
                      birth_month_day TEXT,
                      birth_year INTEGER,
                      timezone TEXT,
                      signed_up_at INTEGER NOT NULL,
                      email_opt_in INTEGER NOT NULL DEFAULT 0,
                      sms_opt_in INTEGER NOT NULL DEFAULT 0,
                      push_opt_in INTEGER NOT NULL DEFAULT 0,
                      push_token TEXT,
                      wallet_pass_id TEXT,
                      tags TEXT NOT NULL DEFAULT '[]',
                      attributes TEXT NOT NULL DEFAULT '{}',
                      last_visit_at INTEGER,
                      visits_total INTEGER NOT NULL DEFAULT 0,
                      lifetime_value_cents INTEGER NOT NULL DEFAULT 0,
                      last_activity_at INTEGER NOT NULL
                    );
                    CREATE INDEX customer_on_birth_month_day ON customer(birth_month_day);
                    CREATE INDEX customer_on_last_activity_at ON customer(last_activity_at);
                    CREATE INDEX customer_on_signed_up_at ON customer(signed_up_at);

                    CREATE TABLE visit (
                      customer_id TEXT NOT NULL REFERENCES customer(id) ON DELETE CASCADE,
                      visited_at INTEGER NOT NULL,
                      amount_cents INTEGER,
                      PRIMARY KEY (customer_id, visited_at)
                    ) WITHOUT ROWID;

                    CREATE TABLE offer (
                      id TEXT PRIMARY KEY NOT NULL,
                      name TEXT,
                      stamps_required INTEGER NOT NULL CHECK (stamps_required > 0)
                    );

                    CREATE TABLE progress (
                      customer_id TEXT NOT NULL REFERENCES customer(id) ON DELETE CASCADE,
                      offer_id TEXT NOT NULL REFERENCES offer(id) ON DELETE CASCADE,
                      stamps INTEGER NOT NULL,
                      rewards_earned INTEGER NOT NULL DEFAULT 0,
                      updated_at INTEGER NOT NULL,
                      PRIMARY KEY (customer_id, offer_id)
                    ) WITHOUT ROWID;
                    CREATE INDEX progress_on_updated_at ON progress(updated_at);

                    CREATE TABLE ledger (
                      workflow_id TEXT NOT NULL,
                      customer_id TEXT NOT NULL,
                      occurrence TEXT NOT NULL,
                      committed_at INTEGER NOT NULL,
                      PRIMARY KEY (workflow_id, customer_id, occurrence)
                    ) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("v2-outbox") { db in
            try db.execute(
                sql: """
                    CREATE TABLE outbox (
                      id TEXT PRIMARY KEY NOT NULL,
                      workflow_id TEXT NOT NULL,
                      customer_id TEXT NOT NULL,
                      occurrence TEXT NOT NULL,
                      action_index INTEGER NOT NULL,
                      channel TEXT,
                      recipient TEXT,
                      template TEXT NOT NULL,
                      heading_key TEXT,
                      heading TEXT,
                      body TEXT,
                      due_at INTEGER NOT NULL,
                      created_at INTEGER NOT NULL,
                      status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed', 'suppressed')),
                      reason TEXT,
                      attempts INTEGER NOT NULL DEFAULT 0,
                      next_attempt_at INTEGER NOT NULL,
                      lease_owner TEXT,
                      lease_expires_at INTEGER,
                      delivered_at INTEGER,
                      provider_message_id TEXT,
                      UNIQUE (workflow_id, customer_id, occurrence, action_index)
                    );
                    CREATE INDEX outbox_on_pending ON outbox(next_attempt_at) WHERE status = 'pending';
                    CREATE INDEX outbox_on_customer ON outbox(customer_id, created_at);

                    CREATE TABLE delivery_attempt (
                      outbox_id TEXT NOT NULL REFERENCES outbox(id) ON DELETE CASCADE,
                      attempt INTEGER NOT NULL,
                      at INTEGER NOT NULL,
                      outcome TEXT NOT NULL,
                      detail TEXT,
                      PRIMARY KEY (outbox_id, attempt)
                    ) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("v3-zone-indexes") { db in
            // Date-based triggers scan each time zone's exact local window, so their indexes lead with the zone,
            // and the few zones in use are kept in a small table.
            try db.execute(
                sql: """
                    CREATE TABLE customer_zone (timezone TEXT PRIMARY KEY NOT NULL) WITHOUT ROWID;
                    INSERT OR IGNORE INTO customer_zone SELECT DISTINCT coalesce(timezone, '') FROM customer;
                    CREATE TRIGGER customer_zone_on_insert AFTER INSERT ON customer BEGIN
                      INSERT OR IGNORE INTO customer_zone (timezone) VALUES (coalesce(NEW.timezone, ''));
                    END;
                    CREATE TRIGGER customer_zone_on_update AFTER UPDATE OF timezone ON customer BEGIN
                      INSERT OR IGNORE INTO customer_zone (timezone) VALUES (coalesce(NEW.timezone, ''));
                    END;
                    DROP INDEX customer_on_birth_month_day;
                    DROP INDEX customer_on_last_activity_at;
                    CREATE INDEX customer_on_zone_birthday ON customer(timezone, birth_month_day);
                    CREATE INDEX customer_on_zone_last_activity ON customer(timezone, last_activity_at);
                    """)
        }
        migrator.registerMigration("v4-zone-triggers") { db in
            // Inside an upsert's UPDATE branch SQLite applies the statement's conflict handling to trigger bodies,
            // so `INSERT OR IGNORE` there failed on a zone already listed; insert only when it is missing.
            try db.execute(
                sql: """
                    DROP TRIGGER customer_zone_on_insert;
                    DROP TRIGGER customer_zone_on_update;
                    CREATE TRIGGER customer_zone_on_insert AFTER INSERT ON customer
                    WHEN NOT EXISTS (SELECT 1 FROM customer_zone WHERE timezone = coalesce(NEW.timezone, '')) BEGIN
                      INSERT INTO customer_zone (timezone) VALUES (coalesce(NEW.timezone, ''));
                    END;
                    CREATE TRIGGER customer_zone_on_update AFTER UPDATE OF timezone ON customer
                    WHEN NOT EXISTS (SELECT 1 FROM customer_zone WHERE timezone = coalesce(NEW.timezone, '')) BEGIN
                      INSERT INTO customer_zone (timezone) VALUES (coalesce(NEW.timezone, ''));
                    END;
                    """)
        }
        migrator.registerMigration("v5-delivery-events") { db in
            // What providers report after delivery (webhooks received by `nudge serve`), deduplicated by the
            // provider's event id, and every consent change with its cause.
            try db.execute(
                sql: """
                    CREATE TABLE delivery_event (
                      provider TEXT NOT NULL,
                      event_id TEXT NOT NULL,
                      outbox_id TEXT,
                      customer_id TEXT,
                      channel TEXT,
                      kind TEXT NOT NULL,
                      at INTEGER NOT NULL,
                      received_at INTEGER NOT NULL,
                      detail TEXT,
                      PRIMARY KEY (provider, event_id)
                    ) WITHOUT ROWID;
                    CREATE INDEX delivery_event_on_customer ON delivery_event(customer_id, at);
                    CREATE INDEX delivery_event_on_outbox ON delivery_event(outbox_id);

                    CREATE TABLE consent_change (
                      id INTEGER PRIMARY KEY,
                      customer_id TEXT NOT NULL,
                      channel TEXT NOT NULL,
                      opt_in INTEGER NOT NULL,
                      reason TEXT NOT NULL,
                      at INTEGER NOT NULL
                    );
                    CREATE INDEX consent_change_on_customer ON consent_change(customer_id, at);
                    CREATE INDEX customer_on_phone ON customer(phone);
                    """)
        }
        migrator.registerMigration("v6-outbox-text") { db in
            // An email's plain-text part when the project has a text template (else it is derived from the HTML).
            try db.execute(sql: "ALTER TABLE outbox ADD COLUMN text_body TEXT")
        }
        // PostgreSQL's text columns are made to compare by bytes here; SQLite's always do (BINARY).
        migrator.registerMigration("v7-byte-order") { _ in }
        // PostgreSQL keeps the visit-derived fields in a table of their own, so that a visits import writes narrow
        // rows instead of every customer row and its indexes; here they stay in the customer row.
        migrator.registerMigration("v8-customer-activity") { _ in }
        migrator.registerMigration("v9-segment-entry") { db in
            // Who is in each segment a `segment: { enter: }` trigger watches, and since which local date.
            try db.execute(
                sql: """
                    CREATE TABLE segment_entry (
                      segment TEXT NOT NULL,
                      customer_id TEXT NOT NULL REFERENCES customer(id) ON DELETE CASCADE,
                      entered_on TEXT NOT NULL,
                      PRIMARY KEY (segment, customer_id)
                    ) WITHOUT ROWID
                    """)
        }
        migrator.registerMigration("v10-model-fit") { db in
            // Fits of the customer model (BG/NBD and Gamma-Gamma); the latest is the one used.
            try db.execute(
                sql: """
                    CREATE TABLE model_fit (
                      id INTEGER PRIMARY KEY,
                      fitted_at INTEGER NOT NULL,
                      customers INTEGER NOT NULL,
                      repeat_customers INTEGER NOT NULL,
                      r REAL NOT NULL, alpha REAL NOT NULL, a REAL NOT NULL, b REAL NOT NULL,
                      bgnbd_log_likelihood REAL NOT NULL,
                      p REAL, q REAL, v REAL, gamma_gamma_log_likelihood REAL,
                      details TEXT NOT NULL
                    )
                    """)
        }
        migrator.registerMigration("v11-erasure", foreignKeyChecks: .immediate) { db in
            // The customers erased (`nudge customers erase`), each by the keyed hash that stands for its id in the
            // ledger, the outbox and the event log, with a check value of the key used. New tables without foreign
            // keys are checked immediately, so that opening a large database does not check every visit's key after.
            try db.execute(
                sql: """
                    CREATE TABLE erasure (
                      pseudonym TEXT PRIMARY KEY NOT NULL,
                      erased_at INTEGER NOT NULL,
                      key_check TEXT NOT NULL
                    ) WITHOUT ROWID
                    """)
        }
        migrator.registerMigration("v12-erasure-key", foreignKeyChecks: .immediate) { db in
            // The erasure key made for this database when the environment gives none.
            try db.execute(
                sql: """
                    CREATE TABLE erasure_key (
                      id INTEGER PRIMARY KEY CHECK (id = 1),
                      secret TEXT NOT NULL
                    )
                    """)
        }
        migrator.registerMigration("v13-offer-publishing", foreignKeyChecks: .immediate) { db in
            // When an offer is published and its category, for the new_offer trigger: offers published in a run's
            // window are found by the partial index (most offers are never announced).
            try db.execute(
                sql: """
                    ALTER TABLE offer ADD COLUMN published_at INTEGER;
                    ALTER TABLE offer ADD COLUMN category TEXT;
                    CREATE INDEX offer_on_published_at ON offer(published_at) WHERE published_at IS NOT NULL;
                    """)
        }
        migrator.registerMigration("v14-split-and-policy", foreignKeyChecks: .immediate) { db in
            // The variant of a workflow's A/B split each customer got, in the ledger (the assignment, holdouts too)
            // and on each message; and each message's category, which frequency caps count (marketing; NULL
            // before this version, counted as marketing). The ledger also keeps when each occurrence fell due and
            // its step in the journey, from which (by the index) the journey's next step is found.
            try db.execute(
                sql: """
                    ALTER TABLE ledger ADD COLUMN due_at INTEGER;
                    ALTER TABLE ledger ADD COLUMN step INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE ledger ADD COLUMN variant TEXT;
                    ALTER TABLE outbox ADD COLUMN variant TEXT;
                    ALTER TABLE outbox ADD COLUMN category TEXT;
                    ALTER TABLE outbox ADD COLUMN step INTEGER NOT NULL DEFAULT 0;
                    CREATE INDEX ledger_on_step ON ledger(workflow_id, step, due_at);
                    """)
        }
        migrator.registerMigration("v15-platforms", foreignKeyChecks: .immediate) { db in
            // Each customer's push and wallet platform (`push_platform`, `wallet_platform` of the customers CSV),
            // and the platform each message was planned for: which provider delivers it when each platform has
            // its own. `wallet_sync`: the stamps (and card name) each wallet pass was last set to show, so that a
            // run updates only the passes whose stamps changed since.
            try db.execute(
                sql: """
                    ALTER TABLE customer ADD COLUMN push_platform TEXT;
                    ALTER TABLE customer ADD COLUMN wallet_platform TEXT;
                    ALTER TABLE outbox ADD COLUMN platform TEXT;
                    CREATE TABLE wallet_sync (
                      pass_id TEXT PRIMARY KEY NOT NULL,
                      customer_id TEXT NOT NULL REFERENCES customer(id) ON DELETE CASCADE,
                      label TEXT NOT NULL,
                      stamps INTEGER NOT NULL,
                      synced_at INTEGER NOT NULL
                    );
                    CREATE INDEX wallet_sync_on_customer ON wallet_sync(customer_id);
                    """)
        }
        migrator.registerMigration("v16-passes", foreignKeyChecks: .immediate) { db in
            // The PassKit web service (`nudge serve`): the devices registered for each Apple Wallet pass (ended
            // registrations are kept, with when, for `nudge history`), and each pass's latest change with its update
            // tag, which moves forward across all passes each time one changes. Passes are found by serial.
            try db.execute(
                sql: """
                    CREATE TABLE pass_registration (
                      device_id TEXT NOT NULL,
                      pass_type_id TEXT NOT NULL,
                      serial TEXT NOT NULL,
                      customer_id TEXT NOT NULL REFERENCES customer(id) ON DELETE CASCADE,
                      push_token TEXT NOT NULL,
                      registered_at INTEGER NOT NULL,
                      unregistered_at INTEGER,
                      PRIMARY KEY (device_id, pass_type_id, serial)
                    );
                    CREATE INDEX pass_registration_on_pass ON pass_registration(pass_type_id, serial);
                    CREATE INDEX pass_registration_on_customer ON pass_registration(customer_id);
                    CREATE TABLE pass_update (
                      pass_type_id TEXT NOT NULL,
                      serial TEXT NOT NULL,
                      customer_id TEXT NOT NULL REFERENCES customer(id) ON DELETE CASCADE,
                      tag INTEGER NOT NULL,
                      updated_at INTEGER NOT NULL,
                      outbox_id TEXT,
                      header TEXT,
                      body TEXT,
                      PRIMARY KEY (pass_type_id, serial)
                    );
                    CREATE INDEX pass_update_on_customer ON pass_update(customer_id);
                    CREATE INDEX customer_on_wallet_pass ON customer(wallet_pass_id) WHERE wallet_pass_id IS NOT NULL;
                    """)
        }
        return migrator
    }
}

extension AppDatabase {
    /// Recomputes the visit-derived fields (visits_total, last_visit_at, lifetime_value_cents, last_activity_at) of
    /// every customer with visits, or only of those in `touched_customer`, in one grouped pass over `visit`.
    static func refreshVisitTotals(_ db: Database, onlyTouched: Bool) throws {
        let filter = onlyTouched ? "WHERE customer_id IN (SELECT id FROM touched_customer) " : ""
        try db.execute(
            sql: """
                UPDATE customer SET
                  visits_total = v.n,
                  last_visit_at = v.last,
                  lifetime_value_cents = v.total,
                  last_activity_at = max(customer.signed_up_at, coalesce(v.last, customer.signed_up_at))
                FROM (
                  SELECT customer_id, count(*) AS n, max(visited_at) AS last, coalesce(sum(amount_cents), 0) AS total
                  FROM visit \(filter)GROUP BY customer_id) AS v
                WHERE customer.id = v.customer_id
                """)
    }
}

