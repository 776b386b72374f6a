public import AsyncHTTPClient
import Foundation
import NIOCore
public import NudgeLanguage

/// Builds the channel adapters of nudge.yaml, reading secrets from the environment.
public enum Adapters {
    /// A setting that cannot be used; `description` names the setting, never a secret's value.
    public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Environment variables that the configuration names but the environment lacks.
    public static func missingSecrets(_ config: ProjectConfig, environment: [String: String]) -> [(NudgeLanguage.Channel, String)] {
        config.channels.sorted { $0.key < $1.key }.compactMap { channel, settings in
            guard let name = settings.settings["secret_env"], (environment[name] ?? "").isEmpty else { return nil }
            return (channel, name)
        }
    }

    /// One adapter per configured channel. `resolve` turns a path of nudge.yaml into an absolute path.
    public static func make(
        _ config: ProjectConfig, environment: [String: String], httpClient: @autoclosure () -> HTTPClient,
        resolve: (String) -> String
    ) throws -> [NudgeLanguage.Channel: any ChannelAdapter] {
        var adapters: [NudgeLanguage.Channel: any ChannelAdapter] = [:]
        var client: HTTPClient?
        for (channel, settings) in config.channels {
            for (key, value) in settings.settings.sorted(by: { $0.key < $1.key }) {
                if let problem = ChannelSetting.problem(key: key, value: value) {
                    throw ConfigurationError(description: "channel '\(channel.rawValue)': \(problem)")
                }
            }
            // Every setting was validated just above (the same checks as `nudge check`).
            let limiter = settings.settings["rate"].flatMap(ChannelSetting.rate).map { RateLimiter(perSecond: $0) }
            switch settings.provider {
            case "file":
                adapters[channel] = FileAdapter(path: resolve(settings.settings["path"] ?? "outbox/\(channel.rawValue).jsonl"))
            case "webhook":
                guard let url = settings.settings["url"], let secretName = settings.settings["secret_env"] else {
                    throw ConfigurationError(description: "channel '\(channel.rawValue)': webhook needs url and secret_env")
                }
                guard let secret = environment[secretName], !secret.isEmpty else {
                    throw ConfigurationError(
                        description: "channel '\(channel.rawValue)': the environment variable \(secretName) (secret_env) is not set")
                }
                let timeout = settings.settings["timeout"].flatMap(ChannelSetting.seconds) ?? 15
                let concurrency = settings.settings["concurrency"].flatMap { Int($0) } ?? 8
                if client == nil { client = httpClient() }
                adapters[channel] = WebhookAdapter(
                    url: url, secret: secret, client: client!, timeout: timeout, concurrency: concurrency,
                    rateLimiter: limiter)
            default:
                throw ConfigurationError(description: "channel '\(channel.rawValue)': unknown provider '\(settings.provider)'")
            }
        }
        return adapters
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
