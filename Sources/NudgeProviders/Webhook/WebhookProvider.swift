public import NudgeDelivery
public import NudgeLanguage
import NudgeCore

/// `provider: webhook`: every message POSTed as JSON to `url`, signed per Standard Webhooks with `secret_env`.
public struct WebhookProvider: Provider {
    public static let name = "webhook"
    public init() {}

    public var spec: ProviderSpec {
        ProviderSpec(
            name: Self.name, required: ["url", "secret_env"], optional: ProviderSpec.network,
            channels: Set(Channel.allCases))
    }

    public func makeAdapter(_ context: Adapters.Context) throws -> any ChannelAdapter {
        WebhookAdapter(
            url: try context.setting("url"), secret: try context.secret("secret_env"), client: context.client,
            timeout: context.timeout, concurrency: context.concurrency, rateLimiter: context.rateLimiter)
    }
}
