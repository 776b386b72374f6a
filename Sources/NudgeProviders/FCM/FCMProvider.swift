public import NudgeDelivery
public import NudgeLanguage
import NudgeCore

/// `provider: fcm`: push notifications through Firebase Cloud Messaging (HTTP v1), signed in as the project's
/// service account: `credentials_env` names a variable holding the key file's JSON or its path.
public struct FCMProvider: Provider {
    public static let name = "fcm"
    public init() {}

    public var spec: ProviderSpec {
        ProviderSpec(
            name: Self.name, required: ["project_id", "credentials_env"], optional: ["base_url"] + ProviderSpec.network,
            channels: [.push])
    }

    public func makeAdapter(_ context: Adapters.Context) throws -> any ChannelAdapter {
        try FCMAdapter(context: context)
    }
}
