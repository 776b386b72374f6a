import Foundation
import NudgeCore

/// Parsers for the channel settings of nudge.yaml, shared by `check` and the adapters.
public enum ChannelSetting {
    /// Seconds in `15`, `15s`, `1.5s`, `500ms` or a duration such as `2m`; nil for anything else.
    public static func seconds(_ text: String) -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let value: Double?
        if trimmed.hasSuffix("ms") {
            value = Double(trimmed.dropLast(2)).map { $0 / 1000 }
        } else if trimmed.hasSuffix("s") {
            value = Double(trimmed.dropLast())
        } else {
            value = Double(trimmed) ?? DurationSpec(parsing: trimmed).map { Double($0.seconds) }
        }
        guard let value, value.isFinite else { return nil }
        return value
    }

    /// Messages per second in `50/s`, `600/m` or `3600/h`; nil for anything else.
    public static func rate(_ text: String) -> Double? {
        let parts = text.replacingOccurrences(of: " ", with: "").split(separator: "/")
        guard parts.count == 2, let count = Double(parts[0]), count.isFinite, count > 0 else { return nil }
        switch parts[1] {
        case "s": return count
        case "m": return count / 60
        case "h": return count / 3600
        default: return nil
        }
    }

    /// Checks one setting's value by the rules every provider shares; returns the problem, or nil when it is valid.
    public static func problem(key: String, value: String) -> String? {
        if key.hasSuffix("_env") {
            let valid = !value.isEmpty && !value.first!.isNumber
                && value.unicodeScalars.allSatisfy { ($0.isASCII && CharacterSet.alphanumerics.contains($0)) || $0 == "_" }
            return valid ? nil : "'\(key)' names an environment variable (letters, digits, _), not a secret"
        }
        switch key {
        case "url", "base_url", "public_url":
            guard let url = URL(string: value), let scheme = url.scheme, ["http", "https"].contains(scheme),
                url.host?.isEmpty == false
            else { return "'\(key)' must be an http or https URL, not '\(value)'" }
            // A provider's API key travels with every request: plain http only to a server on this machine.
            if key == "base_url", scheme == "http", !["127.0.0.1", "localhost", "::1", "[::1]"].contains((url.host ?? "").lowercased()) {
                return "'base_url' must be https (every request carries the API credentials); http is only for this machine (127.0.0.1, localhost, ::1)"
            }
            return nil
        case "port":
            guard let port = Int(value), (1...65535).contains(port) else {
                return "'port' must be a TCP port from 1 to 65535, not '\(value)'"
            }
            return nil
        case "rate":
            return rate(value) == nil ? "'rate' must be a rate such as 50/s, 600/m or 3600/h, not '\(value)'" : nil
        case "timeout":
            guard let seconds = seconds(value), seconds > 0, seconds <= 3600 else {
                return "'timeout' must be like 15s, 500ms or 2m (at most 1h), not '\(value)'"
            }
            return nil
        case "concurrency":
            guard let count = Int(value), (1...256).contains(count) else {
                return "'concurrency' must be a whole number from 1 to 256, not '\(value)'"
            }
            return nil
        case "max_attempts":
            guard let count = Int(value), (1...100).contains(count) else {
                return "'max_attempts' must be a whole number from 1 to 100, not '\(value)'"
            }
            return nil
        case "max_age":
            guard let duration = DurationSpec(parsing: value), duration.seconds > 0 else {
                return "'max_age' must be a duration such as 12h, 1d or 3d, not '\(value)'"
            }
            return nil
        default:
            return nil
        }
    }
}
