import Foundation

/// `application/x-www-form-urlencoded` text, decoded in order (repeated names kept).
public enum FormParameters {
    /// The name-value pairs of `text`, or nil when an escape is malformed.
    public static func parse(_ text: String) -> [(name: String, value: String)]? {
        var parameters: [(name: String, value: String)] = []
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = decode(parts[0]), let value = decode(parts.count > 1 ? parts[1] : "") else { return nil }
            parameters.append((name, value))
        }
        return parameters
    }

    private static func decode(_ text: Substring) -> String? {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }
}

extension Array where Element == (name: String, value: String) {
    /// The first value named `name`.
    public subscript(first name: String) -> String? {
        first { $0.name == name }?.value
    }
}
