public import NudgeDelivery
public import NudgeLanguage
import NudgeCore

/// `provider: smtp`: email through an SMTP server (STARTTLS, implicit TLS, or plain on this machine).
public struct SMTPProvider: Provider {
    public static let name = "smtp"
    public init() {}

    public var spec: ProviderSpec {
        ProviderSpec(
            name: Self.name, required: ["host", "from"],
            optional: ["port", "security", "username", "password_env", "from_name", "reply_to", "helo"]
                + ProviderSpec.network,
            channels: [.email], sendsEmailToInboxes: true,
            settingCheck: { key, value in
                guard key == "security" else { return nil }
                return ["starttls", "tls", "none"].contains(value)
                    ? nil : "'security' must be starttls (port 587), tls (port 465) or none, not '\(value)'"
            },
            check: { settings in
                if let problem = ProviderSpec.emailAddressProblem(settings) { return problem }
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
            })
    }

    public func makeAdapter(_ context: Adapters.Context) throws -> any ChannelAdapter {
        try SMTPAdapter(context: context)
    }
}
