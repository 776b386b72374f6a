import Crypto
import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NudgeEngine
import NudgeLanguage
import NudgeProviders
import NudgePostgres
import NudgeServer
import NudgeStore
import Synchronization
import NudgeTestSupport
import Testing
import NudgeCore

/// A temporary file-backed store with three customers and their outbox messages, and a clock that stands still,
/// for route tests. The folder is removed when the fixture goes away.
///
/// Customers: `c1` and `c2` share the phone `+15550001111`; `c3` has `+15550002222`; all opted in to email and
/// SMS. Outbox: `msg_email` (c1, email), `msg_sms` (c1, sms), `msg_c3` (c3, sms).
final class ServerFixture: Sendable {
    let directory: URL
    /// The SQLite store the assertions read.
    let database: AppDatabase
    /// What the server records through: `database`, or with a PostgreSQL server for the tests both stores.
    let store: any EventStore
    private let postgres: (store: PostgresStore, url: DatabaseURL)?
    let clock = TestClock()

    /// 2026-11-25T10:00:00Z.
    static let start = Date(timeIntervalSince1970: 1_795_600_800)
    static let sharedPhone = "+15550001111"

    /// A fixture whose server records on SQLite and, when the tests have a PostgreSQL server, on PostgreSQL too
    /// (see `TwinEventStore`), both holding the same customers and messages.
    static func make() async throws -> ServerFixture {
        guard TwinEventStore.isEnabled else { return try ServerFixture(postgres: nil) }
        let postgres = try await PostgresServer.freshStore()
        let fixture = try ServerFixture(postgres: postgres)
        try await postgres.0.replaceContents(from: fixture.database)
        _ = try await postgres.0.commit(try await fixture.database.reader.read { db in try OutboxMessage.fetchAll(db) })
        return fixture
    }

    private init(postgres: (store: PostgresStore, url: DatabaseURL)?) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("nudge-server-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let database = try AppDatabase.open(path: directory.appendingPathComponent("nudge.sqlite").path)
        self.database = database
        self.postgres = postgres
        store = postgres.map { TwinEventStore(sqlite: database, postgres: $0.store) } ?? database
        let signedUp = StoredInstant.millis(Self.start.addingTimeInterval(-86_400 * 30))
        try database.writer.write { db in
            for (id, phone) in [("c1", Self.sharedPhone), ("c2", Self.sharedPhone), ("c3", "+15550002222")] {
                try db.execute(
                    sql: """
                        INSERT INTO customer (id, name, email, phone, signed_up_at, email_opt_in, sms_opt_in, last_activity_at)
                        VALUES (?, ?, ?, ?, ?, 1, 1, ?)
                        """,
                    arguments: [id, "Ana \(id)", "\(id)@example.com", phone, signedUp, signedUp])
            }
            for (id, customer, channel) in [
                ("msg_email", "c1", "email"), ("msg_sms", "c1", "sms"), ("msg_c3", "c3", "sms"),
            ] {
                try db.execute(
                    sql: """
                        INSERT INTO outbox (id, workflow_id, customer_id, occurrence, action_index, channel, recipient,
                          template, body, due_at, created_at, status, next_attempt_at)
                        VALUES (?, 'w', ?, ?, 0, ?, 'someone', 't', 'Hello', ?, ?, 'delivered', ?)
                        """,
                    arguments: [id, customer, "occ-\(id)", channel, signedUp, signedUp, signedUp])
            }
        }
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
        if let postgres { PostgresServer.dispose(postgres.store, postgres.url) }
    }

    /// The application over this store and clock.
    func app(
        _ settings: ServerSettings, configuration: ApplicationConfiguration = ApplicationConfiguration(),
        passes: (any PassStore & PlanningStore)? = nil
    ) -> some ApplicationProtocol {
        let clock = self.clock
        return buildApplication(
            settings: settings, database: store, passes: passes, configuration: configuration, now: { clock.now },
            logger: Self.logger)
    }

    /// A customer's consent columns.
    func optIns(_ customerID: String) throws -> (email: Bool, sms: Bool) {
        let row = try #require(
            try database.reader.read { db in
                try Row.fetchOne(
                    db, sql: "SELECT email_opt_in, sms_opt_in FROM customer WHERE id = ?", arguments: [customerID])
            })
        return (row["email_opt_in"], row["sms_opt_in"])
    }

    /// How many delivery events and consent changes are stored.
    func counts() throws -> (events: Int, consentChanges: Int) {
        try database.reader.read { db in
            (
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM delivery_event") ?? 0,
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM consent_change") ?? 0
            )
        }
    }

    static let logger: Logger = {
        var logger = Logger(label: "nudge.server.tests")
        logger.logLevel = .critical
        return logger
    }()
}

/// Signs requests as the providers do, with keys made for the test.
struct ProviderKeys: Sendable {
    /// A fresh SendGrid key pair (kept as bytes: the key type is not `Sendable`).
    private let sendGridKey = P256.Signing.PrivateKey().rawRepresentation
    var sendGrid: P256.Signing.PrivateKey {
        // The bytes come from a valid key.
        try! P256.Signing.PrivateKey(rawRepresentation: sendGridKey)
    }
    static let mailgunKey = "test-signing-key"
    static let twilioToken = "twilio-auth-token"
    static let unsubscribeSecret = "unsubscribe-secret"
    static let publicURL = "https://hooks.example.com"

    /// Settings with every route live.
    var settings: ServerSettings {
        ServerSettings(
            businessName: "Bean There Café", publicURL: Self.publicURL,
            webhooks: [
                SendGridWebhooks(
                    verifier: SendGridSignature(publicKey: sendGrid.publicKey.derRepresentation.base64EncodedString())),
                MailgunWebhooks(verifier: MailgunSignature(signingKey: Self.mailgunKey)),
                TwilioWebhooks(verifier: TwilioSignature(authToken: Self.twilioToken)),
            ],
            unsubscribe: Self.links)
    }

    static let links = UnsubscribeLinks(baseURL: publicURL, secret: unsubscribeSecret)

    /// The SendGrid headers for `body` sent at `timestamp`.
    func sendGridHeaders(_ body: String, timestamp: Date) throws -> HTTPFields {
        let seconds = String(Int(timestamp.timeIntervalSince1970))
        let signature = try sendGrid.signature(for: Data((seconds + body).utf8)).derRepresentation.base64EncodedString()
        var headers: HTTPFields = [.contentType: "application/json"]
        headers[HTTPField.Name("X-Twilio-Email-Event-Webhook-Signature")!] = signature
        headers[HTTPField.Name("X-Twilio-Email-Event-Webhook-Timestamp")!] = seconds
        return headers
    }

    /// A Mailgun webhook body for `eventData` (JSON text), signed with `token` at `timestamp`.
    static func mailgunBody(_ eventData: String, token: String, timestamp: Date, key: String = mailgunKey) -> String {
        let seconds = String(Int(timestamp.timeIntervalSince1970))
        let mac = HMAC<SHA256>.authenticationCode(
            for: Data((seconds + token).utf8), using: SymmetricKey(data: Data(key.utf8)))
        let hex = mac.map { String(format: "%02x", $0) }.joined()
        return """
            {"signature":{"timestamp":"\(seconds)","token":"\(token)","signature":"\(hex)"},"event-data":\(eventData)}
            """
    }

    /// The form body and headers of a Twilio callback to `pathAndQuery`, signed for `url` (default: the public URL).
    static func twilioRequest(
        _ pathAndQuery: String, parameters: [(name: String, value: String)], signedURL: String? = nil,
        token: String = twilioToken
    ) -> (headers: HTTPFields, body: String) {
        let url = signedURL ?? publicURL + pathAndQuery
        let signature = TwilioSignature(authToken: token).signature(url: url, parameters: parameters)
        var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
        headers[HTTPField.Name("X-Twilio-Signature")!] = signature
        return (headers, formEncode(parameters))
    }

    static func formEncode(_ parameters: [(name: String, value: String)]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return parameters.map { name, value in
            let encode = { (text: String) in text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text }
            return encode(name) + "=" + encode(value)
        }.joined(separator: "&")
    }
}

extension TestClientProtocol {
    /// POSTs `body` to `uri`.
    func post(_ uri: String, headers: HTTPFields = [:], body: String) async throws -> TestResponse {
        try await execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: body))
    }
}

extension TestResponse {
    /// The body as text.
    var text: String { String(buffer: body) }
}

/// The server's store in tests with a PostgreSQL server (`NUDGE_TEST_POSTGRES_URL`; `.ci/run` starts one): every
/// call goes to SQLite and to PostgreSQL holding the same rows, and must get the same answer; after every event
/// recorded, both hold the same events, consent changes and opt-ins for every customer of the fixture. So every
/// route test checks both stores.
final class TwinEventStore: EventStore {
    let sqlite: any EventStore & PlanningStore
    let postgres: any EventStore & PlanningStore

    static let isEnabled = PostgresServer.isUsed("server tests record")

    init(sqlite: AppDatabase, postgres: PostgresStore) {
        self.sqlite = sqlite
        self.postgres = postgres
    }

    func history(customerID: String) async throws -> [(message: OutboxMessage, attempts: [DeliveryAttempt])] {
        let here = try await sqlite.history(customerID: customerID)
        let there = try await postgres.history(customerID: customerID)
        #expect(there.map { "\($0.message) \($0.attempts)" } == here.map { "\($0.message) \($0.attempts)" })
        return here
    }

    func customerExists(_ id: String) async throws -> Bool {
        let here = try await sqlite.customerExists(id)
        #expect(try await postgres.customerExists(id) == here, "PostgreSQL knows customer \(id) otherwise")
        return here
    }

    func outboxSummary() async throws -> [OutboxSummaryRow] {
        let here = try await sqlite.outboxSummary()
        #expect(try await postgres.outboxSummary() == here)
        return here
    }

    func deliveredCounts(after: [Date], through: Date) async throws -> [String: [Int]] {
        let here = try await sqlite.deliveredCounts(after: after, through: through)
        #expect(try await postgres.deliveredCounts(after: after, through: through) == here)
        return here
    }

    func record(_ event: DeliveryEvent, consent: [ConsentChange], receivedAt: Date) async throws -> Bool {
        let here = try await sqlite.record(event, consent: consent, receivedAt: receivedAt)
        #expect(try await postgres.record(event, consent: consent, receivedAt: receivedAt) == here)
        for customer in ["c1", "c2", "c3"] {
            #expect(try await postgres.deliveryEvents(customerID: customer) == sqlite.deliveryEvents(customerID: customer))
            let changes: [String] = try await sqlite.consentChanges(customerID: customer).map { "\($0.change) \($0.at)" }
            #expect(try await postgres.consentChanges(customerID: customer).map { "\($0.change) \($0.at)" } == changes)
            let optIns = try await sqlite.customer(id: customer).map { [$0.isEmailOptIn, $0.isSMSOptIn, $0.isPushOptIn] }
            #expect(try await postgres.customer(id: customer).map { [$0.isEmailOptIn, $0.isSMSOptIn, $0.isPushOptIn] } == optIns)
        }
        return here
    }

    func customerIDs(phone: String) async throws -> [String] {
        let here = try await sqlite.customerIDs(phone: phone)
        #expect(try await postgres.customerIDs(phone: phone) == here)
        return here
    }

    func deliveryEvents(customerID: String) async throws -> [DeliveryEvent] {
        let here = try await sqlite.deliveryEvents(customerID: customerID)
        #expect(try await postgres.deliveryEvents(customerID: customerID) == here)
        return here
    }

    func consentChanges(customerID: String) async throws -> [(change: ConsentChange, at: Date)] {
        let here = try await sqlite.consentChanges(customerID: customerID)
        #expect(try await postgres.consentChanges(customerID: customerID).map { "\($0.change) \($0.at)" } == here.map { "\($0.change) \($0.at)" })
        return here
    }
}
