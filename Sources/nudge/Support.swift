import ArgumentParser
import Foundation
import NudgeDelivery
import NudgeLanguage
import NudgeProviders
import NudgeStore
import NudgeCore

/// Fails with exit 1 when the configuration names secrets the environment lacks, naming each at its place in
/// nudge.yaml (never a value), before anything is read or written.
func requireSecrets(_ config: ProjectConfig, environment: [String: String]) throws {
    let missing = Providers.missingSecrets(config, environment: environment)
    for secret in missing {
        Console.error(
            "\(secret.location): error: \(secret.owner) needs the environment variable \(secret.variable) "
                + "(\(secret.key)), which is not set")
    }
    if !missing.isEmpty { throw ExitCode(1) }
}

/// The instant of `--now`: ISO 8601, a date or local time read in `zone`; the current time when absent.
func parseNow(_ text: String?, zone: TimeZone) -> Date? {
    guard let text else { return Date() }
    return ISO8601.parse(text, zone: zone)
}

/// Throws the usage error for a malformed `--now`.
func validateNow(_ now: String?) throws {
    if let now, ISO8601.parse(now, zone: TimeZone(identifier: "UTC")!) == nil {
        throw ValidationError("'--now \(now)' is not an ISO 8601 instant such as 2026-11-25T09:00:00Z")
    }
}

/// `--now` for commands that evaluate at an instant, checked before anything runs.
struct NowOption: ParsableArguments {
    @Option(help: "Evaluate at this instant (ISO 8601; default: now).")
    var now: String?

    func validate() throws {
        try validateNow(now)
    }

    /// The instant (a date or local time read in `zone`).
    func instant(in zone: TimeZone) throws -> Date {
        guard let instant = parseNow(now, zone: zone) else { throw ValidationError("'--now' is not an ISO 8601 instant") }
        return instant
    }
}

/// Left-aligned columns separated by two spaces; the last column is not padded.
func formatTable(_ rows: [[String]]) -> String {
    tableLines(rows).joined(separator: "\n")
}

/// The lines of `formatTable`, one per row.
func tableLines(_ rows: [[String]]) -> [String] {
    guard let width = rows.map(\.count).max() else { return [] }
    var widths = [Int](repeating: 0, count: width)
    for row in rows {
        for (i, cell) in row.enumerated() where i < width - 1 { widths[i] = max(widths[i], cell.count) }
    }
    return rows.map { row in
        row.enumerated().map { i, cell in
            i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
        }.joined(separator: "  ")
    }
}
