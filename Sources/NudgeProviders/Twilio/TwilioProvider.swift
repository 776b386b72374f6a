public import NudgeDelivery
public import NudgeLanguage
public import NudgeServer
import NudgeCore

/// `provider: twilio`: SMS through Twilio's Messages API; status callbacks and STOP/START replies through its
/// signed webhooks (which need `serve.public_url`).
public struct TwilioProvider: Provider {
    public static let name = "twilio"
    public static let webhookPaths = [TwilioWebhooks.statusPath, TwilioWebhooks.inboundPath]
    public init() {}

    public var spec: ProviderSpec {
        ProviderSpec(
            name: Self.name, required: ["account_sid", "auth_token_env"],
            optional: ["from", "messaging_service_sid", "api_key_sid", "webhook_auth_token_env", "base_url"]
                + ProviderSpec.network,
            channels: [.sms],
            check: { settings in
                if let from = settings["from"], !SMSSender.isPlausible(from) {
                    return "'from' must be an E.164 number such as +15551234567 or a sender id of 1-11 letters and digits"
                }
                return (settings["from"] == nil) == (settings["messaging_service_sid"] == nil)
                    ? "set exactly one of 'from' (a number or sender id) and 'messaging_service_sid'" : nil
            },
            warnings: { channel, config in
                guard config.serve?.publicURL == nil else { return [] }
                return [
                    Diagnostic(
                        .warning,
                        "without serve.public_url Twilio sends no delivery status, and an answer lost to a 5xx or a "
                            + "timeout is not retried (the request could not carry the outbox id)", at: channel.location)
                ]
            })
    }

    public func makeAdapter(_ context: Adapters.Context) throws -> any ChannelAdapter {
        try TwilioAdapter(context: context)
    }

    public func webhooks(
        _ config: ProjectConfig, environment: [String: String], resolve: @escaping @Sendable (String) -> String
    ) throws(ServerSettings.ConfigurationError)
        -> (any ProviderWebhooks)?
    {
        // Twilio signs callbacks with the account's auth token; with an API key (api_key_sid) `auth_token_env` holds
        // the key's secret instead, and `webhook_auth_token_env` names the auth token.
        let sms = config.channels[.sms]
        let key = sms?.settings["api_key_sid"] != nil || sms?.settings["webhook_auth_token_env"] != nil
            ? "webhook_auth_token_env" : "auth_token_env"
        let token = ServerSettings.secret(key, of: sms, channelName: "sms", provider: Self.name, environment: environment)
        return TwilioWebhooks(verifier: token.value.map(TwilioSignature.init(authToken:)), problem: token.problem)
    }
}
