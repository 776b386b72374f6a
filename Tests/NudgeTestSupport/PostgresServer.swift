import Foundation
public import Logging
public import NudgeLanguage
public import NudgePostgres
import PostgresNIO

/// The PostgreSQL server of the tests: `NUDGE_TEST_POSTGRES_URL` (set by `.ci/run`, which starts a throwaway
/// cluster). Without it the tests are skipped with a printed reason, unless `NUDGE_REQUIRE_POSTGRES=1` makes that
/// a failure (CI).
public enum PostgresServer {
    public static let environment = ProcessInfo.processInfo.environment

    public static var url: String? { environment["NUDGE_TEST_POSTGRES_URL"] }

    public static var isRequired: Bool { environment["NUDGE_REQUIRE_POSTGRES"] == "1" }

    /// Whether the PostgreSQL tests run here; prints why not.
    public static var isAvailable: Bool {
        if url != nil { return true }
        if isRequired { return true }  // the test then fails on the missing URL
        print("skipped: PostgreSQL tests need NUDGE_TEST_POSTGRES_URL (see .ci/postgres); set NUDGE_REQUIRE_POSTGRES=1 to fail instead")
        return false
    }

    public static let logger: Logger = {
        var logger = Logger(label: "nudge.postgres.tests")
        logger.logLevel = .critical
        return logger
    }()

    /// Whether the suites named by `suites` also run on PostgreSQL (a server is set, or required); says once
    /// why not, e.g. "engine tests plan on SQLite only".
    public static func isUsed(_ suites: String) -> Bool {
        if url != nil || isRequired { return true }
        print("\(suites) on SQLite only: set NUDGE_TEST_POSTGRES_URL (see .ci/postgres) to include PostgreSQL")
        return false
    }

    /// A fresh, empty database on the server, dropped by `drop`. `options` go to CREATE DATABASE (a collation, say).
    public static func freshDatabase(options: String = "") async throws -> DatabaseURL {
        guard let text = url else { throw Unavailable() }
        var fresh = try DatabaseURL(parsing: text)
        fresh.database = "nudge_test_" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        try await administer(
            "CREATE DATABASE \(fresh.database) \(options)")
        return fresh
    }

    /// Runs `sql` on the server's own database, on a connection of its own (not a store: the server's database is
    /// not migrated, and no pool is made for one statement).
    private static func administer(_ sql: String) async throws {
        guard let text = url else { throw Unavailable() }
        let server = try DatabaseURL(parsing: text)
        guard server.tls != .require else {
            // TLS or nothing: through a store, which knows how to connect so (and migrates the server's database).
            let admin = try await PostgresStore.connect(
                server, password: environment["PGPASSWORD"], logger: logger, maximumConnections: 1)
            do {
                try await admin.client.query(PostgresQuery(unsafeSQL: sql))
            } catch {
                await admin.close()
                throw error
            }
            return await admin.close()
        }
        var configuration = PostgresConnection.Configuration(
            host: server.host, port: server.port, username: server.user, password: environment["PGPASSWORD"],
            database: server.database, tls: .disable)
        configuration.options.connectTimeout = .seconds(10)
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
        do {
            try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
        } catch {
            try? await connection.close()
            throw error
        }
        try await connection.close()
    }

    /// A store on a fresh database.
    public static func freshStore(
        options: String = "", bulkLoad: PostgresStore.BulkLoad = .init(), logger: Logger = PostgresServer.logger
    ) async throws -> (PostgresStore, DatabaseURL) {
        let url = try await freshDatabase(options: options)
        // Few connections each: the suites run in parallel, each test on its own database.
        let store = try await PostgresStore.connect(
            url, password: environment["PGPASSWORD"], logger: logger, maximumConnections: 3, bulkLoad: bulkLoad)
        return (store, url)
    }

    /// Drops a database made by `freshDatabase`.
    public static func drop(_ url: DatabaseURL) async throws {
        try await administer("DROP DATABASE IF EXISTS \(url.database) WITH (FORCE)")
    }

    /// Closes `store` and drops its database in the background: what a fixture's `deinit` does.
    public static func dispose(_ store: PostgresStore, _ url: DatabaseURL) {
        Task {
            await store.close()
            try? await drop(url)
        }
    }

    /// NUDGE_REQUIRE_POSTGRES=1 without a server to use.
    public struct Unavailable: Error, CustomStringConvertible {
        public var description: String { "NUDGE_REQUIRE_POSTGRES=1 but NUDGE_TEST_POSTGRES_URL is not set" }
    }
}
