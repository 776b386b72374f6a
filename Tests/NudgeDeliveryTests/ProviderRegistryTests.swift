import Foundation
import NudgeDelivery
import NudgeLanguage
import NudgeProviders
import NudgeServer
import NudgeStore
import Testing
import NudgeCore

/// A provider that is not in the registry: what adding one takes is its own declaration.
private struct PigeonProvider: Provider {
    static let name = "pigeon"

    var spec: ProviderSpec {
        ProviderSpec(
            name: Self.name, required: ["loft"], optional: ["speed"], channels: [.push],
            settingCheck: { key, value in
                key == "speed" && Int(value) == nil ? "'speed' must be a whole number of km/h, not '\(value)'" : nil
            },
            warnings: { channel, _ in [Diagnostic(.warning, "pigeons are slow", at: channel.location)] })
    }

    func makeAdapter(_ context: Adapters.Context) throws -> any ChannelAdapter {
        FileAdapter(path: context.resolve("pigeon.jsonl"))
    }
}

@Suite("The provider registry")
struct ProviderRegistryTests {
    @Test("every provider is listed once under its own name, and every channel has one")
    func registry() {
        let names = Providers.all.map { type(of: $0).name }
        #expect(Set(names).count == names.count)
        #expect(Providers.all.map(\.spec.name) == names)
        #expect(Providers.catalog.names == names.sorted())
        for name in names { #expect(Providers.named(name)?.spec.name == name) }
        #expect(Providers.named("pigeon") == nil)
        for channel in Channel.allCases {
            #expect(Providers.catalog.specs.contains { $0.channels.contains(channel) }, "no provider carries \(channel)")
        }
    }

    @Test("a provider outside the registry works through a catalog that lists it: settings, checks, warnings")
    func catalogInjection() throws {
        let catalog = ProviderCatalog(Providers.catalog.specs + [PigeonProvider().spec])
        func parse(_ channel: String) -> (ProjectConfig, [String]) {
            var diagnostics = Diagnostics()
            let config = ProjectConfig.parse(
                "business: { name: T, timezone: UTC }\nchannels:\n  push: \(channel)\n", file: "nudge.yaml",
                providers: catalog, diagnostics: &diagnostics)
            return (config, diagnostics.sorted.map(\.description))
        }
        let (config, clean) = parse("{ provider: pigeon, loft: north, speed: \"80\" }")
        #expect(clean == [])
        #expect(config.channels[.push]?.settings == ["loft": "north", "speed": "80"])
        #expect(parse("{ provider: pigeon, loft: north, speed: fast }").1 == [
            "nudge.yaml:3:49: error: 'speed' must be a whole number of km/h, not 'fast'"
        ])
        #expect(parse("{ provider: pigeon }").1.first?.contains("missing key 'loft'") == true)
        #expect(parse("{ provider: pigeon, loft: n, wings: 2 }").1.first?.contains("'wings'") == true)
        // The registry's own catalog does not know it, and says which providers carry push.
        var diagnostics = Diagnostics()
        _ = ProjectConfig.parse(
            "business: { name: T, timezone: UTC }\nchannels:\n  push: { provider: pigeon, loft: n }\n",
            file: "nudge.yaml", providers: Providers.catalog, diagnostics: &diagnostics)
        #expect(diagnostics.sorted.first?.description.contains("unknown provider 'pigeon'") == true)
        let warnings = PigeonProvider().spec.warnings?(try #require(config.channels[.push]), config) ?? []
        #expect(warnings.map(\.message) == ["pigeons are slow"])
    }

    @Test("nudge serve mounts each provider's routes once, beside health and unsubscribe")
    func routes() throws {
        let settings = try Providers.serverSettings(ProjectConfig(), environment: [:])
        let paths = settings.routes.map(\.path)
        #expect(Set(paths).count == paths.count)
        #expect(paths.first == "/healthz")
        #expect(paths.last == "/unsubscribe/{token}")
        #expect(Array(paths.dropFirst().dropLast()) == Providers.webhookPaths)
        #expect(settings.routes.dropFirst().allSatisfy { $0.problem != nil }, "no keys: every other route is off")
    }

    @Test("an outbound message carries its content typed by channel")
    func typedContent() {
        func record(_ channel: Channel, heading: String?, body: String, text: String? = nil) -> OutboxMessage {
            var record = OutboxMessage(
                id: "m", workflowId: "w", customerId: "c", occurrence: "o", actionIndex: 0, channel: channel.rawValue,
                recipient: "r", template: "t", headingKey: channel.headingKey, heading: heading, body: body, dueAt: 0,
                createdAt: 0, status: .pending, reason: nil)
            record.textBody = text
            return record
        }
        let at = Date(timeIntervalSince1970: 0)
        #expect(
            OutboundMessage(record: record(.email, heading: "Hi", body: "<p>x</p>", text: "x"), sentAt: at).content
                == .email(subject: "Hi", html: "<p>x</p>", text: "x"))
        #expect(OutboundMessage(record: record(.sms, heading: nil, body: "2 to go"), sentAt: at).content == .sms(text: "2 to go"))
        #expect(
            OutboundMessage(record: record(.push, heading: "Treat", body: "Free cake"), sentAt: at).content
                == .push(title: "Treat", body: "Free cake", data: [:]))
        #expect(
            OutboundMessage(record: record(.wallet, heading: "Stamps", body: "8 of 10"), sentAt: at).content
                == .wallet(header: "Stamps", body: "8 of 10"))
    }
}
