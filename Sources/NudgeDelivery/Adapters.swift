public import AsyncHTTPClient
public import Foundation
import NIOCore
public import NIOSSL
import Synchronization
public import NudgeEngine
public import NudgeLanguage
public import NudgeCore
public import NudgeStore

/// What the providers' adapters are made from, and the channels' retry policies.
public enum Adapters {
    /// A setting that cannot be used; `description` names the setting, never a secret's value.
    public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    /// Everything a provider's adapter is made from.
    public struct Context: Sendable {
        public var channel: NudgeCore.Channel
        /// The platform whose provider this is (`push: { ios: … }`), nil for the channel's one provider.
        public var platform: String?
        /// The channel's settings as written (secrets as variable names).
        public var settings: [String: String]
        /// The environment.
        public var environment: [String: String]
        /// The HTTP client the adapters share, made when the first one asks for it.
        public var client: HTTPClient { makeClient() }
        private let makeClient: @Sendable () -> HTTPClient
        /// `timeout:` (default 15 s).
        public var timeout: TimeInterval
        /// `concurrency:` (default 8).
        public var concurrency: Int
        /// `rate:`.
        public var rateLimiter: RateLimiter?
        /// Signs unsubscribe links (nil when `serve:` has no secret).
        public var unsubscribe: UnsubscribeLinks?
        /// `serve.public_url`, without a trailing slash.
        public var publicURL: String?
        /// Turns a path of nudge.yaml into an absolute path.
        public var resolve: @Sendable (String) -> String
        /// The database's passes and registrations, for providers that keep wallet passes (nil: a command that
        /// delivers without the database).
        public var passes: (any PassStore & PlanningStore)?

        /// A context with a client made by `makeClient` when first needed.
        public init(
            channel: NudgeCore.Channel, platform: String? = nil, settings: [String: String],
            environment: [String: String], client makeClient: @escaping @Sendable () -> HTTPClient,
            unsubscribe: UnsubscribeLinks? = nil, publicURL: String? = nil,
            resolve: @escaping @Sendable (String) -> String = { $0 }, passes: (any PassStore & PlanningStore)? = nil
        ) {
            self.passes = passes
            self.channel = channel
            self.platform = platform
            self.settings = settings
            self.environment = environment
            self.makeClient = makeClient
            self.timeout = settings["timeout"].flatMap(ChannelSetting.seconds) ?? 15
            self.concurrency = settings["concurrency"].flatMap { Int($0) } ?? 8
            self.rateLimiter = settings["rate"].flatMap(ChannelSetting.rate).map { RateLimiter(perSecond: $0) }
            self.unsubscribe = unsubscribe
            self.publicURL = publicURL
            self.resolve = resolve
        }

        /// A context with `client`; timeouts, concurrency and rate from `settings`.
        public init(
            channel: NudgeCore.Channel, settings: [String: String], environment: [String: String] = [:],
            client: HTTPClient, unsubscribe: UnsubscribeLinks? = nil, publicURL: String? = nil
        ) {
            self.init(
                channel: channel, settings: settings, environment: environment, client: { client },
                unsubscribe: unsubscribe, publicURL: publicURL)
        }

        /// How errors name the provider: `channel 'push'`, `channel 'push' (ios)`.
        public var name: String { ChannelConfig.name(channel, platform: platform) }

        /// The value of the environment variable named by setting `key` (e.g. `api_key_env`).
        public func secret(_ key: String) throws -> String {
            guard let variable = settings[key] else {
                throw ConfigurationError(description: "\(name): missing key '\(key)'")
            }
            guard let value = environment[variable], !value.isEmpty else {
                throw ConfigurationError(
                    description: "\(name): the environment variable \(variable) (\(key)) is not set")
            }
            return value
        }

        /// A required plain setting.
        public func setting(_ key: String) throws -> String {
            guard let value = settings[key] else {
                throw ConfigurationError(description: "\(name): missing key '\(key)'")
            }
            return value
        }

        /// `base_url` without a trailing slash, or the provider's default.
        public func baseURL(default value: String) -> String {
            var url = settings["base_url"] ?? value
            while url.hasSuffix("/") { url.removeLast() }
            return url
        }
    }

    /// The retry policy of each channel: `max_attempts` and `max_age` from nudge.yaml over `base`.
    public static func retryPolicies(_ config: ProjectConfig, base: RetryPolicy = RetryPolicy()) -> [NudgeCore.Channel: RetryPolicy] {
        var policies: [NudgeCore.Channel: RetryPolicy] = [:]
        for (channel, channelConfig) in config.channels {
            // A channel with a provider per platform retries as its most patient platform asks.
            var policy: RetryPolicy?
            for (_, route) in channelConfig.routes {
                var own = base
                if let attempts = route.settings["max_attempts"].flatMap({ Int($0) }), attempts > 0 {
                    own.maxAttempts = attempts
                }
                if let age = route.settings["max_age"].flatMap(DurationSpec.init(parsing:)), age.seconds > 0 {
                    own.maxAge = TimeInterval(age.seconds)
                }
                if var chosen = policy {
                    chosen.maxAttempts = max(chosen.maxAttempts, own.maxAttempts)
                    chosen.maxAge = max(chosen.maxAge, own.maxAge)
                    policy = chosen
                } else {
                    policy = own
                }
            }
            policies[channel] = policy ?? base
        }
        return policies
    }

    /// An HTTP client with explicit timeouts that never follows redirects (a 3xx is a failure).
    ///
    /// Each adapter bounds its own requests in flight (`concurrency:`, up to 256): the client's pool must not cap
    /// them lower. Its default keeps 8 HTTP/1 connections per host, and requests beyond them wait for one.
    /// With `trustRoots` (the path of a PEM file), it trusts those certificates instead of the system's; `tls` is
    /// the TLS configuration to start from (a client certificate).
    public static func makeHTTPClient(trustRoots: String? = nil, tls: TLSConfiguration? = nil) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(30))
        configuration.redirectConfiguration = .disallow
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 256
        if trustRoots != nil || tls != nil {
            var tls = tls ?? TLSConfiguration.makeClientConfiguration()
            if let trustRoots { tls.trustRoots = .file(trustRoots) }
            configuration.tlsConfiguration = tls
        }
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    private static let trustingClients = Mutex<[String: HTTPClient]>([:])

    /// The client of `makeHTTPClient(trustRoots: path)` for a provider's `ca_file` (a private relay, a test server):
    /// one per file, kept for the life of the process.
    public static func httpClient(trusting path: String) throws -> HTTPClient {
        try trustingClients.withLock { clients in
            if let client = clients[path] { return client }
            guard FileManager.default.isReadableFile(atPath: path) else {
                throw ConfigurationError(description: "ca_file: cannot read \(path)")
            }
            let client = makeHTTPClient(trustRoots: path)
            clients[path] = client
            return client
        }
    }
}
