public import Foundation
public import NudgeCore

/// What a provider of nudge.yaml takes: its name, its settings (secrets only as `…_env` names), the channels it
/// carries, and the checks `nudge check` runs on them. Each provider declares its own (in its folder of
/// NudgeProviders); the parser and the checks take them as a `ProviderCatalog`.
public struct ProviderSpec: Sendable {
    /// The name written as `provider:` in nudge.yaml.
    public var name: String
    /// Settings that must be present.
    public var required: [String]
    /// Settings that may be present.
    public var optional: [String]
    /// The channels this provider can carry.
    public var channels: Set<Channel>
    /// Whether it sends email to people's inboxes, where unsubscribe links and `List-Unsubscribe` matter
    /// (not the `file` and `webhook` hand-offs).
    public var sendsEmailToInboxes: Bool
    /// A check of one provider-specific setting's value (beyond the shared ones of `ChannelSetting`); returns the
    /// problem, reported at the setting.
    public var settingCheck: (@Sendable (_ key: String, _ value: String) -> String?)?
    /// A check across settings (e.g. "exactly one of from and messaging_service_sid"); returns the problem.
    public var check: (@Sendable ([String: String]) -> String?)?
    /// Warnings about a channel using this provider in a project that loads (reported by `nudge check`).
    public var warnings: (@Sendable (_ channel: ChannelConfig, _ config: ProjectConfig) -> [Diagnostic])?
    /// How many messages the provider lets one recipient be notified of in a trailing window (Google Wallet: 3 a
    /// pass in 24 h): the plan defers a message beyond it to when the window allows.
    public var recipientWindow: RecipientWindow?
    /// A check of the files a channel's settings name (relative paths are resolved against `project`, the project
    /// folder): errors and warnings for `nudge check`, at the channel's block.
    public var fileCheck: (@Sendable (_ channel: ChannelConfig, _ project: URL) -> [Diagnostic])?
    /// The platforms whose block it may be (`google_wallet`: google); nil for any.
    public var platforms: Set<String>?
    /// Whether a message reaches only devices registered for the recipient (`apple_wallet`: the devices holding the
    /// pass, by `pass_type_id`): the plan suppresses a message to a recipient no device registered for.
    public var needsRegisteredDevice = false

    public init(
        name: String, required: [String] = [], optional: [String] = [], channels: Set<Channel>,
        sendsEmailToInboxes: Bool = false,
        settingCheck: (@Sendable (_ key: String, _ value: String) -> String?)? = nil,
        check: (@Sendable ([String: String]) -> String?)? = nil,
        warnings: (@Sendable (_ channel: ChannelConfig, _ config: ProjectConfig) -> [Diagnostic])? = nil,
        recipientWindow: RecipientWindow? = nil,
        fileCheck: (@Sendable (_ channel: ChannelConfig, _ project: URL) -> [Diagnostic])? = nil
    ) {
        self.name = name
        self.required = required
        self.optional = optional
        self.channels = channels
        self.sendsEmailToInboxes = sendsEmailToInboxes
        self.settingCheck = settingCheck
        self.check = check
        self.warnings = warnings
        self.recipientWindow = recipientWindow
        self.fileCheck = fileCheck
    }

    /// Settings every network provider takes: timeouts, throughput and retries.
    public static let network = ["timeout", "rate", "concurrency", "max_attempts", "max_age"]

    /// The problem with an email provider's `from` and `reply_to`, which must be addresses.
    public static func emailAddressProblem(_ settings: [String: String]) -> String? {
        for key in ["from", "reply_to"] {
            if let value = settings[key], !EmailAddress.isPlausible(value) {
                return "'\(key)' must be an email address such as offers@example.com, not '\(value)'"
            }
        }
        return nil
    }

    /// The names of the environment variables a channel's settings refer to (`…_env` keys), sorted by key.
    public static func secretNames(_ settings: [String: String]) -> [(key: String, variable: String)] {
        settings.filter { $0.key.hasSuffix("_env") }.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }
}

/// A provider's limit on the messages one recipient is notified of: at most `max` in any trailing `seconds`.
public struct RecipientWindow: Sendable, Hashable {
    public var max: Int
    public var seconds: Int
    /// Why a message waits, as the plan says it (`Google Wallet notifies a pass at most 3 times in 24 h`).
    public var reason: String

    public init(max: Int, seconds: Int, reason: String) {
        self.max = max
        self.seconds = seconds
        self.reason = reason
    }
}

/// The providers a build knows, by name: what the parser checks `channels:` against.
public struct ProviderCatalog: Sendable {
    /// Every provider, in the registry's order.
    public let specs: [ProviderSpec]
    private let byName: [String: ProviderSpec]

    public init(_ specs: [ProviderSpec]) {
        self.specs = specs
        self.byName = Dictionary(specs.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The provider called `name`.
    public subscript(name: String) -> ProviderSpec? { byName[name] }

    /// The names, sorted.
    public var names: [String] { byName.keys.sorted() }

    /// Whether the channel's provider sends email to people's inboxes.
    public func sendsEmailToInboxes(_ channel: ChannelConfig?) -> Bool {
        channel.flatMap { self[$0.provider] }?.sendsEmailToInboxes == true
    }
}
/// `serve:` in nudge.yaml: where `nudge serve` can be reached from outside, and the secret of unsubscribe links.
public struct ServeConfig: Sendable {
    /// The public base URL of `nudge serve` (e.g. `https://hooks.example.com`): unsubscribe links and Twilio's
    /// status callbacks point there, and Twilio signs requests with it.
    public var publicURL: String?
    /// The environment variable holding the key that signs unsubscribe links.
    public var unsubscribeSecretEnv: String?
    /// Where `serve:` is written.
    public var location: SourceLocation

    static let keys = ["public_url", "unsubscribe_secret_env"]

    public init(publicURL: String? = nil, unsubscribeSecretEnv: String? = nil, location: SourceLocation) {
        self.publicURL = publicURL
        self.unsubscribeSecretEnv = unsubscribeSecretEnv
        self.location = location
    }

    static func parse(_ node: YAMLNode, diagnostics: inout Diagnostics) -> ServeConfig? {
        guard
            let reader = MappingReader(
                node, context: "serve", allowed: keys, diagnostics: &diagnostics)
        else { return nil }
        var config = ServeConfig(location: node.location)
        for key in ["public_url", "unsubscribe_secret_env"] {
            guard let (value, valueNode) = reader.string(key, diagnostics: &diagnostics) else { continue }
            if let problem = ChannelSetting.problem(key: key, value: value) {
                diagnostics.error(problem, at: valueNode.location)
                continue
            }
            if key == "public_url" {
                config.publicURL = value.hasSuffix("/") ? String(value.dropLast()) : value
            } else {
                config.unsubscribeSecretEnv = value
            }
        }
        return config
    }
}

/// Loose checks of addresses written in nudge.yaml (the providers do the strict ones).
public enum EmailAddress {
    /// `local@domain.tld`, no spaces or angle brackets.
    public static func isPlausible(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !parts[1].hasPrefix("."),
            !parts[1].hasSuffix(".")
        else { return false }
        return !text.contains(where: { $0.isWhitespace || "<>,;\"".contains($0) })
    }
}

/// SMS sender ids: an E.164 number, a short code, or an alphanumeric id.
public enum SMSSender {
    public static func isPlausible(_ text: String) -> Bool {
        if text.hasPrefix("+") { return text.count >= 8 && text.count <= 16 && text.dropFirst().allSatisfy(\.isASCII) && text.dropFirst().allSatisfy(\.isNumber) }
        return (1...11).contains(text.count) && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) }
    }
}
