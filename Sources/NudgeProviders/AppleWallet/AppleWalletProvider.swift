import Foundation
public import NudgeDelivery
public import NudgeLanguage
import NudgeCore

/// `provider: apple_wallet`: loyalty passes in Apple Wallet, signed with the pass type certificate
/// (`certificate_env`: its PEM and the private key's) and Apple's WWDR intermediate (`wwdr_certificate`, a path),
/// made from `Templates/<template>.pass/`. `nudge wallet pass` issues them; updating them on devices (the PassKit
/// web service of `nudge serve` and the pushes that announce a change) is not built yet.
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
            warnings: { channel, _ in
                [
                    Diagnostic(
                        .warning,
                        "apple_wallet: 'nudge wallet pass' issues passes, but wallet messages to Apple passes fail until Nudge's PassKit web service is built",
                        at: channel.location)
                ]
            }, fileCheck: { channel, project in Self.checkFiles(channel, project: project) })
        spec.platforms = ["apple"]
        return spec
    }

    public func makeAdapter(_ context: Adapters.Context) throws -> any ChannelAdapter {
        AppleWalletAdapter(settings: context.settings)
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

/// The `apple_wallet` provider's messages: they need the PassKit web service, which is not built yet, so each fails
/// with that reason (never silently).
public struct AppleWalletAdapter: ChannelAdapter {
    public let settings: [String: String]

    public func deliver(_ message: OutboundMessage) async throws -> DeliveryReceipt {
        throw DeliveryError.permanent(
            "Apple Wallet pass updates are not delivered yet (Nudge's PassKit web service is not built); the message was not sent")
    }
}
