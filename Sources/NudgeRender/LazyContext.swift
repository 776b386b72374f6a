public import Mustache

/// A rendering context whose values are computed only when a template reads them.
///
/// The engine renders many messages from the same fields; building every field of every group for each message
/// (some need a query) costs far more than the few a template reads.
public struct LazyContext: MustacheParent {
    let lookup: (String) -> Any?

    /// A context answering each name with `lookup` (nil for a missing value).
    public init(_ lookup: @escaping (String) -> Any?) {
        self.lookup = lookup
    }

    public func child(named name: String) -> Any? {
        lookup(name)
    }
}
