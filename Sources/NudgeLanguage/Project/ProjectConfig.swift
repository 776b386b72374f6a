public import Foundation
public import NudgeCore

/// One channel's adapter settings from nudge.yaml: one provider, or one per platform.
public struct ChannelConfig: Sendable {
    /// The provider's name, as written (empty for a channel with a provider per platform).
    public var provider: String
    /// Other settings, as text (paths are not resolved here).
    public var settings: [String: String]
    /// Where the channel (or the platform's block) is configured.
    public var location: SourceLocation
    /// `push: { android: {…}, ios: {…} }`: each platform's provider, by platform name; empty when one provider
    /// carries the channel for everyone.
    public var platforms: [String: ChannelConfig] = [:]
    /// The provider's limit on notifications per recipient (its spec's, set when nudge.yaml is parsed).
    public var recipientWindow: RecipientWindow?
    /// Whether only devices registered for the recipient are reached (its spec's `needsRegisteredDevice`).
    public var needsRegisteredDevice = false

    public init(provider: String, settings: [String: String], location: SourceLocation) {
        self.provider = provider
        self.settings = settings
        self.location = location
    }

    /// A channel with one provider per platform.
    public init(platforms: [String: ChannelConfig], location: SourceLocation) {
        self.init(provider: "", settings: [:], location: location)
        self.platforms = platforms
    }

    /// Whether each platform has its own provider.
    public var isPerPlatform: Bool { !platforms.isEmpty }

    /// Every provider configuration of the channel with its platform: the channel's one provider (platform nil), or
    /// one per platform in name order.
    public var routes: [(platform: String?, config: ChannelConfig)] {
        isPerPlatform ? platforms.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } : [(nil, self)]
    }

    /// How errors name the channel, or one platform's provider of it: `channel 'push'`, `channel 'push' (ios)`.
    public static func name(_ channel: Channel, platform: String?) -> String {
        "channel '\(channel.rawValue)'" + (platform.map { " (\($0))" } ?? "")
    }
}

/// The business settings of `nudge.yaml`.
public struct ProjectConfig: Sendable {
    /// The business name (`business.name`).
    public var businessName: String
    /// The default time zone for customers without one.
    public var timeZone: TimeZone {
        didSet { timeZoneName = timeZone.identifier }
    }
    /// The zone's IANA name as written in nudge.yaml (Foundation reports "UTC" as "GMT").
    public var timeZoneName: String
    /// `database:` as written, if present: a SQLite file path or a `postgres://` URL.
    public var database: String?
    /// Where `database:` is written (for errors about the database it names).
    public var databaseLocation: SourceLocation?
    /// `database_password_env:`: the environment variable holding the PostgreSQL password (else `PGPASSWORD`).
    public var databasePasswordEnv: String?
    /// `delivery.drain_window`: how long a one-off `nudge run` keeps draining for retries that fall due soon.
    public var drainWindow: Double = 60
    /// The local time of day at which date-based triggers fall due.
    public var sendAt: TimeOfDay
    /// Configured channels.
    public var channels: [Channel: ChannelConfig]
    /// `serve:`: how providers and customers reach `nudge serve`, and the unsubscribe-link secret.
    public var serve: ServeConfig?
    /// `intelligence:`: how the customer model is refitted and how lifetime value is counted.
    public var intelligence = IntelligenceConfig()
    /// The built-in segments with `segments:` applied, in the order `nudge segments` lists them.
    public var segments: [Segment] = Segment.builtInSegments
    /// `policy:`: frequency caps and quiet hours for marketing messages.
    public var policy = Policy()
    /// `pricing:`: what one message costs on each channel (an SMS: one segment), for `nudge forecast`.
    public var pricing: [Channel: Double] = [:]

    /// This configuration with only `channel` (of it, only `platform`'s block when it has one per platform) and no
    /// `serve:`: what a command that sends through one provider builds adapters from, so that it needs only that
    /// provider's secrets.
    public func keeping(_ channel: Channel, platform: String?) -> ProjectConfig {
        var only = self
        only.channels = channels.filter { $0.key == channel }
        if let platform, let route = channels[channel]?.platforms[platform] {
            only.channels[channel]?.platforms = [platform: route]
        }
        only.serve = nil
        return only
    }

    /// The segment named `name`.
    public func segment(named name: String) -> Segment? {
        segments.first { $0.name == name }
    }

    /// Defaults used when nudge.yaml is missing parts.
    public init(
        businessName: String = "My Business", timeZone: TimeZone = TimeZone(identifier: "UTC")!, database: String? = nil,
        sendAt: TimeOfDay = TimeOfDay(hour: 9, minute: 0), channels: [Channel: ChannelConfig] = [:]
    ) {
        self.businessName = businessName
        self.timeZone = timeZone
        self.timeZoneName = timeZone.identifier == "GMT" ? "UTC" : timeZone.identifier
        self.database = database
        self.sendAt = sendAt
        self.channels = channels
    }

    // The keys each part of nudge.yaml takes: the parser's and the JSON Schema's (`NudgeSchema`).
    static let topKeys = [
        "business", "database", "database_password_env", "send_at", "channels", "serve", "delivery", "segments",
        "intelligence", "policy", "pricing",
    ]
    static let businessKeys = ["name", "timezone"]
    static let deliveryKeys = ["drain_window"]

    /// Parses nudge.yaml text, reporting every problem; `channels:` is checked against `providers`.
    public static func parse(
        _ text: String, file: String, providers: ProviderCatalog, diagnostics: inout Diagnostics
    ) -> ProjectConfig {
        var config = ProjectConfig()
        let (parsed, yamlDiagnostics) = YAMLReader.parse(text, file: file)
        diagnostics.append(contentsOf: yamlDiagnostics)
        guard let node = parsed,
            let root = MappingReader(
                node, context: "nudge.yaml", allowed: topKeys, diagnostics: &diagnostics)
        else { return config }

        if let businessNode = root.required("business", context: "nudge.yaml", diagnostics: &diagnostics),
            let business = MappingReader(
                businessNode, context: "business", allowed: businessKeys, diagnostics: &diagnostics)
        {
            if let (name, _) = business.string("name", diagnostics: &diagnostics) { config.businessName = name }
            if let (zone, node) = business.string("timezone", diagnostics: &diagnostics) {
                if let tz = TimeZone(identifier: zone), zone.contains("/") || zone == "UTC" {
                    config.timeZone = tz
                    config.timeZoneName = zone
                } else {
                    diagnostics.error(
                        "unknown time zone '\(zone)'", at: node.location,
                        suggestion: Suggestion.didYouMean(zone, in: TimeZone.knownTimeZoneIdentifiers, listing: false)
                            ?? "use an IANA name such as America/New_York")
                }
            }
        }
        if let (database, node) = root.string("database", diagnostics: &diagnostics) {
            config.database = database
            config.databaseLocation = node.location
            if DatabaseURL.looksLikeURL(database) {
                do {
                    _ = try DatabaseURL(parsing: database)
                } catch {
                    diagnostics.error("\(error)", at: node.location)
                }
            }
        }
        if let (variable, node) = root.string("database_password_env", diagnostics: &diagnostics) {
            if let problem = ChannelSetting.problem(key: "database_password_env", value: variable) {
                diagnostics.error(problem, at: node.location)
            } else {
                config.databasePasswordEnv = variable
            }
        }
        if let deliveryNode = root["delivery"],
            let delivery = MappingReader(deliveryNode, context: "delivery", allowed: deliveryKeys, diagnostics: &diagnostics),
            let (window, node) = delivery.string("drain_window", diagnostics: &diagnostics)
        {
            if let seconds = ChannelSetting.seconds(window), seconds >= 0, seconds <= 3600 {
                config.drainWindow = seconds
            } else {
                diagnostics.error(
                    "'drain_window' must be like 60s, 2m or 0 (at most 1h), not '\(window)'", at: node.location)
            }
        }
        if let (sendAt, node) = root.string("send_at", diagnostics: &diagnostics) {
            if let time = TimeOfDay(parsing: sendAt) {
                config.sendAt = time
            } else {
                diagnostics.error("'send_at' must be a time of day as \"HH:MM\", not '\(sendAt)'", at: node.location)
            }
        }
        config.segments = Segment.parse(root["segments"], diagnostics: &diagnostics)
        if let node = root["intelligence"] {
            config.intelligence = IntelligenceConfig.parse(node, diagnostics: &diagnostics)
        }
        if let node = root["policy"], !node.isNull {
            config.policy = Policy.parse(node, diagnostics: &diagnostics)
        }
        if let pricingNode = root["pricing"], !pricingNode.isNull {
            config.pricing = parsePricing(pricingNode, diagnostics: &diagnostics)
        }
        if let serveNode = root["serve"] {
            config.serve = ServeConfig.parse(serveNode, diagnostics: &diagnostics)
        }
        if let channelsNode = root["channels"] {
            guard let pairs = channelsNode.mapping else {
                diagnostics.error("'channels' must be a mapping of channel to adapter", at: channelsNode.location)
                return config
            }
            for (key, value) in pairs {
                guard let name = key.scalar, let channel = Channel(rawValue: name) else {
                    diagnostics.error(
                        "unknown channel '\(key)'", at: key.location,
                        suggestion: Suggestion.didYouMean(key.description, in: Channel.allCases.map(\.rawValue)))
                    continue
                }
                if let parsed = parseChannel(channel, value, providers: providers, diagnostics: &diagnostics) {
                    config.channels[channel] = parsed
                }
            }
        }
        return config
    }

    /// `pricing: { email: 0.0008, sms: 0.0079, push: 0, wallet: 0 }`: a price a message (an SMS segment), at least 0.
    static func parsePricing(_ node: YAMLNode, diagnostics: inout Diagnostics) -> [Channel: Double] {
        guard let reader = MappingReader(node, context: "pricing", allowed: Channel.allCases.map(\.rawValue), diagnostics: &diagnostics)
        else { return [:] }
        var pricing: [Channel: Double] = [:]
        for channel in Channel.allCases {
            guard let value = reader[channel.rawValue] else { continue }
            guard let text = value.scalar, let price = Double(text), price.isFinite, price >= 0 else {
                diagnostics.error(
                    "'\(channel.rawValue)' must be a price of at least 0 such as 0.0079, not '\(value)'", at: value.location)
                continue
            }
            pricing[channel] = price
        }
        return pricing
    }

    static func parseChannel(
        _ channel: Channel, _ node: YAMLNode, providers: ProviderCatalog, diagnostics: inout Diagnostics
    ) -> ChannelConfig? {
        let context = ChannelConfig.name(channel, platform: nil)
        guard let pairs = node.mapping else {
            diagnostics.error("\(context) must be a mapping such as { provider: file }", at: node.location)
            return nil
        }
        let keys = pairs.compactMap(\.key.scalar)
        let platformKeys = keys.filter { channel.platforms.contains($0) }
        guard !platformKeys.isEmpty else {
            return parseProvider(channel, platform: nil, node, providers: providers, diagnostics: &diagnostics)
        }
        // One block per platform: `push: { android: { provider: fcm, … }, ios: { provider: apns, … } }`.
        var platforms: [String: ChannelConfig] = [:]
        for (key, value) in pairs {
            guard let name = key.scalar, channel.platforms.contains(name) else {
                if key.scalar == "provider" {
                    diagnostics.error("\(context) has a block per platform, so it takes no 'provider' of its own", at: key.location)
                } else {
                    diagnostics.error(
                        "unknown \(channel.rawValue) platform '\(key)' in \(context)", at: key.location,
                        suggestion: Suggestion.didYouMean(key.description, in: channel.platforms))
                }
                continue
            }
            if let parsed = parseProvider(channel, platform: name, value, providers: providers, diagnostics: &diagnostics) {
                platforms[name] = parsed
            }
        }
        return platforms.isEmpty ? nil : ChannelConfig(platforms: platforms, location: node.location)
    }

    /// One provider's block: the channel's own, or one platform's.
    static func parseProvider(
        _ channel: Channel, platform: String?, _ node: YAMLNode, providers: ProviderCatalog, diagnostics: inout Diagnostics
    ) -> ChannelConfig? {
        let context = ChannelConfig.name(channel, platform: platform)
        guard let pairs = node.mapping else {
            diagnostics.error("\(context) must be a mapping such as { provider: file }", at: node.location)
            return nil
        }
        let providerNode = pairs.first { $0.key.scalar == "provider" }?.value
        guard let providerNode, let provider = providerNode.scalar else {
            let perPlatform =
                platform == nil && !channel.platforms.isEmpty
                ? " (or one block per platform: \(channel.platforms.joined(separator: ", ")))" : ""
            let misspelt = perPlatform.isEmpty ? nil : pairs.lazy.compactMap { $0.key.scalar }
                .compactMap { Suggestion.didYouMean($0, in: channel.platforms, listing: false) }.first
            diagnostics.error("missing key 'provider' in \(context)\(perPlatform)", at: node.location, suggestion: misspelt)
            return nil
        }
        guard let spec = providers[provider] else {
            diagnostics.error(
                "unknown provider '\(provider)' for \(context)", at: providerNode.location,
                suggestion: Suggestion.didYouMean(provider, in: providers.names))
            return nil
        }
        if let platform, let allowed = spec.platforms, !allowed.contains(platform) {
            diagnostics.error(
                "provider '\(provider)' serves \(allowed.sorted().joined(separator: ", ")), not \(platform)",
                at: providerNode.location, suggestion: "move it under \(allowed.sorted().joined(separator: " or "))")
        }
        if !spec.channels.contains(channel) {
            let fits = providers.specs.filter { $0.channels.contains(channel) }.map(\.name).sorted()
            diagnostics.error(
                "provider '\(provider)' cannot carry \(channel.rawValue) (it sends \(spec.channels.sorted().map(\.rawValue).joined(separator: ", ")))",
                at: providerNode.location, suggestion: "use one of: \(fits.joined(separator: ", "))")
        }
        guard
            let reader = MappingReader(
                node, context: context, allowed: ["provider"] + spec.required + spec.optional, diagnostics: &diagnostics)
        else { return nil }
        var settings: [String: String] = [:]
        for key in spec.required + spec.optional {
            if let (value, _) = reader.string(key, diagnostics: &diagnostics) { settings[key] = value }
        }
        for (key, value) in settings {
            if let problem = ChannelSetting.problem(key: key, value: value) ?? spec.settingCheck?(key, value),
                let node = reader[key]
            {
                diagnostics.error(problem, at: node.location)
            }
        }
        for key in spec.required where settings[key] == nil {
            diagnostics.error("missing key '\(key)' in \(context) (provider \(provider))", at: node.location)
        }
        if let problem = spec.check?(settings) {
            diagnostics.error("\(context) (provider \(provider)): \(problem)", at: node.location)
        }
        var parsed = ChannelConfig(provider: provider, settings: settings, location: node.location)
        parsed.recipientWindow = spec.recipientWindow
        parsed.needsRegisteredDevice = spec.needsRegisteredDevice
        return parsed
    }
}

/// `intelligence:` in nudge.yaml.
public struct IntelligenceConfig: Sendable, Hashable {
    /// `refit`: `nudge run` refits the model when the stored fit is older than this (default 7d).
    public var refit = DurationSpec(seconds: 7 * 86_400, text: "7d")
    /// `clv_months`: the months lifetime value counts (default 12).
    public var clvMonths = 12
    /// `monthly_discount`: the discount rate per month of lifetime value (default 0.01).
    public var monthlyDiscount = 0.01

    public init() {}

    static let keys = ["refit", "clv_months", "monthly_discount"]

    static func parse(_ node: YAMLNode, diagnostics: inout Diagnostics) -> IntelligenceConfig {
        var config = IntelligenceConfig()
        guard
            let reader = MappingReader(
                node, context: "intelligence", allowed: keys, diagnostics: &diagnostics)
        else { return config }
        if let (text, value) = reader.string("refit", diagnostics: &diagnostics) {
            if let duration = DurationSpec(parsing: text), duration.seconds > 0 {
                config.refit = duration
            } else {
                diagnostics.error("'refit' must be a positive duration such as 1d or 7d, not '\(text)'", at: value.location)
            }
        }
        if let months = reader.integer("clv_months", in: 1...120, diagnostics: &diagnostics) { config.clvMonths = months }
        if let (text, value) = reader.string("monthly_discount", diagnostics: &diagnostics) {
            if let rate = Double(text), rate >= 0, rate < 1 {
                config.monthlyDiscount = rate
            } else {
                diagnostics.error(
                    "'monthly_discount' must be a rate from 0 to below 1 such as 0.01, not '\(text)'", at: value.location)
            }
        }
        return config
    }
}
