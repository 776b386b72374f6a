import Foundation
import Logging
import NudgeDelivery
import NudgeEngine
import NudgeLanguage
import NudgePostgres
import NudgeProviders
import NudgeStore
import Testing
import NudgeCore

/// `push: { android: …, ios: … }`: the customer's `push_platform` chooses the provider; a customer whose platform has
/// none is suppressed with that reason, or reached on the next channel.
@Suite("A provider per platform", .serialized)
struct PlatformRoutingTests {
    static let files = [
        "nudge.yaml": """
            business: { name: Test Café, timezone: UTC }
            send_at: "09:00"
            channels:
              email: { provider: file, path: outbox/email.jsonl }
              push:
                android: { provider: file, path: outbox/android.jsonl }
                ios:     { provider: file, path: outbox/ios.jsonl }
            """,
        "Workflows/welcome.yaml": """
            id: welcome
            trigger: { signup: {} }
            catch_up: 12h
            actions: [ { send: { channel: push, template: welcome } } ]
            """,
        "Workflows/thanks.yaml": """
            id: thanks
            trigger: { signup: {} }
            catch_up: 12h
            actions: [ { send: { channel: [push, email], template: welcome } } ]
            """,
        "Templates/welcome.push.mustache": "---\ntitle: Welcome {{customer.first_name}}\n---\nYour {{customer.push_platform}} phone\n",
        "Templates/welcome.email.mustache": "---\nsubject: Welcome\n---\n<p>Hello {{customer.name}}</p>\n",
    ]

    /// Ana on Android, Ben on iOS, Caro on the web (no provider), Dan with no platform: all with push tokens.
    static let customers = """
        id,name,email,signed_up_at,email_opt_in,push_opt_in,push_token,push_platform
        ana,Ana,ana@example.com,2026-11-25T08:00:00Z,yes,yes,tok-ana,android
        ben,Ben,ben@example.com,2026-11-25T08:00:00Z,yes,yes,tok-ben,ios
        caro,Caro,caro@example.com,2026-11-25T08:00:00Z,yes,yes,tok-caro,web
        dan,Dan,,2026-11-25T08:00:00Z,no,yes,tok-dan,

        """

    static func load(_ fixture: DeliveryFixture, csv: String = customers) async throws -> ImportSummary {
        let path = fixture.directory.appendingPathComponent("customers.csv").path
        try csv.write(toFile: path, atomically: true, encoding: .utf8)
        for id in ["ana", "ben", "caro", "dan"] { fixture.track(customer: id) }
        return try await fixture.store.importCSV(
            .customers, path: path,
            options: ImportOptions(defaultZone: TimeZone(identifier: "UTC")!, now: DeliveryFixture.start, displayPath: "customers.csv"))
    }

    @Test("the plan names each customer's platform, and suppresses or falls back where no provider fits", arguments: Backend.available)
    func plan(_ backend: Backend) async throws {
        let fixture = try await DeliveryFixture.make(backend)
        let project = try fixture.project(Self.files)
        _ = try await Self.load(fixture)
        let plan = try await Planner(project: project, store: fixture.store).plan(now: DeliveryFixture.start)
        let rows = plan.messages.map {
            "\($0.workflowID) \($0.customerID) \($0.channel?.rawValue ?? "-") \($0.platform ?? "-") \($0.reason ?? "")"
        }
        #expect(
            rows.sorted() == [
                "thanks ana push android ",
                "thanks ben push ios ",
                "thanks caro email - ",
                "thanks dan - - push: no push_platform (push has a provider per platform); email: no email address",
                "welcome ana push android ",
                "welcome ben push ios ",
                "welcome caro - - no push provider for platform 'web'",
                "welcome dan - - no push_platform (push has a provider per platform)",
            ])
        let line = try #require(plan.messages.first { $0.customerID == "ben" }?.jsonLine(includeRendered: false))
        #expect(line.contains(#""to":"tok-ben","platform":"ios""#))
        let email = try #require(plan.messages.first { $0.customerID == "caro" && $0.channel == .email })
        #expect(!email.jsonLine(includeRendered: false).contains("platform"), "only per-platform channels plan one")
    }

    @Test("a run delivers each message through its platform's provider", arguments: Backend.available)
    func run(_ backend: Backend) async throws {
        let fixture = try await DeliveryFixture.make(backend)
        let project = try fixture.project(Self.files)
        _ = try await Self.load(fixture)
        let adapters = try Providers.makeAdapters(
            project.config, environment: [:], httpClient: { fatalError("no HTTP here") }, resolve: { project.resolve($0) })
        #expect(adapters[.push] is PlatformRoutes)
        let ids = SequentialIDs()
        let runner = Runner(
            planner: Planner(project: project, store: fixture.store),
            dispatcher: Dispatcher(
                outbox: fixture.store, adapters: adapters, owner: .current(nonce: "platforms"), logger: DeliveryFixture.logger,
                clock: { DeliveryFixture.start }),
            logger: DeliveryFixture.logger, newID: { ids() })
        let report = try await runner.once(now: DeliveryFixture.start)
        #expect(report.dispatched.delivered == 5)
        func lines(_ name: String) throws -> [String] {
            let path = project.resolve("outbox/\(name).jsonl")
            guard FileManager.default.fileExists(atPath: path) else { return [] }
            return try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        }
        let android = try lines("android")
        let ios = try lines("ios")
        #expect(android.count == 2 && android.allSatisfy { $0.contains(#""to":"tok-ana","platform":"android""#) })
        #expect(android.allSatisfy { $0.contains("Your android phone") })
        #expect(ios.count == 2 && ios.allSatisfy { $0.contains(#""to":"tok-ben","platform":"ios""#) })
        #expect(try lines("email").count == 1)
        // The platform is kept on the stored message.
        let stored = try await fixture.store.history(customerID: "ben").map(\.message.platform)
        #expect(stored == ["ios", "ios"])
    }

    @Test("a message whose platform lost its provider fails with that reason, the others go out")
    func routeGone() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("nudge-routes-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let routes = PlatformRoutes(
            channel: .push, adapters: ["android": FileAdapter(path: directory.appendingPathComponent("a.jsonl").path)])
        func message(_ id: String, platform: String?) -> OutboundMessage {
            var record = DeliveryFixture.message(id, channel: "push")
            record.platform = platform
            return OutboundMessage(record: record, sentAt: DeliveryFixture.start)
        }
        let results = await routes.deliver(batch: [
            message("m1", platform: "android"), message("m2", platform: "ios"), message("m3", platform: nil),
            message("m4", platform: "android"),
        ])
        let described = results.map { result -> String in
            switch result {
            case .success: return "ok"
            case .failure(let error): return "\(error)"
            }
        }
        #expect(
            described == [
                "ok", "no push provider is configured for platform 'ios'",
                "push has a provider per platform, and the message names no platform", "ok",
            ])
        if case .failure(.permanent) = results[1] {} else { Issue.record("a missing route is permanent") }
    }

    @Test("push_platform and wallet_platform take only their platforms; a bad one rejects the file at its line", arguments: Backend.available)
    func importChecks(_ backend: Backend) async throws {
        let fixture = try await DeliveryFixture.make(backend)
        let bad = """
            id,signed_up_at,push_platform,wallet_platform
            ana,2026-11-25,android,google
            ben,2026-11-25,iOS,apple
            caro,2026-11-25,,pkpass

            """
        await #expect {
            _ = try await Self.load(fixture, csv: bad)
        } throws: { error in
            "\(error)".contains("customers.csv:3: 'push_platform' must be one of android, ios, web, not 'iOS'")
                && "\(error)".contains("customers.csv:4: 'wallet_platform' must be one of google, apple, not 'pkpass'")
        }
        #expect(try await fixture.store.customer(id: "ana") == nil, "nothing written")
        _ = try await Self.load(fixture, csv: "id,signed_up_at,push_platform,wallet_platform\nana,2026-11-25,ios,apple\nben,2026-11-25,,\n")
        let ana = try #require(try await fixture.store.customer(id: "ana"))
        #expect(ana.pushPlatform == "ios" && ana.walletPlatform == "apple")
        #expect(try await fixture.store.customer(id: "ben")?.pushPlatform == nil)
        // A file without the columns keeps them.
        _ = try await Self.load(fixture, csv: "id,signed_up_at,name\nana,2026-11-25,Ana\n")
        let again = try #require(try await fixture.store.customer(id: "ana"))
        #expect(again.name == "Ana" && again.pushPlatform == "ios" && again.walletPlatform == "apple")
    }
}
