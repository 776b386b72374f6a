import Foundation

/// What a provider of nudge.yaml takes: its settings (secrets only as `…_env` names) and the channels it carries.
public struct ProviderSpec: Sendable {
    /// Settings that must be present.
    public var required: [String]
    /// Settings that may be present.
    public var optional: [String]
    /// The channels this provider can carry.
    public var channels: Set<Channel>
    /// A check across settings (e.g. "exactly one of from and messaging_service_sid"); returns the problem.
    public var check: (@Sendable ([String: String]) -> String?)?

    /// Settings every network provider takes: timeouts, throughput and retries.
    public static let network = ["timeout", "rate", "concurrency", "max_attempts", "max_age"]

    /// Email providers' `from` and `reply_to` must be addresses.
    static let emailAddresses: @Sendable ([String: String]) -> String? = { settings in
        for key in ["from", "reply_to"] {
            if let value = settings[key], !EmailAddress.isPlausible(value) {
                return "'\(key)' must be an email address such as offers@example.com, not '\(value)'"
            }
        }
        return nil
    }

    /// Every provider by name.
    public static let all: [String: ProviderSpec] = [
        "file": ProviderSpec(required: [], optional: ["path"], channels: Set(Channel.allCases)),
        "webhook": ProviderSpec(required: ["url", "secret_env"], optional: network, channels: Set(Channel.allCases)),
        "sendgrid": ProviderSpec(
            required: ["api_key_env", "from"],
            optional: ["from_name", "reply_to", "base_url", "webhook_public_key_env"] + network, channels: [.email],
            check: emailAddresses),
        "mailgun": ProviderSpec(
            required: ["api_key_env", "domain", "from"],
            optional: ["from_name", "reply_to", "base_url", "webhook_signing_key_env"] + network, channels: [.email],
            check: emailAddresses),
        "smtp": ProviderSpec(
            required: ["host", "from"],
            optional: ["port", "security", "username", "password_env", "from_name", "reply_to", "helo"] + network,
            channels: [.email],
            check: { settings in
                if let problem = emailAddresses(settings) { return problem }
                if settings["username"] != nil, settings["password_env"] == nil {
                    return "'username' needs 'password_env' (the environment variable holding the password)"
                }
                if settings["password_env"] != nil, settings["username"] == nil {
                    return "'password_env' needs 'username'"
                }
                if settings["security"] == "none", settings["username"] != nil {
                    return "refusing to send a password without TLS: use security: starttls or tls"
                }
                return nil
            }),
        "twilio": ProviderSpec(
            required: ["account_sid", "auth_token_env"],
            optional: ["from", "messaging_service_sid", "api_key_sid", "webhook_auth_token_env", "base_url"] + network,
            channels: [.sms],
            check: { settings in
                if let from = settings["from"], !SMSSender.isPlausible(from) {
                    return "'from' must be an E.164 number such as +15551234567 or a sender id of 1-11 letters and digits"
                }
                return (settings["from"] == nil) == (settings["messaging_service_sid"] == nil)
                    ? "set exactly one of 'from' (a number or sender id) and 'messaging_service_sid'" : nil
            }),
        "sns": ProviderSpec(
            required: ["region", "access_key_id_env", "secret_access_key_env"],
            optional: ["session_token_env", "sender_id", "sms_type", "base_url"] + network, channels: [.sms]),
    ]

    /// The names of the environment variables a channel's settings refer to (`…_env` keys), sorted by key.
    public static func secretNames(_ settings: [String: String]) -> [(key: String, variable: String)] {
        settings.filter { $0.key.hasSuffix("_env") }.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
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

    public init(publicURL: String? = nil, unsubscribeSecretEnv: String? = nil, location: SourceLocation) {
        self.publicURL = publicURL
        self.unsubscribeSecretEnv = unsubscribeSecretEnv
        self.location = location
    }

    static func parse(_ node: YAMLNode, diagnostics: inout Diagnostics) -> ServeConfig? {
        guard
            let reader = MappingReader(
                node, context: "serve", allowed: ["public_url", "unsubscribe_secret_env"], diagnostics: &diagnostics)
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
