public import AsyncHTTPClient
public import Foundation
import NIOCore
public import NudgeEngine
public import NudgeLanguage

/// Builds the channel adapters of nudge.yaml, reading secrets from the environment.
public enum Adapters {
    /// A setting that cannot be used; `description` names the setting, never a secret's value.
    public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    /// A secret that the configuration names but the environment lacks.
    public struct MissingSecret: Sendable, Hashable {
        /// `channel 'email'` or `serve`.
        public var owner: String
        /// The setting naming the variable, e.g. `api_key_env`.
        public var key: String
        /// The environment variable.
        public var variable: String
        /// Where the setting is written.
        public var location: SourceLocation
    }

    /// Environment variables that the configuration names but the environment lacks: every `…_env` setting of
    /// every channel, and the unsubscribe secret when a network email provider is configured.
    public static func missingSecrets(_ config: ProjectConfig, environment: [String: String]) -> [MissingSecret] {
        var missing: [MissingSecret] = []
        for (channel, settings) in config.channels.sorted(by: { $0.key < $1.key }) {
            for (key, variable) in ProviderSpec.secretNames(settings.settings) where (environment[variable] ?? "").isEmpty {
                // Webhook verification keys are only needed by `nudge serve`.
                if key.hasPrefix("webhook_") { continue }
                missing.append(
                    MissingSecret(owner: "channel '\(channel.rawValue)'", key: key, variable: variable, location: settings.location))
            }
        }
        if let serve = config.serve, let variable = serve.unsubscribeSecretEnv, (environment[variable] ?? "").isEmpty,
            config.channels[.email].map({ $0.provider != "file" && $0.provider != "webhook" }) == true
        {
            missing.append(MissingSecret(owner: "serve", key: "unsubscribe_secret_env", variable: variable, location: serve.location))
        }
        return missing
    }

    /// Everything a provider's adapter is made from.
    public struct Context: Sendable {
        public var channel: NudgeLanguage.Channel
        /// The channel's settings as written (secrets as variable names).
        public var settings: [String: String]
        /// The environment.
        public var environment: [String: String]
        /// The shared HTTP client.
        public var client: HTTPClient
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

        /// The value of the environment variable named by setting `key` (e.g. `api_key_env`).
        public func secret(_ key: String) throws -> String {
            guard let variable = settings[key] else {
                throw ConfigurationError(description: "channel '\(channel.rawValue)': missing key '\(key)'")
            }
            guard let value = environment[variable], !value.isEmpty else {
                throw ConfigurationError(
                    description: "channel '\(channel.rawValue)': the environment variable \(variable) (\(key)) is not set")
            }
            return value
        }

        /// A required plain setting.
        public func setting(_ key: String) throws -> String {
            guard let value = settings[key] else {
                throw ConfigurationError(description: "channel '\(channel.rawValue)': missing key '\(key)'")
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

    /// One adapter per configured channel. `resolve` turns a path of nudge.yaml into an absolute path.
    public static func make(
        _ config: ProjectConfig, environment: [String: String], httpClient: @autoclosure () -> HTTPClient,
        resolve: (String) -> String
    ) throws -> [NudgeLanguage.Channel: any ChannelAdapter] {
        var adapters: [NudgeLanguage.Channel: any ChannelAdapter] = [:]
        var client: HTTPClient?
        let unsubscribe = UnsubscribeLinks(config: config, environment: environment)
        for (channel, settings) in config.channels {
            for (key, value) in settings.settings.sorted(by: { $0.key < $1.key }) {
                if let problem = ChannelSetting.problem(key: key, value: value) {
                    throw ConfigurationError(description: "channel '\(channel.rawValue)': \(problem)")
                }
            }
            guard let spec = ProviderSpec.all[settings.provider] else {
                throw ConfigurationError(description: "channel '\(channel.rawValue)': unknown provider '\(settings.provider)'")
            }
            for key in spec.required where settings.settings[key] == nil {
                throw ConfigurationError(
                    description: "channel '\(channel.rawValue)': provider \(settings.provider) needs '\(key)'")
            }
            if let problem = spec.check?(settings.settings) {
                throw ConfigurationError(description: "channel '\(channel.rawValue)': \(problem)")
            }
            if settings.provider == "file" {
                adapters[channel] = FileAdapter(path: resolve(settings.settings["path"] ?? "outbox/\(channel.rawValue).jsonl"))
                continue
            }
            // Every setting was validated just above (the same checks as `nudge check`).
            if client == nil { client = httpClient() }
            let context = Context(
                channel: channel, settings: settings.settings, environment: environment, client: client!,
                timeout: settings.settings["timeout"].flatMap(ChannelSetting.seconds) ?? 15,
                concurrency: settings.settings["concurrency"].flatMap { Int($0) } ?? 8,
                rateLimiter: settings.settings["rate"].flatMap(ChannelSetting.rate).map { RateLimiter(perSecond: $0) },
                unsubscribe: unsubscribe, publicURL: config.serve?.publicURL)
            adapters[channel] = try make(provider: settings.provider, context: context)
        }
        return adapters
    }

    /// The adapter of one network provider.
    static func make(provider: String, context: Context) throws -> any ChannelAdapter {
        switch provider {
        case "webhook":
            return WebhookAdapter(
                url: try context.setting("url"), secret: try context.secret("secret_env"), client: context.client,
                timeout: context.timeout, concurrency: context.concurrency, rateLimiter: context.rateLimiter)
        case "sendgrid":
            return try SendGridAdapter(context: context)
        case "mailgun":
            return try MailgunAdapter(context: context)
        case "twilio":
            return try TwilioAdapter(context: context)
        case "sns":
            return try SNSAdapter(context: context)
        case "smtp":
            return try SMTPAdapter(context: context)
        default:
            throw ConfigurationError(
                description: "channel '\(context.channel.rawValue)': provider '\(provider)' is not available in this build")
        }
    }

    /// The retry policy of each channel: `max_attempts` and `max_age` from nudge.yaml over `base`.
    public static func retryPolicies(_ config: ProjectConfig, base: RetryPolicy = RetryPolicy()) -> [NudgeLanguage.Channel: RetryPolicy] {
        var policies: [NudgeLanguage.Channel: RetryPolicy] = [:]
        for (channel, settings) in config.channels {
            var policy = base
            if let attempts = settings.settings["max_attempts"].flatMap({ Int($0) }), attempts > 0 {
                policy.maxAttempts = attempts
            }
            if let age = settings.settings["max_age"].flatMap(DurationSpec.init(parsing:)), age.seconds > 0 {
                policy.maxAge = TimeInterval(age.seconds)
            }
            policies[channel] = policy
        }
        return policies
    }

    /// An HTTP client with explicit timeouts that never follows redirects (a 3xx is a failure).
    public static func makeHTTPClient() -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(30))
        configuration.redirectConfiguration = .disallow
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }
}
