public import AsyncHTTPClient
import Foundation
import NIOConcurrencyHelpers
public import NudgeDelivery
import NudgeEngine
public import NudgeLanguage
public import NudgeServer
public import NudgeCore
public import NudgeStore

/// The providers of this build: adding one is its folder and one line here.
public enum Providers {
    /// Every provider.
    public static let all: [any Provider] = [
        FileProvider(),
        WebhookProvider(),
        SendGridProvider(),
        MailgunProvider(),
        SMTPProvider(),
        TwilioProvider(),
        SNSProvider(),
        FCMProvider(),
        APNsProvider(),
        GoogleWalletProvider(),
        AppleWalletProvider(),
    ]

    /// What the parser and `nudge check` check `channels:` against.
    public static let catalog = ProviderCatalog(all.map(\.spec))

    /// The provider called `name`.
    public static func named(_ name: String) -> (any Provider)? {
        all.first { $0.spec.name == name }
    }

    /// One adapter per configured channel, reading secrets from `environment`. The HTTP client is made by
    /// `httpClient` when the first adapter needs one; `resolve` turns a path of nudge.yaml into an absolute path.
    public static func makeAdapters(
        _ config: ProjectConfig, environment: [String: String], httpClient: @escaping @Sendable () -> HTTPClient,
        resolve: @escaping @Sendable (String) -> String, passes: (any PassStore & PlanningStore)? = nil
    ) throws -> [NudgeCore.Channel: any ChannelAdapter] {
        let shared = NIOLockedValueBox<HTTPClient?>(nil)
        let client: @Sendable () -> HTTPClient = {
            shared.withLockedValue { client in
                if let client { return client }
                let made = httpClient()
                client = made
                return made
            }
        }
        let unsubscribe = UnsubscribeLinks(config: config, environment: environment)
        var adapters: [NudgeCore.Channel: any ChannelAdapter] = [:]
        for (channel, channelConfig) in config.channels.sorted(by: { $0.key < $1.key }) {
            var routes: [String: any ChannelAdapter] = [:]
            for (platform, settings) in channelConfig.routes {
                let name = ChannelConfig.name(channel, platform: platform)
                guard let provider = named(settings.provider) else {
                    throw Adapters.ConfigurationError(description: "\(name): unknown provider '\(settings.provider)'")
                }
                // The checks of `nudge check`, for configurations made in code.
                let spec = provider.spec
                for (key, value) in settings.settings.sorted(by: { $0.key < $1.key }) {
                    if let problem = ChannelSetting.problem(key: key, value: value) ?? spec.settingCheck?(key, value) {
                        throw Adapters.ConfigurationError(description: "\(name): \(problem)")
                    }
                }
                for key in spec.required where settings.settings[key] == nil {
                    throw Adapters.ConfigurationError(description: "\(name): provider \(spec.name) needs '\(key)'")
                }
                if let problem = spec.check?(settings.settings) {
                    throw Adapters.ConfigurationError(description: "\(name): \(problem)")
                }
                let context = Adapters.Context(
                    channel: channel, platform: platform, settings: settings.settings, environment: environment,
                    client: client, unsubscribe: unsubscribe, publicURL: config.serve?.publicURL, resolve: resolve,
                    passes: passes)
                let adapter = try provider.makeAdapter(context)
                guard let platform else {
                    adapters[channel] = adapter
                    continue
                }
                routes[platform] = adapter
            }
            if !routes.isEmpty { adapters[channel] = PlatformRoutes(channel: channel, adapters: routes) }
        }
        return adapters
    }

    /// What `nudge serve` verifies requests with: every provider's routes (live or answering 503), the unsubscribe
    /// secret. `resolve` turns a path of nudge.yaml into an absolute path.
    public static func serverSettings(
        _ config: ProjectConfig, environment: [String: String],
        resolve: @escaping @Sendable (String) -> String = { $0 }
    ) throws(ServerSettings.ConfigurationError) -> ServerSettings {
        var webhooks: [any ProviderWebhooks] = []
        for provider in all {
            if let routes = try provider.webhooks(config, environment: environment, resolve: resolve) {
                webhooks.append(routes)
            }
        }
        return try ServerSettings(config: config, environment: environment, webhooks: webhooks)
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
    /// every channel (except the webhook keys only `nudge serve` needs), and the unsubscribe secret when email goes
    /// to people's inboxes.
    public static func missingSecrets(_ config: ProjectConfig, environment: [String: String]) -> [MissingSecret] {
        var missing: [MissingSecret] = []
        for (channel, channelConfig) in config.channels.sorted(by: { $0.key < $1.key }) {
            for (platform, settings) in channelConfig.routes {
                for (key, variable) in ProviderSpec.secretNames(settings.settings) where (environment[variable] ?? "").isEmpty {
                    if key.hasPrefix("webhook_") { continue }
                    missing.append(
                        MissingSecret(
                            owner: ChannelConfig.name(channel, platform: platform), key: key, variable: variable,
                            location: settings.location))
                }
            }
        }
        if let serve = config.serve, let variable = serve.unsubscribeSecretEnv, (environment[variable] ?? "").isEmpty,
            catalog.sendsEmailToInboxes(config.channels[.email])
        {
            missing.append(MissingSecret(owner: "serve", key: "unsubscribe_secret_env", variable: variable, location: serve.location))
        }
        return missing
    }

    /// The routes of `nudge serve` the providers add, for help texts.
    public static var webhookPaths: [String] { all.flatMap { type(of: $0).webhookPaths } }
}
