public import Foundation

/// An offer as stored: what a `new_offer` occurrence announces.
public struct OfferState: Sendable, Hashable {
    public var id: String
    public var name: String?
    public var stampsRequired: Int
    /// When the offer was published (offers CSV `published_at`): a `new_offer` workflow announces it then.
    public var publishedAt: Date?
    /// The offer's category (offers CSV `category`), which `customer.preferences` may name.
    public var category: String?

    public init(id: String, name: String?, stampsRequired: Int, publishedAt: Date?, category: String?) {
        self.id = id
        self.name = name
        self.stampsRequired = stampsRequired
        self.publishedAt = publishedAt
        self.category = category
    }
}
