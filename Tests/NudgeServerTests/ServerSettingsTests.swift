import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NudgeLanguage
import NudgeProviders
import NudgeServer
import Testing

@Suite("Server settings from nudge.yaml and the environment")
struct ServerSettingsTests {
    static let yaml = """
        business:
          name: Bean There Café
          timezone: America/New_York
        channels:
          email: { provider: sendgrid, api_key_env: SG_KEY, from: offers@example.com, webhook_public_key_env: SG_WEBHOOK_KEY }
          sms:   { provider: twilio, account_sid: AC1, auth_token_env: TWILIO_TOKEN, from: "+15557122661" }
        serve:
          public_url: https://hooks.example.com/
          unsubscribe_secret_env: NUDGE_UNSUBSCRIBE_SECRET
        """

    static func config(_ text: String = yaml) throws -> ProjectConfig {
        var diagnostics = Diagnostics()
        let config = ProjectConfig.parse(text, file: "nudge.yaml", providers: Providers.catalog, diagnostics: &diagnostics)
        #expect(diagnostics.all.isEmpty, "\(diagnostics.all)")
        return config
    }

    static let sendGridKey = SignatureTests.sendGridKey

    @Test("with every key in the environment every route is live")
    func allLive() throws {
        let settings = try Providers.serverSettings(
            Self.config(),
            environment: ["SG_WEBHOOK_KEY": Self.sendGridKey, "TWILIO_TOKEN": "t", "NUDGE_UNSUBSCRIBE_SECRET": "s"])
        let off = settings.routes.filter { $0.problem != nil }.map(\.path)
        // Mailgun's route, and the PassKit web service (no apple_wallet channel).
        #expect(off.first == "/webhooks/mailgun" && off.dropFirst().allSatisfy { $0.hasPrefix("/passkit/v1/") } && off.count == 5)
        #expect(
            settings.routes.filter { $0.path.hasPrefix("/passkit/") }.allSatisfy {
                $0.problem == "no apple_wallet provider under channels.wallet in nudge.yaml"
            })
        #expect(
            settings.routes.first { $0.path == "/webhooks/mailgun" }?.problem == "channel 'email' does not use mailgun")
        #expect(settings.publicURL == "https://hooks.example.com")
        #expect(settings.businessName == "Bean There Café")
    }

    @Test("with a Twilio API key, callbacks are verified with the account's auth token from webhook_auth_token_env")
    func twilioAPIKey() throws {
        let yaml = Self.yaml.replacingOccurrences(
            of: "auth_token_env: TWILIO_TOKEN,", with: "auth_token_env: TWILIO_KEY_SECRET, api_key_sid: SK1,")
        let withoutToken = try Providers.serverSettings(
            Self.config(yaml), environment: ["TWILIO_KEY_SECRET": "key-secret", "NUDGE_UNSUBSCRIBE_SECRET": "s"])
        #expect(withoutToken.webhooks(TwilioWebhooks.self)?.verifier == nil, "the API key's secret does not verify Twilio's signatures")
        #expect(
            withoutToken.routes.first { $0.path == "/webhooks/twilio/status" }?.problem?.contains("webhook_auth_token_env")
                == true)
        let configured = yaml.replacingOccurrences(of: "api_key_sid: SK1,", with: "api_key_sid: SK1, webhook_auth_token_env: TWILIO_AUTH,")
        let settings = try Providers.serverSettings(
            Self.config(configured),
            environment: ["TWILIO_KEY_SECRET": "key-secret", "TWILIO_AUTH": "auth-token", "NUDGE_UNSUBSCRIBE_SECRET": "s"])
        let url = "https://hooks.example.com/webhooks/twilio/status?nudge_id=m1"
        #expect(
            settings.webhooks(TwilioWebhooks.self)?.verifier?.isValid(
                TwilioSignature(authToken: "auth-token").signature(url: url, parameters: []), url: url, parameters: [])
                == true)
    }

    @Test("a key missing from the environment turns its route off and says which variable")
    func missingKey() throws {
        let settings = try Providers.serverSettings(Self.config(), environment: ["NUDGE_UNSUBSCRIBE_SECRET": "s"])
        #expect(settings.webhooks(SendGridWebhooks.self)?.verifier == nil)
        #expect(settings.webhooks(TwilioWebhooks.self)?.verifier == nil)
        let problems = Dictionary(uniqueKeysWithValues: settings.routes.map { ($0.path, $0.problem) })
        #expect(
            problems["/webhooks/sendgrid"]
                == "the environment variable SG_WEBHOOK_KEY (webhook_public_key_env) is not set")
        #expect(
            problems["/webhooks/twilio/status"] == "the environment variable TWILIO_TOKEN (auth_token_env) is not set")
        #expect(problems["/unsubscribe/{token}"] == .some(nil))
        #expect(problems["/healthz"] == .some(nil))
    }

    @Test("an unsubscribe secret that is configured but not set stops the server from starting, naming the variable")
    func missingUnsubscribeSecret() throws {
        let config = try Self.config()
        #expect {
            try Providers.serverSettings(config, environment: ["SG_WEBHOOK_KEY": Self.sendGridKey])
        } throws: { error in
            let description = (error as? ServerSettings.ConfigurationError)?.description ?? ""
            return description.contains("NUDGE_UNSUBSCRIBE_SECRET") && description.hasPrefix("nudge.yaml:")
        }
    }

    @Test("a SendGrid key that is not a P-256 public key stops the server from starting")
    func badSendGridKey() throws {
        let config = try Self.config()
        #expect(throws: ServerSettings.ConfigurationError.self) {
            try Providers.serverSettings(
                config, environment: ["SG_WEBHOOK_KEY": "c2VjcmV0", "NUDGE_UNSUBSCRIBE_SECRET": "s"])
        }
    }

    @Test("Mailgun's signing key is read from its channel; no serve section leaves unsubscribe off")
    func mailgun() throws {
        let config = try Self.config(
            """
            business: { name: Café, timezone: UTC }
            channels:
              email: { provider: mailgun, api_key_env: MG_KEY, domain: mg.example.com, from: a@example.com, webhook_signing_key_env: MG_SIGNING }
            """)
        let settings = try Providers.serverSettings(config, environment: ["MG_SIGNING": "k"])
        #expect(settings.webhooks(MailgunWebhooks.self)?.verifier != nil)
        let problems = Dictionary(uniqueKeysWithValues: settings.routes.map { ($0.path, $0.problem) })
        #expect(problems["/webhooks/mailgun"] == .some(nil))
        #expect(problems["/webhooks/twilio/inbound"] == "channel 'sms' does not use twilio")
        #expect(problems["/unsubscribe/{token}"] == "serve.unsubscribe_secret_env is not set in nudge.yaml")
    }
}
