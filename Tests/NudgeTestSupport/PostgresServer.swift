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

    /// A fresh, empty database on the server, dropped by `drop`.
    /// `options` go to CREATE DATABASE (a collation, say).
    public static func freshDatabase(options: String = "") async throws -> DatabaseURL {
        guard let text = url else { throw Unavailable() }
        let base = try DatabaseURL(parsing: text)
        let name = "nudge_test_" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        let admin = try await PostgresStore.connect(
            base, password: environment["PGPASSWORD"], logger: logger, maximumConnections: 1)
        try await admin.client.query("CREATE DATABASE \(unescaped: name) \(unescaped: options)")
        await admin.close()
        var fresh = base
        fresh.database = name
        return fresh
    }

    /// A store on a fresh database.
    public static func freshStore(options: String = "") async throws -> (PostgresStore, DatabaseURL) {
        let url = try await freshDatabase(options: options)
        // Few connections each: the suites run in parallel, each test on its own database.
        let store = try await PostgresStore.connect(
            url, password: environment["PGPASSWORD"], logger: logger, maximumConnections: 3)
        return (store, url)
    }

    /// Drops a database made by `freshDatabase`.
    public static func drop(_ url: DatabaseURL) async throws {
        var base = url
        guard let text = self.url else { throw Unavailable() }
        base.database = try DatabaseURL(parsing: text).database
        let admin = try await PostgresStore.connect(
            base, password: environment["PGPASSWORD"], logger: logger, maximumConnections: 1)
        try await admin.client.query("DROP DATABASE IF EXISTS \(unescaped: url.database) WITH (FORCE)")
        await admin.close()
    }

    /// NUDGE_REQUIRE_POSTGRES=1 without a server to use.
    public struct Unavailable: Error, CustomStringConvertible {
        public var description: String { "NUDGE_REQUIRE_POSTGRES=1 but NUDGE_TEST_POSTGRES_URL is not set" }
    }
}
