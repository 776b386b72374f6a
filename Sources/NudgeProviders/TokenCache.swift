import Foundation

/// A bearer token kept until shortly before it expires, made by one request for every caller waiting for it: a
/// batch of deliveries at once would otherwise each make their own (Google's token endpoint would be asked once per
/// message, and Apple refuses provider tokens renewed too often).
actor TokenCache {
    private var current: (token: String, expires: Date)?
    private var pending: Task<(token: String, expires: Date), any Error>?

    /// The kept token while `now` is more than `margin` before its expiry; else a new one from `make`.
    func token(
        now: Date, margin: TimeInterval, make: @escaping @Sendable () async throws -> (token: String, expires: Date)
    ) async throws -> String {
        if let current, now < current.expires.addingTimeInterval(-margin) { return current.token }
        if let pending { return try await pending.value.token }
        let making = Task { try await make() }
        pending = making
        defer { pending = nil }
        let made = try await making.value
        current = made
        return made.token
    }

    /// Forgets `token` if it is still the one kept (the service refused it): the next `token` makes another.
    func invalidate(_ token: String) {
        if current?.token == token { current = nil }
    }
}
