import AsyncHTTPClient
import Crypto
import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NudgeDelivery
import NudgeEngine
import NudgeLanguage
import NudgeProviders
import NudgeServer
import NudgeStore
import Synchronization
import Testing
import NudgeCore

/// The loop an owner gets by switching `provider: file` to `sendgrid`: run sends through the provider's API with the
/// outbox id attached, the provider's events come back through `nudge serve`, and a bounce is respected.
@Suite("From run to bounce and back, through SendGrid's API and Event Webhook")
struct EndToEndTests {
    /// 2026-11-25T10:00:00Z.
    static let now = Date(timeIntervalSince1970: 1_795_600_800)

    /// What the provider received.
    final class Inbox: Sendable {
        let requests = Mutex<[(headers: HTTPFields, body: Data)]>([])
    }

    @Test("a run sends through SendGrid with the outbox id; the signed bounce event turns email off for the next plan")
    func runThenBounce() async throws {
        let inbox = Inbox()
        let provider = Router()
        provider.post("/v3/mail/send") { request, _ -> Response in
            let data = try await request.body.collect(upTo: 1 << 20)
            let body = Data(data.readableBytesView)
            inbox.requests.withLock { $0.append((request.headers, body)) }
            return Response(status: .accepted, headers: [HTTPField.Name("X-Message-Id")!: "sg-\(inbox.requests.withLock(\.count))"])
        }
        try await Application(router: provider).test(.live) { sendGrid in
            let port = try #require(sendGrid.port)
            let directory = try Self.project(sendGridURL: "http://127.0.0.1:\(port)")
            defer { try? FileManager.default.removeItem(at: directory) }
            let signingKey = P256.Signing.PrivateKey()
            let environment = [
                "SG_KEY": "SG.test-key", "UNSUBSCRIBE_SECRET": "unsubscribe-secret",
                "SG_WEBHOOK_KEY": signingKey.publicKey.derRepresentation.base64EncodedString(),
            ]
            let (loaded, diagnostics) = Project.load(directory: directory.path, providers: Providers.catalog)
            let project = try #require(loaded, "\(diagnostics)")
            let database = try AppDatabase.open(path: directory.appendingPathComponent("nudge.sqlite").path)
            try await database.writer.write { db in
                let signedUp = StoredInstant.millis(Self.now.addingTimeInterval(-600))
                try db.execute(
                    sql: """
                        INSERT INTO customer (id, name, email, signed_up_at, email_opt_in, last_activity_at)
                        VALUES ('c1', 'Ana Lima', 'ana@example.com', ?, 1, ?)
                        """, arguments: [signedUp, signedUp])
            }

            // nudge run
            let client = Adapters.makeHTTPClient()
            let adapters = try Providers.makeAdapters(
                project.config, environment: environment, httpClient: { client }, resolve: project.resolve)
            var logger = Logger(label: "nudge.e2e")
            logger.logLevel = .error
            let links = UnsubscribeLinks(config: project.config, environment: environment)
            let runner = Runner(
                planner: Planner(project: project, store: database, logger: logger, unsubscribe: links),
                dispatcher: Dispatcher(
                    outbox: database, adapters: adapters, owner: .current(nonce: "e2e"), logger: logger,
                    clock: { Self.now }),
                logger: logger, newID: { "msg_welcome" })
            let report = try await runner.once(now: Self.now)
            try await client.shutdown()
            #expect(report.dispatched.delivered == 1)

            let (sentHeaders, sentBody) = try #require(inbox.requests.withLock { $0.first })
            #expect(sentHeaders[.authorization] == "Bearer SG.test-key")
            let sent = try #require(try JSONSerialization.jsonObject(with: sentBody) as? [String: Any])
            let personalization = try #require((sent["personalizations"] as? [[String: Any]])?.first)
            #expect((personalization["to"] as? [[String: Any]])?.first?["email"] as? String == "ana@example.com")
            #expect((sent["custom_args"] as? [String: String])?["nudge_id"] == "msg_welcome")
            let headers = sent["headers"] as? [String: String] ?? [:]
            #expect(headers["X-Nudge-Id"] == "msg_welcome")
            #expect(headers["List-Unsubscribe"] == "<\(try #require(links).url(customerID: "c1"))>")
            let html = (sent["content"] as? [[String: Any]])?.last?["value"] as? String ?? ""
            #expect(html.contains(try #require(links).url(customerID: "c1")))
            #expect(try database.history(customerID: "c1").first?.message.providerMessageId == "sg-1")

            // nudge serve receives SendGrid's signed Event Webhook: delivered, then a hard bounce.
            let events = """
                [{"email":"ana@example.com","timestamp":1795600860,"event":"delivered","sg_event_id":"ev-1","nudge_id":"msg_welcome"},
                 {"email":"ana@example.com","timestamp":1795600900,"event":"bounce","type":"bounce","status":"5.1.1","reason":"550 no such user","sg_event_id":"ev-2","nudge_id":"msg_welcome"}]
                """
            let timestamp = String(Int(Self.now.timeIntervalSince1970))
            let signature = try signingKey.signature(for: Data((timestamp + events).utf8)).derRepresentation
            let settings = try Providers.serverSettings(project.config, environment: environment)
            let server = buildApplication(
                settings: settings, database: database, configuration: ApplicationConfiguration(), now: { Self.now },
                logger: logger)
            try await server.test(.router) { serve in
                let response = try await serve.post(
                    "/webhooks/sendgrid",
                    headers: [
                        .contentType: "application/json",
                        HTTPField.Name("X-Twilio-Email-Event-Webhook-Signature")!: signature.base64EncodedString(),
                        HTTPField.Name("X-Twilio-Email-Event-Webhook-Timestamp")!: timestamp,
                    ], body: events)
                #expect(response.status == .ok)
            }
            #expect(try database.deliveryEvents(outboxID: "msg_welcome").map(\.kind) == [.delivered, .bounced])
            #expect(try database.consentChanges(customerID: "c1").first?.change.optIn == false)

            // A day later the follow-up workflow plans nothing for the bounced address.
            let next = try await Planner(project: project, store: database, logger: logger, unsubscribe: links)
                .plan(now: Self.now.addingTimeInterval(86_400))
            let followUp = try #require(next.messages.first { $0.workflowID == "follow-up" })
            #expect(followUp.status == .suppressed)
            #expect(followUp.reason == "not opted in to email")
        }
    }

    /// A project with two signup workflows (now and a day later) sending email through SendGrid at `sendGridURL`.
    static func project(sendGridURL: String) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("nudge-e2e-\(UUID().uuidString)")
        let files = [
            "nudge.yaml": """
                business: { name: Bean There Café, timezone: UTC }
                serve: { public_url: "https://hooks.cafe.example", unsubscribe_secret_env: UNSUBSCRIBE_SECRET }
                channels:
                  email:
                    provider: sendgrid
                    api_key_env: SG_KEY
                    from: hello@cafe.example
                    base_url: "\(sendGridURL)"
                    webhook_public_key_env: SG_WEBHOOK_KEY
                    timeout: 60s   # the loopback fake answers on this process's pool, which other tests can hold
                """,
            "Workflows/welcome.yaml":
                "id: welcome\ntrigger: { signup: {} }\nactions:\n  - send: { channel: email, template: hello }\n",
            "Workflows/follow-up.yaml":
                "id: follow-up\ntrigger: { signup: { days_after: 1 } }\nactions:\n  - send: { channel: email, template: hello }\n",
            "Templates/hello.email.mustache":
                "---\nsubject: Welcome {{customer.first_name}}\n---\n<p>Hi!</p>\n<p><a href=\"{{unsubscribe_url}}\">Unsubscribe</a></p>\n",
        ]
        for (path, text) in files {
            let url = directory.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        return directory
    }
}
