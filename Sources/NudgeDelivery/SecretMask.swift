import Foundation
public import NudgeLanguage

/// Replaces the values of secrets with `****` in text bound for logs, the database and the terminal: a provider
/// that echoes a credential back in an error message must not get it written down.
public struct SecretMask: Sendable {
    /// The secret values, longest first (so a secret containing another is masked whole).
    let secrets: [String]

    /// A mask for `values`; values shorter than 4 characters are not masked (they would garble ordinary text).
    public init(_ values: [String]) {
        secrets = Set(values.filter { $0.count >= 4 }).sorted { $0.count > $1.count }
    }

    /// `text` with every secret replaced by `****`.
    public func apply(_ text: String) -> String {
        var masked = text
        for secret in secrets where masked.contains(secret) {
            masked = masked.replacingOccurrences(of: secret, with: "****")
        }
        return masked
    }

    /// The error with its message masked.
    public func apply(_ error: DeliveryError) -> DeliveryError {
        switch error {
        case .transient(let message, let retryAfter): return .transient(apply(message), retryAfter: retryAfter)
        case .permanent(let message): return .permanent(apply(message))
        case .postponed(let message, let retryAfter): return .postponed(apply(message), retryAfter: retryAfter)
        }
    }
}

extension SecretMask {
    /// A mask of every secret the configuration reads from the environment (channels' `…_env` settings and the
    /// unsubscribe secret).
    public init(config: ProjectConfig, environment: [String: String]) {
        var names = config.channels.values.flatMap { ProviderSpec.secretNames($0.settings).map(\.variable) }
        if let name = config.serve?.unsubscribeSecretEnv { names.append(name) }
        self.init(names.compactMap { environment[$0] })
    }
}
