public import NudgeDelivery
public import NudgeLanguage
public import NudgeServer
import NudgeCore

/// `provider: sendgrid`: email through SendGrid's v3 Mail Send API; delivery events through its signed Event
/// Webhook (`webhook_public_key_env`).
public struct SendGridProvider: Provider {
    public static let name = "sendgrid"
    public static let webhookPaths = [SendGridWebhooks.path]
    public init() {}

    public var spec: ProviderSpec {
        ProviderSpec(
            name: Self.name, required: ["api_key_env", "from"],
            optional: ["from_name", "reply_to", "base_url", "webhook_public_key_env"] + ProviderSpec.network,
            channels: [.email], sendsEmailToInboxes: true, check: ProviderSpec.emailAddressProblem)
    }

    public func makeAdapter(_ context: Adapters.Context) throws -> any ChannelAdapter {
        try SendGridAdapter(context: context)
    }

    public func webhooks(
        _ config: ProjectConfig, environment: [String: String], resolve: @escaping @Sendable (String) -> String
    ) throws(ServerSettings.ConfigurationError)
        -> (any ProviderWebhooks)?
    {
        let email = config.channels[.email]
        switch ServerSettings.secret(
            "webhook_public_key_env", of: email, channelName: "email", provider: Self.name, environment: environment)
        {
        case .value(let text, let variable):
            guard let verifier = SendGridSignature(publicKey: text) else {
                let location = email.map { "\($0.location): " } ?? ""
                throw ServerSettings.ConfigurationError(
                    description: "\(location)error: the environment variable \(variable) (webhook_public_key_env) "
                        + "is not a base64 DER P-256 public key as SendGrid shows it")
            }
            return SendGridWebhooks(verifier: verifier)
        case .missing(let reason): return SendGridWebhooks(verifier: nil, problem: reason)
        }
    }
}
