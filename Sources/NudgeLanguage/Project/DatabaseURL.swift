import Foundation

/// A PostgreSQL database named by `database:` or `--db` as `postgres://USER@HOST:PORT/DBNAME`
/// (`postgresql://` too; `?sslmode=require` honoured). The password never comes from here: it is read from
/// `PGPASSWORD` or the variable named by `database_password_env`.
public struct DatabaseURL: Sendable, Hashable, CustomStringConvertible {
    /// How the connection is secured.
    public enum TLSMode: String, Sendable, Hashable {
        /// `sslmode=disable`: plain TCP.
        case disable
        /// `sslmode=prefer` or `allow` (the default): TLS when the server offers it.
        case prefer
        /// `sslmode=require`, `verify-ca` or `verify-full`: TLS or no connection.
        case require
    }

    public var user: String
    public var host: String
    public var port: Int
    public var database: String
    public var tls: TLSMode

    /// Why a `postgres://` URL cannot be used.
    public struct Problem: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Whether `text` is meant as a URL rather than a SQLite file path.
    public static func looksLikeURL(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") || text.contains("://")
    }

    /// Parses `postgres://USER@HOST[:PORT]/DBNAME[?sslmode=…]`.
    public init(parsing text: String) throws(Problem) {
        guard let components = URLComponents(string: text), let scheme = components.scheme else {
            throw Problem(description: "'\(text)' is not a URL; write postgres://USER@HOST:PORT/DBNAME or a SQLite file path")
        }
        guard scheme == "postgres" || scheme == "postgresql" else {
            throw Problem(
                description: "unknown database scheme '\(scheme)://'; use postgres://USER@HOST:PORT/DBNAME, or a file path for SQLite")
        }
        if components.password != nil {
            throw Problem(
                description: "the database URL must not hold a password; set PGPASSWORD or name a variable with database_password_env")
        }
        guard let user = components.user, !user.isEmpty else {
            throw Problem(description: "the database URL names no user: write postgres://USER@HOST:PORT/DBNAME")
        }
        guard let host = components.host, !host.isEmpty else {
            throw Problem(description: "the database URL names no host: write postgres://USER@HOST:PORT/DBNAME")
        }
        let name = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        guard !name.isEmpty, !name.contains("/") else {
            throw Problem(description: "the database URL names no database: write postgres://USER@HOST:PORT/DBNAME")
        }
        var tls = TLSMode.prefer
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                switch item.value ?? "" {
                case "disable": tls = .disable
                case "allow", "prefer": tls = .prefer
                case "require", "verify-ca", "verify-full": tls = .require
                default:
                    throw Problem(
                        description: "unknown sslmode '\(item.value ?? "")': use disable, prefer or require")
                }
            default:
                throw Problem(description: "unknown database URL parameter '\(item.name)' (only sslmode is read)")
            }
        }
        self.user = user.removingPercentEncoding ?? user
        self.host = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        self.port = components.port ?? 5432
        self.database = name.removingPercentEncoding ?? name
        self.tls = tls
    }

    /// `text` with any password in it masked, for messages about a URL that could not be used.
    public static func redacting(_ text: String) -> String {
        guard var components = URLComponents(string: text), components.password != nil else { return text }
        components.password = "****"
        return components.string ?? "the database URL"
    }

    /// The URL without a password, for messages.
    public var description: String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "postgres://\(user)@\(shownHost):\(port)/\(database)" + (tls == .prefer ? "" : "?sslmode=\(tls.rawValue)")
    }

    /// The password: the variable named by `passwordEnv`, else `PGPASSWORD`; nil when neither is set.
    public static func password(environment: [String: String], passwordEnv: String?) -> String? {
        if let passwordEnv { return environment[passwordEnv] }
        return environment["PGPASSWORD"]
    }
}
