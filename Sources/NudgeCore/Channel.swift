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

    public static func < (lhs: Channel, rhs: Channel) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}
