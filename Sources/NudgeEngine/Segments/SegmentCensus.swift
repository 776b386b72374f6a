public import Foundation
public import NudgeLanguage
public import NudgeStore
public import NudgeCore

/// Who is in which segment at one instant: what `nudge segments` shows.
public struct SegmentCensus: Sendable {
    public let config: ProjectConfig
    public let store: any PlanningStore
    public let now: Date

    public init(config: ProjectConfig, store: any PlanningStore, now: Date) {
        self.config = config
        self.store = store
        self.now = now
    }

    /// Each segment with its number of members, in listing order.
    public func counts() async throws -> [(segment: Segment, count: Int)] {
        let book = try await self.book()
        var counts = [String: Int]()
        try await book.sweep(Set(config.segments.map(\.name)), store: store, config: config, now: now) { _, names in
            for name in names { counts[name, default: 0] += 1 }
        }
        return config.segments.map { ($0, counts[$0.name] ?? 0) }
    }

    /// One member of a segment with the values of the fields the segment reads.
    public struct Member: Sendable {
        public var customer: CustomerState
        /// In the order of `Listing.fields`.
        public var values: [Value]
    }

    /// A segment's members, in id order, and the fields it reads (through the segments it tests too).
    public struct Listing: Sendable {
        public var segment: Segment
        public var fields: [Field]
        public var members: [Member]
    }

    /// The members of the segment `name` (nil when there is no such segment).
    public func members(of name: String) async throws -> Listing? {
        guard let segment = config.segment(named: name) else { return nil }
        let book = try await self.book()
        let fields = Self.fields(readBy: book.closure(of: [name]).map { book.segments[$0] })
        var members: [Member] = []
        try await book.sweep([name], store: store, config: config, now: now) { view, names in
            guard names.contains(name) else { return }
            members.append(Member(customer: view.customer, values: fields.map { view.value(of: $0) }))
        }
        return Listing(segment: segment, fields: fields, members: members)
    }

    /// The book with every population the segments rank by.
    func book() async throws -> SegmentBook {
        try await SegmentBook.load(
            segments: config.segments, ranks: SegmentBook.ranks(segments: config.segments, conditions: []), store: store,
            config: config, now: now)
    }

    /// The fields `segments` read, but id, name and email (always shown) and `customer.segments`, in the order of
    /// the field list, attributes last by name.
    static func fields(readBy segments: [Segment]) -> [Field] {
        let read = segments.reduce(into: Set<Field>()) { $0.formUnion($1.fieldsRead) }
        let shown: Set<Field.CustomerField> = [.id, .name, .email, .segments]
        let customer = Field.CustomerField.allCases.filter { !shown.contains($0) && read.contains(.customer($0)) }
            .map(Field.customer)
        let attributes = read.compactMap { field -> String? in
            if case .attribute(let name) = field { return name }
            return nil
        }.sorted().map(Field.attribute)
        let business = Field.BusinessField.allCases.filter { read.contains(.business($0)) }.map(Field.business)
        return customer + attributes + business
    }
}
