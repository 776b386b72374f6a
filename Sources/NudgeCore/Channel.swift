import Foundation

/// A delivery channel.
public enum Channel: String, Sendable, Hashable, CaseIterable, Codable, Comparable {
    case email, sms, push, wallet

    /// The front-matter key this channel's templates must carry, if any.
    public var headingKey: String? {
        switch self {
        case .email: return "subject"
        case .push: return "title"
        case .wallet: return "header"
        case .sms: return nil
        }
    }

    /// The platforms a channel can have one provider each for (`push: { android: …, ios: … }`), matched against
    /// the customer's `push_platform` or `wallet_platform`; none for email and SMS.
    public var platforms: [String] {
        switch self {
        case .push: return ["android", "ios", "web"]
        case .wallet: return ["google", "apple"]
        case .email, .sms: return []
        }
    }

    /// The customers CSV column naming the customer's platform on this channel (`push_platform`, `wallet_platform`).
    public var platformColumn: String? { platforms.isEmpty ? nil : rawValue + "_platform" }

    public static func < (lhs: Channel, rhs: Channel) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}
