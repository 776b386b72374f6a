import Foundation
import GRDB
import Logging
import NudgeDelivery
import NudgeEngine
import NudgeLanguage
import NudgeProviders
import NudgeStore
import Synchronization
import NudgeTestSupport
import Testing

/// A temporary folder with a file-backed SQLite store, for delivery tests. The folder is removed when the
/// fixture goes away.
final class DeliveryFixture: Sendable {
    let directory: URL
    let database: AppDatabase

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("nudge-delivery-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        database = try AppDatabase.open(path: directory.appendingPathComponent("nudge.sqlite").path)
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    /// An instant with whole milliseconds, as the store keeps them: 2026-11-25T10:00:00Z.
    static let start = Date(timeIntervalSince1970: 1_795_600_800)

    /// A pending outbox message for channel `channel`, created at `createdAt`.
    static func message(
        _ id: String, customer: String = "c1", channel: String? = "email", createdAt: Date = DeliveryFixture.start,
        body: String = "Hello Ana", workflow: String = "w"
    ) -> OutboxMessage {
        OutboxMessage(
            id: id, workflowId: workflow, customerId: customer, occurrence: "occ-\(id)", actionIndex: 0, channel: channel,
            recipient: "\(customer)@example.com", template: "t", headingKey: channel == "email" ? "subject" : nil,
            heading: channel == "email" ? "Hi Ana" : nil, body: body, dueAt: StoredInstant.millis(createdAt),
            createdAt: StoredInstant.millis(createdAt), status: .pending, reason: nil)
    }

    /// Inserts messages as they are (pending, due at their creation).
    func insert(_ messages: [OutboxMessage]) throws {
        try database.writer.write { db in
            for message in messages { try message.insert(db) }
        }
    }

    /// The stored row of `id`.
    func record(_ id: String) throws -> OutboxMessage {
        try #require(try database.reader.read { db in try OutboxMessage.fetchOne(db, key: id) })
    }

    /// The recorded attempts of `id`, in order.
    func attempts(_ id: String) throws -> [DeliveryAttempt] {
        try database.reader.read { db in
            try DeliveryAttempt.filter(Column("outbox_id") == id).order(Column("attempt")).fetchAll(db)
        }
    }

    /// Outbox ids with `status`, sorted.
    func ids(_ status: OutboxMessage.Status) throws -> [String] {
        try database.reader.read { db in
            try String.fetchAll(db, sql: "SELECT id FROM outbox WHERE status = ? ORDER BY id", arguments: [status.rawValue])
        }
    }

    /// A dispatcher over this store with a controllable clock and a fixed jitter.
    func dispatcher(
        _ adapters: [NudgeLanguage.Channel: any ChannelAdapter], clock: TestClock, jitter: Double = 1,
        policy: RetryPolicy = RetryPolicy(), owner: LeaseOwner = .current(nonce: "test"), batchSize: Int = 500,
        leaseSeconds: Double = 300
    ) -> Dispatcher {
        Dispatcher(
            outbox: database, adapters: adapters, policy: policy, owner: owner, leaseSeconds: leaseSeconds,
            batchSize: batchSize, logger: Self.logger, clock: { clock.now }, jitter: { jitter })
    }

    static let logger: Logger = {
        var logger = Logger(label: "nudge.delivery.tests")
        logger.logLevel = .critical
        return logger
    }()
}

/// An in-process adapter that answers as scripted per message id (success when nothing is scripted) and
/// records every message it is given.
final class ScriptedAdapter: ChannelAdapter {
    private struct State {
        var script: [String: [Result<DeliveryReceipt, DeliveryError>]] = [:]
        var calls: [OutboundMessage] = []
    }

    private let state = Mutex(State())

    /// Answers the next attempts of `id` with `results`, in order.
    func script(_ id: String, _ results: Result<DeliveryReceipt, DeliveryError>...) {
        state.withLock { $0.script[id, default: []] += results }
    }

    /// Every message delivered or attempted, in order.
    var calls: [OutboundMessage] { state.withLock { $0.calls } }

    func deliver(_ message: OutboundMessage) async throws -> DeliveryReceipt {
        let result = state.withLock { state -> Result<DeliveryReceipt, DeliveryError> in
            state.calls.append(message)
            guard var results = state.script[message.id], !results.isEmpty else {
                return .success(DeliveryReceipt(providerMessageID: "p-\(message.id)"))
            }
            let result = results.removeFirst()
            state.script[message.id] = results
            return result
        }
        return try result.get()
    }
}

/// A project on disk with one signup workflow sending `email` through a webhook, and its customers.
struct WebhookProject {
    let fixture: DeliveryFixture
    let project: Project

    static let secretVariable = "NUDGE_TEST_WEBHOOK_SECRET"

    init(fixture: DeliveryFixture, url: String) throws {
        self.fixture = fixture
        let root = fixture.directory.appendingPathComponent("project")
        let files = [
            "nudge.yaml": """
                business:
                  name: Test Café
                  timezone: Europe/Lisbon
                send_at: "09:00"
                channels:
                  email: { provider: webhook, url: "\(url)", secret_env: \(Self.secretVariable), timeout: 2 }
                  sms:   { provider: file, path: outbox/sms.jsonl }
                """,
            "Workflows/welcome.yaml": """
                id: welcome
                trigger: { signup: {} }
                catch_up: 12h
                actions: [ { send: { channel: email, template: welcome } } ]
                """,
            "Templates/welcome.email.mustache": "---\nsubject: Welcome {{customer.first_name}}\n---\n<p>Hello {{customer.name}} from {{business.name}}</p>\n",
            "Templates/welcome.sms.mustache": "Hi {{customer.first_name}}\n",
        ]
        for (path, text) in files {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        let (project, diagnostics) = Project.load(directory: root.path, providers: Providers.catalog)
        guard let project else {
            throw ReceiverError(description: diagnostics.map(\.description).joined(separator: "\n"))
        }
        self.project = project
    }

    /// Inserts a customer who signed up at `signedUp`, opted in to email.
    func addCustomer(_ id: String, name: String, signedUp: Date) throws {
        try fixture.database.writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO customer (id, name, email, signed_up_at, email_opt_in, last_activity_at)
                    VALUES (?, ?, ?, ?, 1, ?)
                    """,
                arguments: [id, name, "\(id)@example.com", StoredInstant.millis(signedUp), StoredInstant.millis(signedUp)])
        }
    }

    var planner: Planner { Planner(project: project, store: fixture.database, logger: DeliveryFixture.logger) }
}

/// Sequential outbox ids for tests: `msg_0001`, `msg_0002`, …
final class SequentialIDs: Sendable {
    private let next = Mutex(0)

    func callAsFunction() -> String {
        next.withLock { value in
            value += 1
            return String(format: "msg_%04d", value)
        }
    }
}
