public import NudgeDelivery
public import NudgeLanguage
public import NudgeServer

/// Everything about one provider, declared in its folder: its settings and their checks (`spec`), its adapter,
/// and its inbound routes for `nudge serve`. `Providers.all` lists them.
public protocol Provider: Sendable {
    /// The name written as `provider:` in nudge.yaml.
    static var name: String { get }
    /// Its settings, channels, checks and `nudge check` warnings.
    var spec: ProviderSpec { get }
    /// The adapter of a channel configured with this provider (settings already checked by `spec`).
    func makeAdapter(_ context: Adapters.Context) throws -> any ChannelAdapter
    /// Its routes for `nudge serve`, with the keys from `environment` that the channel's settings name; nil when it
    /// has none.
    func webhooks(
        _ config: ProjectConfig, environment: [String: String], resolve: @escaping @Sendable (String) -> String
    ) throws(ServerSettings.ConfigurationError)
        -> (any ProviderWebhooks)?
    /// The paths of those routes, declared for help texts (making the routes to learn them costs every command's
    /// start a configuration; a test checks the two agree).
    static var webhookPaths: [String] { get }
}

extension Provider {
    public static var webhookPaths: [String] { [] }

    public func webhooks(
        _ config: ProjectConfig, environment: [String: String], resolve: @escaping @Sendable (String) -> String
    ) throws(ServerSettings.ConfigurationError)
        -> (any ProviderWebhooks)?
    { nil }
}
