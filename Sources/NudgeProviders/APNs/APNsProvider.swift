public import NudgeDelivery
public import NudgeLanguage
import NudgeCore

/// `provider: apns`: push notifications to iOS apps through the Apple Push Notification service (HTTP/2), with token
/// authentication: `key_env` names a variable holding the `.p8` key's text.
public struct APNsProvider: Provider {
    public static let name = "apns"
    public init() {}

    public var spec: ProviderSpec {
        ProviderSpec(
            name: Self.name, required: ["team_id", "key_id", "key_env", "topic"],
            optional: ["environment", "base_url", "ca_file"] + ProviderSpec.network, channels: [.push],
            settingCheck: { key, value in
                switch key {
                case "environment" where !["production", "sandbox"].contains(value):
                    return "'environment' must be production or sandbox, not '\(value)'"
                case "team_id", "key_id":
                    let isID = value.count == 10 && value.allSatisfy { $0.isASCII && ($0.isUppercase || $0.isNumber) }
                    return isID ? nil : "'\(key)' must be Apple's 10-character id (capital letters and digits), not '\(value)'"
                default:
                    return nil
                }
            })
    }

    public func makeAdapter(_ context: Adapters.Context) throws -> any ChannelAdapter {
        try APNsAdapter(context: context)
    }
}
