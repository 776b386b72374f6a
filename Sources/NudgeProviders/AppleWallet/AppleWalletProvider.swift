import Foundation
public import NudgeDelivery
public import NudgeServer
public import NudgeLanguage
import NudgeCore

/// `provider: apple_wallet`: loyalty passes in Apple Wallet, signed with the pass type certificate
/// (`certificate_env`: its PEM and the private key's) and Apple's WWDR intermediate (`wwdr_certificate`, a path),
/// made from `Templates/<template>.pass/`. `nudge wallet pass` issues them, `nudge serve` keeps them up to date on the
/// devices that hold them (`PassKitService`), and a wallet message is recorded on the pass and announced to those
/// devices (`AppleWalletAdapter`).
public struct AppleWalletProvider: Provider {
    public static let name = "apple_wallet"
    public init() {}

    public var spec: ProviderSpec {
        var spec = ProviderSpec(
            name: Self.name,
            required: ["pass_type_id", "team_id", "certificate_env", "wwdr_certificate", "template", "auth_secret_env"],
            optional: ["offer", "base_url", "ca_file"] + ProviderSpec.network, channels: [.wallet],
            settingCheck: { key, value in
                switch key {
                case "pass_type_id":
                    return value.hasPrefix("pass.") && value.count > 5
                        ? nil : "'pass_type_id' must be the pass type identifier, such as pass.com.beanthere.loyalty, not '\(value)'"
                case "team_id":
                    return value.count == 10 && value.allSatisfy { $0.isASCII && ($0.isUppercase || $0.isNumber) }
                        ? nil : "'team_id' must be Apple's 10-character team id, such as ABCDE12345, not '\(value)'"
                case "template":
                    return value.isEmpty || value.contains("/")
                        ? "'template' must be a template name: the pass is Templates/<template>.pass/pass.json" : nil
                default: return nil
                }
            },
            warnings: { channel, config in
                config.serve?.publicURL == nil
                    ? [
                        Diagnostic(
                            .warning,
                            "apple_wallet: without serve.public_url passes carry no web service: they never update and no device registers for messages",
                            at: channel.location)
                    ] : []
            }, fileCheck: { channel, project in Self.checkFiles(channel, project: project) })
        spec.platforms = ["apple"]
        spec.needsRegisteredDevice = true
        return spec
    }

    public static var webhookPaths: [String] { PassKitService.paths }

    public func makeAdapter(_ context: Adapters.Context) throws -> any ChannelAdapter {
        try AppleWalletAdapter(context: context)
    }

    /// The PassKit web service: its routes answer 503 without an `apple_wallet` provider or when the passes cannot
    /// be issued (a secret or file missing), with why.
    public func webhooks(
        _ config: ProjectConfig, environment: [String: String], resolve: @escaping @Sendable (String) -> String
    ) throws(ServerSettings.ConfigurationError) -> (any ProviderWebhooks)? {
        guard let route = config.channels[.wallet]?.routes.first(where: { $0.config.provider == Self.name })?.config
        else { return PassKitService(passes: nil, problem: "no apple_wallet provider under channels.wallet in nudge.yaml") }
        do {
            return PassKitService(
                passes: try ApplePasses(
                    settings: route.settings, environment: environment, resolve: resolve,
                    publicURL: config.serve?.publicURL, businessName: config.businessName))
        } catch {
            return PassKitService(passes: nil, problem: "apple_wallet: \(error.description)")
        }
    }

    /// The WWDR certificate must be a readable PEM certificate, and the pass template a folder with a `pass.json`
    /// that parses as Mustache.
    static func checkFiles(_ channel: ChannelConfig, project: URL) -> [Diagnostic] {
        var found: [Diagnostic] = []
        if let path = channel.settings["wwdr_certificate"] {
            let file = path.hasPrefix("/") ? URL(fileURLWithPath: path) : project.appendingPathComponent(path)
            if let text = try? String(contentsOf: file, encoding: .utf8) {
                if !PassSigner.isCertificate(text) {
                    found.append(
                        Diagnostic(.error, "wwdr_certificate: \(path) is not a PEM certificate", at: channel.location,
                            suggestion: "download Apple's WWDR intermediate certificate and convert it to PEM"))
                }
            } else {
                found.append(Diagnostic(.error, "wwdr_certificate: cannot read \(path)", at: channel.location))
            }
        }
        if let name = channel.settings["template"], !name.contains("/") {
            let folder = project.appendingPathComponent("Templates/\(name).pass")
            do {
                _ = try PassTemplate(folder: folder)
            } catch {
                found.append(
                    Diagnostic(
                        .error, "template: Templates/\(name).pass/pass.json: " + Self.reason(error.description),
                        at: channel.location))
            }
        }
        return found
    }

    /// A template problem without the absolute path it starts with.
    static func reason(_ description: String) -> String {
        guard let range = description.range(of: "pass.json: ") else { return description }
        return String(description[range.upperBound...])
    }
}
