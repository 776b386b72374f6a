import Foundation
import Testing

@testable import NudgeLanguage
import NudgeProviders

@Suite("Database URLs")
struct DatabaseURLTests {
    @Test("postgres:// and postgresql:// URLs name user, host, port, database and TLS")
    func parses() throws {
        let url = try DatabaseURL(parsing: "postgres://nudge@db.internal:5433/cafe?sslmode=require")
        #expect((url.user, url.host, url.port, url.database, url.tls) == ("nudge", "db.internal", 5433, "cafe", .require))
        let plain = try DatabaseURL(parsing: "postgresql://me@127.0.0.1/shop")
        #expect((plain.port, plain.tls) == (5432, .prefer))
        #expect(plain.description == "postgres://me@127.0.0.1:5432/shop")
        #expect(try DatabaseURL(parsing: "postgres://me@[::1]:5432/x?sslmode=disable").host == "::1")
    }

    @Test(
        "bad URLs are refused with what to write instead",
        arguments: [
            ("postgres://me:secret@h/db", "must not hold a password"),
            ("postgres://h/db", "names no user"),
            ("postgres://me@h", "names no database"),
            ("mysql://me@h/db", "unknown database scheme 'mysql://'"),
            ("postgres://me@h/db?sslmode=sometimes", "unknown sslmode 'sometimes'"),
            ("postgres://me@h/db?pool=3", "unknown database URL parameter 'pool'"),
        ])
    func refuses(_ text: String, _ expected: String) {
        #expect(throws: DatabaseURL.Problem.self) { try DatabaseURL(parsing: text) }
        do {
            _ = try DatabaseURL(parsing: text)
        } catch {
            #expect(error.description.contains(expected), "\(error.description)")
        }
    }

    @Test("nudge.yaml: a bad database URL is an error at its line; drain_window and the password variable are read")
    func config() {
        var diagnostics = Diagnostics()
        _ = ProjectConfig.parse(
            "business: { name: A, timezone: UTC }\ndatabase: postgres://me:pw@h/db\n", file: "nudge.yaml",
            providers: Providers.catalog, diagnostics: &diagnostics)
        #expect(diagnostics.sorted.map(\.description).first?.hasPrefix("nudge.yaml:2:11: error: the database URL must not hold a password") == true)
        var clean = Diagnostics()
        let config = ProjectConfig.parse(
            "business: { name: A, timezone: UTC }\ndatabase: postgres://me@h/db\ndatabase_password_env: CAFE_DB_PASSWORD\ndelivery:\n  drain_window: 2m\n",
            file: "nudge.yaml", providers: Providers.catalog, diagnostics: &clean)
        #expect(!clean.hasErrors)
        #expect(config.databasePasswordEnv == "CAFE_DB_PASSWORD")
        #expect(config.drainWindow == 120)
        var bad = Diagnostics()
        _ = ProjectConfig.parse(
            "business: { name: A, timezone: UTC }\ndelivery:\n  drain_window: soon\n", file: "nudge.yaml", providers: Providers.catalog, diagnostics: &bad)
        #expect(bad.sorted.map(\.description).first?.contains("'drain_window' must be like 60s") == true)
    }
}
