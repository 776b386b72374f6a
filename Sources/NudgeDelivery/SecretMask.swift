import Foundation
public import NudgeLanguage

/// Replaces the values of secrets with `****` in text bound for logs, the database and the terminal: a provider
/// that echoes a credential back in an error message must not get it written down.
public struct SecretMask: Sendable {
    /// The secret values, longest first (so a secret containing another is masked whole).
    let secrets: [String]
    /// What each secret is replaced with.
    let replacement: String

    /// A mask for `values`; values shorter than `minimumLength` are not masked (short ones such as a setting's
    /// secret would garble ordinary text; an adapter masking a known key and address can mask any non-empty one).
    public init(_ values: [String], replacement: String = "****", minimumLength: Int = 4) {
        secrets = Set(values.filter { $0.count >= max(1, minimumLength) }).sorted { $0.count > $1.count }
        self.replacement = replacement
    }

    /// `text` with every secret replaced.
    public func apply(_ text: String) -> String {
        var masked = text
        for secret in secrets where masked.contains(secret) {
            masked = masked.replacingOccurrences(of: secret, with: replacement)
        }
        return masked
    }

    /// The error with its message masked.
    public func apply(_ error: DeliveryError) -> DeliveryError {
        error.mapMessage(apply)
    }
}

extension SecretMask {
    /// A mask of every secret the configuration reads from the environment (channels' `…_env` settings and the
    /// unsubscribe secret).
    public init(config: ProjectConfig, environment: [String: String]) {
        var names = config.channels.values.flatMap(\.routes).flatMap { ProviderSpec.secretNames($0.config.settings).map(\.variable) }
        if let name = config.serve?.unsubscribeSecretEnv { names.append(name) }
        self.init(names.compactMap { environment[$0] })
    }
}
