public import NudgeDelivery
public import NudgeLanguage
public import NudgeCore

/// `provider: file`: every message as a JSON line in a file (`path`, default `outbox/<channel>.jsonl`).
public struct FileProvider: Provider {
    public static let name = "file"
    public init() {}

    public var spec: ProviderSpec {
        ProviderSpec(name: Self.name, optional: ["path"], channels: Set(Channel.allCases))
    }

    public func makeAdapter(_ context: Adapters.Context) throws -> any ChannelAdapter {
        FileAdapter(path: context.resolve(context.settings["path"] ?? Self.defaultPath(context.channel)))
    }

    /// Where a channel's messages go without `path`: `outbox/<channel>.jsonl` (shared by its platforms' file
    /// providers, which append under one lock).
    public static func defaultPath(_ channel: Channel) -> String { "outbox/\(channel.rawValue).jsonl" }
}
