public import NudgeDelivery
public import NudgeLanguage
public import NudgeServer
import NudgeCore

/// `provider: mailgun`: email through Mailgun's messages API; events through its signed webhooks
/// (`webhook_signing_key_env`).
public struct MailgunProvider: Provider {
    public static let name = "mailgun"
    public static let webhookPaths = [MailgunWebhooks.path]
    public init() {}

    public var spec: ProviderSpec {
        ProviderSpec(
            name: Self.name, required: ["api_key_env", "domain", "from"],
            optional: ["from_name", "reply_to", "base_url", "webhook_signing_key_env"] + ProviderSpec.network,
            channels: [.email], sendsEmailToInboxes: true, check: ProviderSpec.emailAddressProblem)
    }

    public func makeAdapter(_ context: Adapters.Context) throws -> any ChannelAdapter {
        try MailgunAdapter(context: context)
    }

    public func webhooks(
        _ config: ProjectConfig, environment: [String: String], resolve: @escaping @Sendable (String) -> String
    ) throws(ServerSettings.ConfigurationError)
        -> (any ProviderWebhooks)?
    {
        let key = ServerSettings.secret(
            "webhook_signing_key_env", of: config.channels[.email], channelName: "email", provider: Self.name,
            environment: environment)
        return MailgunWebhooks(verifier: key.value.map(MailgunSignature.init(signingKey:)), problem: key.problem)
    }
}
