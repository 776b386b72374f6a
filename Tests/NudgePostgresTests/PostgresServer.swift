import Foundation
import Logging
import NudgeLanguage
import NudgePostgres
import PostgresNIO
import Testing

/// The PostgreSQL server of the tests: `NUDGE_TEST_POSTGRES_URL` (set by `.ci/run`, which starts a throwaway
/// cluster). Without it the tests are skipped with a printed reason, unless `NUDGE_REQUIRE_POSTGRES=1` makes that
/// a failure (CI).
enum PostgresServer {
    static let environment = ProcessInfo.processInfo.environment

    static var url: String? { environment["NUDGE_TEST_POSTGRES_URL"] }

    static var isRequired: Bool { environment["NUDGE_REQUIRE_POSTGRES"] == "1" }

    /// Whether the PostgreSQL tests run here; prints why not.
    static var isAvailable: Bool {
        if url != nil { return true }
        if isRequired { return true }  // the test then fails on the missing URL
        print("skipped: PostgreSQL tests need NUDGE_TEST_POSTGRES_URL (see .ci/postgres); set NUDGE_REQUIRE_POSTGRES=1 to fail instead")
        return false
    }

    static let logger: Logger = {
        var logger = Logger(label: "nudge.postgres.tests")
        logger.logLevel = .critical
        return logger
    }()

    /// A fresh, empty database on the server, dropped by `drop`.
    /// `options` go to CREATE DATABASE (a collation, say).
    static func freshDatabase(options: String = "") async throws -> DatabaseURL {
        let text = try #require(url, "NUDGE_REQUIRE_POSTGRES=1 but NUDGE_TEST_POSTGRES_URL is not set")
        let base = try DatabaseURL(parsing: text)
        let name = "nudge_test_" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        let admin = try await PostgresStore.connect(base, password: environment["PGPASSWORD"], logger: logger)
        try await admin.client.query("CREATE DATABASE \(unescaped: name) \(unescaped: options)")
        await admin.close()
        var fresh = base
        fresh.database = name
        return fresh
    }

    /// A store on a fresh database.
    static func freshStore(options: String = "") async throws -> (PostgresStore, DatabaseURL) {
        let url = try await freshDatabase(options: options)
        return (try await PostgresStore.connect(url, password: environment["PGPASSWORD"], logger: logger), url)
    }

    /// Drops a database made by `freshDatabase`.
    static func drop(_ url: DatabaseURL) async throws {
        var base = url
        base.database = try DatabaseURL(parsing: try #require(self.url)).database
        let admin = try await PostgresStore.connect(base, password: environment["PGPASSWORD"], logger: logger)
        try await admin.client.query("DROP DATABASE IF EXISTS \(unescaped: url.database) WITH (FORCE)")
        await admin.close()
    }
}
