import Foundation
import Testing

@testable import NudgeLanguage
import NudgeProviders
import NudgeCore

/// Parses nudge.yaml text and returns the config and the sorted diagnostics as printed.
private func parse(_ text: String) -> (config: ProjectConfig, diagnostics: [String]) {
    var diagnostics = Diagnostics()
    let config = ProjectConfig.parse(text, file: "nudge.yaml", providers: Providers.catalog, diagnostics: &diagnostics)
    return (config, diagnostics.sorted.map(\.description))
}

/// A nudge.yaml with `business` and the given channel lines under `channels:`.
private func withChannels(_ lines: String) -> String {
    "business:\n  name: Café\n  timezone: UTC\nchannels:\n\(lines)\n"
}

@Suite("Project config")
struct ProjectConfigTests {
    @Test("pricing: a price a channel, at least 0; an unknown channel or a bad price is an error at its place")
    func pricing() {
        let (config, diagnostics) = parse(withChannels("  email: { provider: file, path: e.jsonl }") + "pricing: { email: 0.0008, sms: 0.0079, push: 0 }\n")
        #expect(diagnostics.isEmpty)
        #expect(config.pricing == [.email: 0.0008, .sms: 0.0079, .push: 0])
        let bad = parse(withChannels("  email: { provider: file, path: e.jsonl }") + "pricing: { emial: 1, sms: -1, push: free }\n").diagnostics
        #expect(
            bad == [
                "nudge.yaml:6:12: error: unknown key 'emial' in pricing (did you mean 'email'?)",
                "nudge.yaml:6:27: error: 'sms' must be a price of at least 0 such as 0.0079, not '-1'",
                "nudge.yaml:6:37: error: 'push' must be a price of at least 0 such as 0.0079, not 'free'",
            ], "\(bad)")
    }

    @Test("parses a complete nudge.yaml")
    func valid() throws {
        let text = """
            # settings
            business:
              name: Bean There Café
              timezone: America/New_York
            database: nudge.sqlite
            send_at: "08:30"
            channels:
              email:  { provider: file, path: outbox/email.jsonl }
              sms:    { provider: webhook, url: "https://example.com/hooks/sms", secret_env: SMS_WEBHOOK_SECRET, timeout: 10s }

            """
        let (config, diagnostics) = parse(text)
        #expect(diagnostics == [])
        #expect(config.businessName == "Bean There Café")
        #expect(config.timeZone.identifier == "America/New_York")
        #expect(config.database == "nudge.sqlite")
        #expect(config.sendAt == TimeOfDay(hour: 8, minute: 30))
        #expect(Set(config.channels.keys) == [.email, .sms])
        let email = try #require(config.channels[.email])
        #expect(email.provider == "file")
        #expect(email.settings == ["path": "outbox/email.jsonl"])
        #expect(email.location == SourceLocation(file: "nudge.yaml", line: 8, column: 11))
        let sms = try #require(config.channels[.sms])
        #expect(sms.provider == "webhook")
        #expect(
            sms.settings == [
                "url": "https://example.com/hooks/sms", "secret_env": "SMS_WEBHOOK_SECRET", "timeout": "10s",
            ])
    }

    @Test("uses defaults for what nudge.yaml leaves out")
    func defaults() {
        let (config, diagnostics) = parse("business: {}\n")
        #expect(diagnostics == [])
        #expect(config.businessName == "My Business")
        #expect(config.timeZone.secondsFromGMT(for: instant("2026-07-01T00:00:00Z")) == 0)
        #expect(config.database == nil)
        #expect(config.sendAt == TimeOfDay(hour: 9, minute: 0))
        #expect(config.channels.isEmpty)
    }

    @Test("reports an unknown time zone with a did-you-mean")
    func unknownTimeZone() {
        let (config, diagnostics) = parse("business:\n  name: X\n  timezone: America/New_Yrok\n")
        #expect(
            diagnostics == [
                "nudge.yaml:3:13: error: unknown time zone 'America/New_Yrok' (did you mean 'America/New_York'?)"
            ])
        #expect(config.timeZone.secondsFromGMT(for: instant("2026-07-01T00:00:00Z")) == 0)
    }

    @Test("rejects zone abbreviations and names that are not IANA zones")
    func notIANA() {
        let diagnostics = parse("business:\n  timezone: Atlantis\n").diagnostics
        #expect(diagnostics.count == 1)
        #expect(diagnostics.first?.hasPrefix("nudge.yaml:2:13: error: unknown time zone 'Atlantis' (") == true)
        #expect(
            parse("business:\n  timezone: EST\n").diagnostics.first?.hasPrefix(
                "nudge.yaml:2:13: error: unknown time zone 'EST'") == true)
    }

    @Test(
        "reports bad channel settings at the offending place",
        arguments: [
            (
                "  email: { provider: postal }",
                ["5:22: error: unknown provider 'postal' for channel 'email' (expected one of: apns, apple_wallet, fcm, file, google_wallet, mailgun, sendgrid, smtp, sns, twilio, webhook)"]
            ),
            (
                "  email: { provider: sendgrid, api_key_env: K, from: a@b.example, base_url: \"http://api.example\" }",
                [
                    "5:77: error: 'base_url' must be https (every request carries the API credentials); http is only for this machine (127.0.0.1, localhost, ::1)"
                ]
            ),
            (
                "  email: { provider: smtp }",
                [
                    "5:10: error: missing key 'from' in channel 'email' (provider smtp)",
                    "5:10: error: missing key 'host' in channel 'email' (provider smtp)",
                ]
            ),
            (
                "  sms: { provider: sendgrid, api_key_env: SENDGRID_API_KEY, from: a@b.example }",
                [
                    "5:20: error: provider 'sendgrid' cannot carry sms (it sends email) (use one of: file, sns, twilio, webhook)"
                ]
            ),
            (
                "  email: { provider: sendgrid, api_key_env: SG.abc123, from: not-an-address }",
                [
                    "5:10: error: channel 'email' (provider sendgrid): 'from' must be an email address such as offers@example.com, not 'not-an-address'",
                    "5:45: error: 'api_key_env' names an environment variable (letters, digits, _), not a secret",
                ]
            ),
            (
                "  sms: { provider: twilio, account_sid: AC1, auth_token_env: TWILIO_TOKEN }",
                [
                    "5:8: error: channel 'sms' (provider twilio): set exactly one of 'from' (a number or sender id) and 'messaging_service_sid'"
                ]
            ),
            (
                "  email: { provider: smtp, host: mail.example, from: a@b.example, port: 99999, security: ssl }",
                [
                    "5:73: error: 'port' must be a TCP port from 1 to 65535, not '99999'",
                    "5:90: error: 'security' must be starttls (port 587), tls (port 465) or none, not 'ssl'",
                ]
            ),
            (
                "  email: { provider: fiel }",
                ["5:22: error: unknown provider 'fiel' for channel 'email' (did you mean 'file'?)"]
            ),
            (
                "  sms: { provider: webhook }",
                [
                    "5:8: error: missing key 'secret_env' in channel 'sms' (provider webhook)",
                    "5:8: error: missing key 'url' in channel 'sms' (provider webhook)",
                ]
            ),
            (
                "  sms: { provider: webhook, url: \"https://x.example\" }",
                ["5:8: error: missing key 'secret_env' in channel 'sms' (provider webhook)"]
            ),
            (
                "  push: { provider: webhook, url: ftp://x.example, secret_env: \"sk live\" }",
                [
                    "5:35: error: 'url' must be an http or https URL, not 'ftp://x.example'",
                    "5:64: error: 'secret_env' names an environment variable (letters, digits, _), not a secret",
                ]
            ),
            ("  emial: { provider: file }", ["5:3: error: unknown channel 'emial' (did you mean 'email'?)"]),
            (
                "  fax: { provider: file }",
                ["5:3: error: unknown channel 'fax' (expected one of: email, push, sms, wallet)"]
            ),
            (
                "  email: { provider: file, pth: x }",
                ["5:28: error: unknown key 'pth' in channel 'email' (did you mean 'path'?)"]
            ),
            ("  email: file", ["5:10: error: channel 'email' must be a mapping such as { provider: file }"]),
            ("  email: { path: x }", ["5:10: error: missing key 'provider' in channel 'email'"]),
            (
                "  push: { path: x }",
                ["5:9: error: missing key 'provider' in channel 'push' (or one block per platform: android, ios, web)"]
            ),
            (
                "  push: { andriod: { provider: file } }",
                [
                    "5:9: error: missing key 'provider' in channel 'push' (or one block per platform: android, ios, web) (did you mean 'android'?)"
                ]
            ),
            (
                "  push: { provider: file, ios: { provider: file } }",
                ["5:11: error: channel 'push' has a block per platform, so it takes no 'provider' of its own"]
            ),
            (
                "  push: { ios: { provider: file }, windows: { provider: file } }",
                ["5:36: error: unknown push platform 'windows' in channel 'push' (expected one of: android, ios, web)"]
            ),
            (
                "  wallet: { google: { provider: twilio, account_sid: A, auth_token_env: T, from: x }, apple: { path: p } }",
                [
                    "5:33: error: provider 'twilio' cannot carry wallet (it sends sms) (use one of: apple_wallet, file, google_wallet, webhook)",
                    "5:94: error: missing key 'provider' in channel 'wallet' (apple)",
                ]
            ),
            (
                "  wallet: { apple: { provider: google_wallet, issuer_id: \"1\", credentials_env: G } }",
                ["5:32: error: provider 'google_wallet' serves google, not apple (move it under google)"]
            ),
            (
                "  push: { android: { provider: fcm, project_id: p } }",
                ["5:20: error: missing key 'credentials_env' in channel 'push' (android) (provider fcm)"]
            ),
        ]
    )
    func badChannels(lines: String, expected: [String]) {
        #expect(parse(withChannels(lines)).diagnostics == expected.map { "nudge.yaml:" + $0 })
    }

    @Test("takes a provider per platform for push and wallet")
    func perPlatform() throws {
        let (config, diagnostics) = parse(
            withChannels(
                """
                  push:
                    android: { provider: fcm, project_id: bean-there-app, credentials_env: FCM_CREDENTIALS }
                    ios:     { provider: apns, team_id: ABCDE12345, key_id: XYZ987ABCD, key_env: APNS_KEY,
                               topic: com.beanthere.app, environment: production }
                  wallet: { provider: file }
                """))
        #expect(diagnostics == [])
        let push = try #require(config.channels[.push])
        #expect(push.isPerPlatform && push.provider.isEmpty)
        #expect(push.routes.map { "\($0.platform ?? "-") \($0.config.provider)" } == ["android fcm", "ios apns"])
        #expect(push.platforms["ios"]?.settings["topic"] == "com.beanthere.app")
        #expect(push.platforms["ios"]?.location.line == 7)
        let wallet = try #require(config.channels[.wallet])
        #expect(!wallet.isPerPlatform && wallet.routes.map(\.platform) == [nil])
    }

    @Test("reports a bad send_at, a missing business and unknown keys")
    func badTopLevel() {
        #expect(
            parse("business:\n  name: X\nsend_at: 9am\n").diagnostics == [
                "nudge.yaml:3:10: error: 'send_at' must be a time of day as \"HH:MM\", not '9am'"
            ])
        #expect(
            parse("database: x.sqlite\n").diagnostics == ["nudge.yaml:1:1: error: missing key 'business' in nudge.yaml"]
        )
        #expect(
            parse("business: {}\ndatabse: x.sqlite\n").diagnostics == [
                "nudge.yaml:2:1: error: unknown key 'databse' in nudge.yaml (did you mean 'database'?)"
            ])
        #expect(
            parse("business: {}\nchannels: email\n").diagnostics == [
                "nudge.yaml:2:11: error: 'channels' must be a mapping of channel to adapter"
            ])
        #expect(
            parse("business:\n  nmae: X\n").diagnostics == [
                "nudge.yaml:2:3: error: unknown key 'nmae' in business (did you mean 'name'?)"
            ])
    }

    @Test("reports YAML errors and keeps the defaults")
    func yamlError() {
        let (config, diagnostics) = parse("business:\n  name: [Café\n")
        #expect(diagnostics.count == 1)
        #expect(diagnostics.first?.hasPrefix("nudge.yaml:") == true)
        #expect(diagnostics.first?.contains("error: invalid YAML") == true)
        #expect(config.businessName == "My Business")
    }

    @Test("orders channels by preference and names their front-matter keys")
    func channels() {
        #expect(Channel.allCases.sorted() == [.email, .sms, .push, .wallet])
        #expect(Channel.sms < Channel.push)
        #expect(Channel.allCases.map(\.headingKey) == ["subject", nil, "title", "header"])
    }
}
