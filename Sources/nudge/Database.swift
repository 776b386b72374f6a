import ArgumentParser
import Foundation
import GRDB
import Logging
import NudgeLanguage
import NudgePostgres
import NudgeStore

/// Opens the store at `location` (a SQLite file path, or a `postgres://` URL), runs `body` with it and closes it.
///
/// A SQLite file must exist unless `create` (commands that only read never create one); PostgreSQL's schema is
/// created or migrated on connection. Every failure to open is one plain line and exit 1.
func withStore<T>(
    _ location: String, config: ProjectConfig, global: GlobalOptions, create: Bool = false, reading: Bool = false,
    _ body: (any Store) async throws -> T
) async throws -> T {
    guard DatabaseURL.looksLikeURL(location) else {
        let database =
            create ? try openDatabase(path: location) : try openExistingDatabase(path: location, reading: reading)
        return try await body(database)
    }
    let store = try await connectPostgres(location, config: config, logger: global.makeLogger(label: "nudge.postgres"))
    do {
        let result = try await body(store)
        await store.close()
        return result
    } catch {
        await store.close()
        // A failed statement rolled its transaction back: say so, with the server's reason, in one line.
        if let reason = PostgresStore.failure(error) {
            Console.error("\(store.url): error: PostgreSQL: \(reason); nothing of the failed step was committed")
            throw ExitCode(1)
        }
        throw error
    }
}

/// Connects to PostgreSQL, the password from `database_password_env` or `PGPASSWORD`.
func connectPostgres(_ location: String, config: ProjectConfig, logger: Logger) async throws -> PostgresStore {
    let url: DatabaseURL
    do {
        url = try DatabaseURL(parsing: location)
    } catch {
        Console.error("\(DatabaseURL.redacting(location)): error: \(error)")
        throw ExitCode(1)
    }
    let environment = ProcessInfo.processInfo.environment
    if let variable = config.databasePasswordEnv, environment[variable] == nil {
        Console.error(
            "\(config.databaseLocation.map { "\($0)" } ?? "nudge.yaml"): error: database_password_env names \(variable), "
                + "which is not set")
        throw ExitCode(1)
    }
    do {
        return try await PostgresStore.connect(
            url, password: DatabaseURL.password(environment: environment, passwordEnv: config.databasePasswordEnv),
            logger: logger)
    } catch let error as PostgresStore.ConnectionError {
        Console.error("\(url): error: \(error)")
        throw ExitCode(1)
    }
}

/// Opens the SQLite database at `path`, which must exist (commands that read it never create one); `reading`:
/// for a command that only reads, which then writes and syncs nothing.
func openExistingDatabase(path: String, reading: Bool = false) throws -> AppDatabase {
    guard FileManager.default.fileExists(atPath: path) else {
        Console.error(
            "\(path): error: no database here; import customers first (nudge import customers FILE.csv) or run 'nudge demo'")
        throw ExitCode(1)
    }
    return try openDatabase(path: path, reading: reading)
}

/// Opens (creating if needed) the SQLite database at `path`.
func openDatabase(path: String, reading: Bool = false) throws -> AppDatabase {
    do {
        return try reading ? AppDatabase.openForReading(path: path) : AppDatabase.open(path: path)
    } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED {
        Console.error("\(path): error: the database is locked by another process (waited 10 s); try again")
        throw ExitCode(1)
    } catch {
        Console.error("\(path): error: cannot open the database: \(error)")
        throw ExitCode(1)
    }
}
