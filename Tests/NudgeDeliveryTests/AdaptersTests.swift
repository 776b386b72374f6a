import AsyncHTTPClient
import Foundation
import NudgeDelivery
import NudgeLanguage
import NudgeProviders
import NudgeTestSupport
import Testing
import NudgeCore

@Suite("Adapters from nudge.yaml")
struct AdaptersTests {
    static func config(_ channels: String) throws -> ProjectConfig {
        var diagnostics = Diagnostics()
        let config = ProjectConfig.parse(
            "business: { name: Test, timezone: UTC }\nchannels:\n" + channels, file: "nudge.yaml",
            providers: Providers.catalog, diagnostics: &diagnostics)
        #expect(diagnostics.all.isEmpty, "\(diagnostics.all)")
        return config
    }

    static let environment = ["HOOK_SECRET": FakeWebhookReceiver.secret, "EMPTY": ""]

    @Test("names the secrets the environment lacks, never their values")
    func missingSecrets() throws {
        let config = try Self.config(
            """
              email: { provider: webhook, url: "http://127.0.0.1:1/", secret_env: HOOK_SECRET }
              sms: { provider: webhook, url: "http://127.0.0.1:1/", secret_env: EMPTY }
              push: { provider: webhook, url: "http://127.0.0.1:1/", secret_env: NOT_SET }
              wallet: { provider: file }
            """)
        let missing = Providers.missingSecrets(config, environment: Self.environment)
        #expect(missing.map { "\($0.owner)=\($0.variable)" } == ["channel 'sms'=EMPTY", "channel 'push'=NOT_SET"])
    }

    @Test("builds a file adapter and a webhook adapter")
    func builds() async throws {
        let config = try Self.config(
            """
              email: { provider: webhook, url: "http://127.0.0.1:1/", secret_env: HOOK_SECRET, timeout: 500ms, rate: 50/s, concurrency: 4 }
              sms: { provider: file, path: outbox/sms.jsonl }
            """)
        try await withHTTPClient { client in
            let adapters = try Providers.makeAdapters(
                config, environment: Self.environment, httpClient: { client }, resolve: { "/project/" + $0 })
            #expect((adapters[.email] as? WebhookAdapter)?.url == "http://127.0.0.1:1/")
            #expect((adapters[.sms] as? FileAdapter)?.path == "/project/outbox/sms.jsonl")
            #expect(adapters.count == 2)
        }
    }

    @Test(
        "a bad setting is reported by check at its place, and refused by the adapters naming the channel",
        arguments: [
            ("rate: 50/d", "'rate' must be a rate such as 50/s, 600/m or 3600/h, not '50/d'"),
            ("timeout: 500 msec", "'timeout' must be like 15s, 500ms or 2m (at most 1h), not '500 msec'"),
            ("timeout: 0s", "'timeout' must be like 15s, 500ms or 2m (at most 1h), not '0s'"),
            ("timeout: 1e20", "'timeout' must be like 15s, 500ms or 2m (at most 1h), not '1e20'"),
            ("concurrency: many", "'concurrency' must be a whole number from 1 to 256, not 'many'"),
            ("concurrency: 0", "'concurrency' must be a whole number from 1 to 256, not '0'"),
            ("max_attempts: 0", "'max_attempts' must be a whole number from 1 to 100, not '0'"),
            ("max_age: forever", "'max_age' must be a duration such as 12h, 1d or 3d, not 'forever'"),
        ])
    func badSetting(setting: String, message: String) async throws {
        var diagnostics = Diagnostics()
        let line = "  email: { provider: webhook, url: \"http://127.0.0.1:1/\", secret_env: HOOK_SECRET, \(setting) }\n"
        let config = ProjectConfig.parse(
            "business: { name: Test, timezone: UTC }\nchannels:\n" + line, file: "nudge.yaml", providers: Providers.catalog, diagnostics: &diagnostics)
        let column = line.distance(from: line.startIndex, to: line.range(of: setting)!.lowerBound)
            + setting.distance(from: setting.startIndex, to: setting.firstIndex(of: ":")!) + 3
        #expect(diagnostics.all.map(\.description) == ["nudge.yaml:3:\(column): error: \(message)"])
        try await withHTTPClient { client in
            let error = #expect(throws: Adapters.ConfigurationError.self) {
                try Providers.makeAdapters(config, environment: Self.environment, httpClient: { client }, resolve: { $0 })
            }
            #expect(error?.description == "channel 'email': \(message)")
        }
    }

    @Test("max_attempts and max_age set the channel's retry policy")
    func retryPolicies() throws {
        let config = try Self.config(
            """
              email: { provider: webhook, url: "http://127.0.0.1:1/", secret_env: HOOK_SECRET, max_attempts: 3, max_age: 2h }
              sms: { provider: file }
            """)
        let policies = Adapters.retryPolicies(config)
        #expect(policies[.email]?.maxAttempts == 3)
        #expect(policies[.email]?.maxAge == 7200)
        #expect(policies[.sms]?.maxAttempts == RetryPolicy().maxAttempts)
    }

    @Test("a missing secret is an error naming the variable")
    func missingSecretError() async throws {
        let config = try Self.config(
            "  email: { provider: webhook, url: \"http://127.0.0.1:1/\", secret_env: NOT_SET }\n")
        try await withHTTPClient { client in
            let error = #expect(throws: Adapters.ConfigurationError.self) {
                try Providers.makeAdapters(config, environment: Self.environment, httpClient: { client }, resolve: { $0 })
            }
            #expect(error?.description == "channel 'email': the environment variable NOT_SET (secret_env) is not set")
        }
    }

    @Test("the configured timeout, in milliseconds, bounds a hanging receiver")
    func configuredTimeout() async throws {
        try await FakeWebhookReceiver.with { receiver, url in
            try await withHTTPClient { client in
                let config = try Self.config(
                    "  email: { provider: webhook, url: \"\(url)\", secret_env: HOOK_SECRET, timeout: 300ms }\n")
                let adapters = try Providers.makeAdapters(config, environment: Self.environment, httpClient: { client }, resolve: { $0 })
                let adapter = try #require(adapters[.email])
                receiver.enqueue(.hang)
                // The error names the timeout that ran out: the configured one, not the default 15 s.
                let error = await #expect(throws: DeliveryError.self) { try await adapter.deliver(outbound("msg_t")) }
                if let error { Expected.transient(containing: "timed out after 300 ms", retryAfter: nil).check(error) }
            }
        }
    }
}
