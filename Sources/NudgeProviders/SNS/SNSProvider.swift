public import NudgeDelivery
public import NudgeLanguage
import NudgeCore

/// `provider: sns`: SMS through Amazon SNS's Publish action, signed with AWS Signature Version 4.
public struct SNSProvider: Provider {
    public static let name = "sns"
    public init() {}

    public var spec: ProviderSpec {
        ProviderSpec(
            name: Self.name, required: ["region", "access_key_id_env", "secret_access_key_env"],
            optional: ["session_token_env", "sender_id", "sms_type", "base_url"] + ProviderSpec.network,
            channels: [.sms],
            settingCheck: { key, value in
                guard key == "sms_type" else { return nil }
                return ["Transactional", "Promotional"].contains(value)
                    ? nil : "'sms_type' must be Transactional or Promotional, not '\(value)'"
            })
    }

    public func makeAdapter(_ context: Adapters.Context) throws -> any ChannelAdapter {
        try SNSAdapter(context: context)
    }
}
