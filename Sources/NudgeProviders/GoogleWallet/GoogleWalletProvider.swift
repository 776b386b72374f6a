public import NudgeDelivery
public import NudgeLanguage
import NudgeCore

/// `provider: google_wallet`: a message on the customer's Google Wallet loyalty pass (`addMessage`, shown on the
/// lock screen), and the pass's stamp count kept in step with the customer's card after each run. Signed in as a
/// service account (`credentials_env`, as for FCM) of the issuer `issuer_id`.
public struct GoogleWalletProvider: Provider {
    public static let name = "google_wallet"
    public init() {}

    /// Google lets a pass notify its holder at most three times in 24 hours.
    public static let window = RecipientWindow(
        max: 3, seconds: 86_400, reason: "Google Wallet notifies a pass at most 3 times in 24 h")

    public var spec: ProviderSpec {
        var spec = ProviderSpec(
            name: Self.name, required: ["issuer_id", "credentials_env"],
            optional: ["class_id", "offer", "base_url"] + ProviderSpec.network, channels: [.wallet],
            settingCheck: { key, value in
                switch key {
                case "issuer_id":
                    return value.allSatisfy(\.isASCIIDigit) && !value.isEmpty
                        ? nil : "'issuer_id' must be the issuer's number from the Google Pay & Wallet console, not '\(value)'"
                case "class_id":
                    return GoogleWalletAdapter.isIdentifier(value)
                        ? nil : "'class_id' must be letters, digits, '.', '_' and '-' (the loyalty class's id), not '\(value)'"
                default: return nil
                }
            }, recipientWindow: Self.window)
        spec.platforms = ["google"]
        return spec
    }

    public func makeAdapter(_ context: Adapters.Context) throws -> any ChannelAdapter {
        try GoogleWalletAdapter(context: context)
    }
}
