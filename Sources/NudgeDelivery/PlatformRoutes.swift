public import NudgeCore

/// A channel with one provider per platform (`push: { android: { provider: fcm, … }, ios: { provider: apns, … } }`):
/// each message goes to the adapter of the platform the plan chose for it (the outbox row's `platform`).
public struct PlatformRoutes: ChannelAdapter {
    /// The channel, for error messages.
    public let channel: NudgeCore.Channel
    /// Each platform's adapter.
    public let adapters: [String: any ChannelAdapter]

    public init(channel: NudgeCore.Channel, adapters: [String: any ChannelAdapter]) {
        self.channel = channel
        self.adapters = adapters
    }

    /// The adapter of `message`'s platform, or the permanent failure of a message that names none configured (a
    /// platform block removed from nudge.yaml after the plan was committed).
    func route(_ message: OutboundMessage) -> Result<any ChannelAdapter, DeliveryError> {
        guard let platform = message.record.platform else {
            return .failure(.permanent("\(channel.rawValue) has a provider per platform, and the message names no platform"))
        }
        guard let adapter = adapters[platform] else {
            return .failure(.permanent("no \(channel.rawValue) provider is configured for platform '\(platform)'"))
        }
        return .success(adapter)
    }

    public func deliver(_ message: OutboundMessage) async throws -> DeliveryReceipt {
        try await route(message).get().deliver(message)
    }

    /// Each platform's messages go to its adapter as one batch, the platforms' batches side by side; the results
    /// come back in the batch's order.
    public func deliver(batch: [OutboundMessage]) async -> [Result<DeliveryReceipt, DeliveryError>] {
        var results = [Result<DeliveryReceipt, DeliveryError>?](repeating: nil, count: batch.count)
        var groups: [String: [Int]] = [:]
        for (index, message) in batch.enumerated() {
            switch route(message) {
            case .success: groups[message.record.platform!, default: []].append(index)
            case .failure(let error): results[index] = .failure(error)
            }
        }
        await withTaskGroup(of: ([Int], [Result<DeliveryReceipt, DeliveryError>]).self) { group in
            for (platform, indices) in groups {
                guard let adapter = adapters[platform] else { continue }
                let messages = indices.map { batch[$0] }
                group.addTask { (indices, await adapter.deliver(batch: messages)) }
            }
            for await (indices, outcomes) in group {
                for (index, outcome) in zip(indices, outcomes) { results[index] = outcome }
            }
        }
        return results.map { $0 ?? .failure(.transient("not attempted")) }
    }
}
