import Foundation
import NudgeLanguage
public import NudgeCore

/// Consent and address rules, enforced for every workflow (design §5): the one place consent is decided.
public enum ChannelPolicy {
    /// Why a channel cannot carry a message to a customer.
    public struct Refusal: Error, Sendable {
        public var text: String
    }

    /// The customer's address on `channel`, or why there is none.
    public static func recipient(on channel: Channel, for customer: CustomerState) -> Result<String, Refusal> {
        func present(_ value: String?) -> String? {
            guard let value else { return nil }
            // Any printable ASCII byte makes it present; only text of spaces and other characters is trimmed.
            if value.utf8.contains(where: { $0 > 0x20 && $0 < 0x7f }) { return value }
            return value.trimmingCharacters(in: .whitespaces).isEmpty ? nil : value
        }
        let address: String?
        switch channel {
        case .email: address = present(customer.email)
        case .sms: address = present(customer.phone)
        case .push: address = present(customer.pushToken)
        case .wallet: address = present(customer.walletPassID)
        }
        guard let address else { return .failure(Refusal(text: missingAddress[channel] ?? "no address")) }
        if let refusal = consentRefusal(
            on: channel, emailOptIn: customer.isEmailOptIn, smsOptIn: customer.isSMSOptIn, pushOptIn: customer.isPushOptIn)
        {
            return .failure(refusal)
        }
        return .success(address)
    }

    /// The customer's address on `channel` and, when each platform has its own provider (`platforms`, keyed by
    /// platform; nil or empty for one provider), the customer's platform; or why the channel cannot carry it.
    public static func recipient<Route>(
        on channel: Channel, for customer: CustomerState, platforms: [String: Route]?
    ) -> Result<(recipient: String, platform: String?), Refusal> {
        let address: String
        switch recipient(on: channel, for: customer) {
        case .success(let found): address = found
        case .failure(let refusal): return .failure(refusal)
        }
        guard let platforms, !platforms.isEmpty else { return .success((address, nil)) }
        let column = channel.platformColumn ?? channel.rawValue + "_platform"
        guard let platform = channel == .push ? customer.pushPlatform : customer.walletPlatform else {
            return .failure(Refusal(text: "no \(column) (\(channel.rawValue) has a provider per platform)"))
        }
        guard platforms[platform] != nil else {
            return .failure(Refusal(text: "no \(channel.rawValue) provider for platform '\(platform)'"))
        }
        return .success((address, platform))
    }

    static let missingAddress: [Channel: String] = [
        .email: "no email address", .sms: "no phone number", .push: "no push token", .wallet: "no wallet pass",
    ]

    /// Whether the customer's consent lets `channel` carry a message: the plan asks it (through `recipient`), and
    /// so does the dispatcher when it claims a message, for an opt-out that came after the plan was committed.
    /// Wallet passes need no opt-in.
    public static func consentRefusal(on channel: Channel, emailOptIn: Bool, smsOptIn: Bool, pushOptIn: Bool) -> Refusal? {
        switch channel {
        case .email: return emailOptIn ? nil : Refusal(text: "not opted in to email")
        case .sms: return smsOptIn ? nil : Refusal(text: "not opted in to sms")
        case .push: return pushOptIn ? nil : Refusal(text: "not opted in to push")
        case .wallet: return nil
        }
    }

    /// At claim time: whether a committed message may still go out, from its channel and its customer's opt-ins
    /// as stored now (nil when the customer or the channel is gone: the message goes out as committed).
    public static func stillConsents(channel: String?, emailOptIn: Bool?, smsOptIn: Bool?, pushOptIn: Bool?) -> Bool {
        guard let channel = channel.flatMap(Channel.init(rawValue:)), let emailOptIn, let smsOptIn, let pushOptIn else {
            return true
        }
        return consentRefusal(on: channel, emailOptIn: emailOptIn, smsOptIn: smsOptIn, pushOptIn: pushOptIn) == nil
    }
}
