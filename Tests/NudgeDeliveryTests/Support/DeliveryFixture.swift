import Foundation
import GRDB
import Logging
import NudgeDelivery
import NudgeEngine
import NudgeLanguage
import NudgePostgres
import NudgeProviders
import PostgresNIO
import NudgeStore
import Synchronization
import NudgeTestSupport
import Testing
import NudgeCore

/// The stores the delivery tests run on: SQLite always, PostgreSQL when the tests have a server
/// (`NUDGE_TEST_POSTGRES_URL`; `.ci/run` starts one).
/// How long an adapter under test waits for a loopback fake: other tests waiting on child processes can hold this
/// process's concurrency pool (a thread per core), which the fakes answer on, for many seconds; no test here is about
/// the timeout itself (those that are set their own).
let loopbackTimeout: TimeInterval = 60

enum Backend: String, Sendable, CaseIterable, CustomStringConvertible {
    case sqlite, postgres

    static let available: [Backend] = PostgresServer.isUsed("delivery tests run") ? [.sqlite, .postgres] : [.sqlite]

    var description: String { rawValue }
}

/// A temporary folder with a store, for delivery tests: a SQLite file, or a fresh PostgreSQL database. The folder
/// is removed (and the database dropped) when the fixture goes away.
final class DeliveryFixture: Sendable {
    let directory: URL
    /// The SQLite database: the store itself, or on PostgreSQL where customers are written before they are copied.
    let database: AppDatabase
    /// The store under test.
    let store: any Store
    let backend: Backend
    private let postgres: (store: PostgresStore, url: DatabaseURL)?
    /// Customers whose outbox messages the accessors look through.
    private let customers = Mutex<Set<String>>([])

    private init(backend: Backend, postgres: (store: PostgresStore, url: DatabaseURL)?) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("nudge-delivery-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        database = try AppDatabase.open(path: directory.appendingPathComponent("nudge.sqlite").path)
        self.backend = backend
        self.postgres = postgres
        store = postgres?.store ?? database
    }

    /// A fixture on SQLite.
    convenience init() throws {
        try self.init(backend: .sqlite, postgres: nil)
    }

    /// A fixture on `backend`.
    static func make(_ backend: Backend) async throws -> DeliveryFixture {
        switch backend {
        case .sqlite: return try DeliveryFixture()
        case .postgres: return try DeliveryFixture(backend: .postgres, postgres: try await PostgresServer.freshStore())
        }
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
        if let postgres { PostgresServer.dispose(postgres.store, postgres.url) }
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

    /// Inserts messages as they are (pending, due at their creation, with their attempts so far).
    func insert(_ messages: [OutboxMessage]) async throws {
        customers.withLock { $0.formUnion(messages.map(\.customerId)) }
        guard let postgres else {
            try await database.writer.write { db in
                for message in messages { try message.insert(db) }
            }
            return
        }
        _ = try await postgres.store.commit(messages)
        for message in messages where message.attempts > 0 {
            try await postgres.store.client.query(
                "UPDATE outbox SET attempts = \(Int64(message.attempts)) WHERE id = \(message.id)")
        }
    }

    /// Writes `files` (path → text) into `project/` of the fixture's folder and loads that project.
    func project(_ files: [String: String]) throws -> Project {
        let root = directory.appendingPathComponent("project")
        for (path, text) in files {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        let (project, diagnostics) = Project.load(directory: root.path, providers: Providers.catalog)
        return try #require(project, "\(diagnostics.map(\.description))")
    }

    /// Notes a customer whose messages the accessors look through (those the planner makes).
    func track(customer: String) {
        customers.withLock { _ = $0.insert(customer) }
    }

    /// Every message of the tracked customers, with its attempts, through the store's history.
    private func messages() async throws -> [(message: OutboxMessage, attempts: [DeliveryAttempt])] {
        var all: [(message: OutboxMessage, attempts: [DeliveryAttempt])] = []
        for customer in customers.withLock({ $0 }).sorted() {
            all += try await store.history(customerID: customer)
        }
        return all
    }

    /// The stored row of `id`.
    func record(_ id: String) async throws -> OutboxMessage {
        try #require(try await messages().first { $0.message.id == id }?.message)
    }

    /// The recorded attempts of `id`, in order.
    func attempts(_ id: String) async throws -> [DeliveryAttempt] {
        try await messages().first { $0.message.id == id }?.attempts.sorted { $0.attempt < $1.attempt } ?? []
    }

    /// Outbox ids with `status`, sorted.
    func ids(_ status: OutboxMessage.Status) async throws -> [String] {
        try await messages().filter { $0.message.status == status }.map(\.message.id).sorted()
    }

    /// A dispatcher over this store with a controllable clock and a fixed jitter.
    func dispatcher(
        _ adapters: [NudgeCore.Channel: any ChannelAdapter], clock: TestClock, jitter: Double = 1,
        policy: RetryPolicy = RetryPolicy(), owner: LeaseOwner = .current(nonce: "test"), batchSize: Int = 500,
        leaseSeconds: Double = 300
    ) -> Dispatcher {
        Dispatcher(
            outbox: store, adapters: adapters, policy: policy, owner: owner, leaseSeconds: leaseSeconds,
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
        let files = [
            "nudge.yaml": """
                business:
                  name: Test Café
                  timezone: Europe/Lisbon
                send_at: "09:00"
                channels:
                  email: { provider: webhook, url: "\(url)", secret_env: \(Self.secretVariable), timeout: 15 }
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
        self.project = try fixture.project(files)
    }

    /// Inserts a customer who signed up at `signedUp`, opted in to email (on PostgreSQL, before any message).
    func addCustomer(_ id: String, name: String, signedUp: Date) async throws {
        fixture.track(customer: id)
        try await fixture.database.writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO customer (id, name, email, signed_up_at, email_opt_in, last_activity_at)
                    VALUES (?, ?, ?, ?, 1, ?)
                    """,
                arguments: [id, name, "\(id)@example.com", StoredInstant.millis(signedUp), StoredInstant.millis(signedUp)])
        }
        if let postgres = fixture.store as? PostgresStore {
            try await postgres.replaceContents(from: fixture.database)
        }
    }

    var planner: Planner { Planner(project: project, store: fixture.store, logger: DeliveryFixture.logger) }
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
