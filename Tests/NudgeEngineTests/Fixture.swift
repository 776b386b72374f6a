import Foundation
import GRDB
import NudgeEngine
import NudgeLanguage
import NudgeProviders
import NudgeRender
import NudgeStore
import Testing
import NudgeCore

/// A project on disk in a temporary folder and an in-memory store, for engine tests.
struct Fixture {
    let directory: URL
    let database: AppDatabase

    static let defaultConfig = """
        business:
          name: Test Café
          timezone: America/New_York
        send_at: "09:00"
        channels:
          email:  { provider: file, path: outbox/email.jsonl }
          sms:    { provider: file, path: outbox/sms.jsonl }
          push:   { provider: file, path: outbox/push.jsonl }
          wallet: { provider: file, path: outbox/wallet.jsonl }
        """

    /// Writes `workflows` (file name → YAML) and a template for every channel of every name in `templates`.
    init(
        config: String = Fixture.defaultConfig, workflows: [String: String], templates: [String] = ["t"],
        extraFiles: [String: String] = [:]
    ) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("nudge-engine-\(UUID().uuidString)")
        try FileManager.default.createDirectory(
            at: directory.appendingPathComponent("Workflows"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(
            at: directory.appendingPathComponent("Templates"), withIntermediateDirectories: true)
        try config.write(to: directory.appendingPathComponent("nudge.yaml"), atomically: true, encoding: .utf8)
        for (name, text) in workflows {
            try text.write(to: directory.appendingPathComponent("Workflows/\(name)"), atomically: true, encoding: .utf8)
        }
        for name in templates {
            let files = [
                "\(name).email.mustache": "---\nsubject: Hi {{customer.first_name}}\n---\n<p>Hello {{customer.name}}</p>\n",
                "\(name).sms.mustache": "Hi {{customer.first_name}} from {{business.name}}\n",
                "\(name).push.mustache": "---\ntitle: Hi {{customer.first_name}}\n---\nSee you soon\n",
                "\(name).wallet.mustache": "---\nheader: {{business.name}}\n---\nA treat awaits\n",
            ]
            for (file, text) in files {
                try text.write(to: directory.appendingPathComponent("Templates/\(file)"), atomically: true, encoding: .utf8)
            }
        }
        for (path, text) in extraFiles {
            let url = directory.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        database = try AppDatabase.inMemory()
    }

    /// One workflow file `w.yaml` with id `w`.
    init(workflow body: String) throws {
        try self.init(workflows: ["w.yaml": "id: w\n" + body])
    }

    func project() throws -> Project {
        let (project, diagnostics) = Project.load(directory: directory.path, providers: Providers.catalog)
        guard let project else { throw FixtureError(message: diagnostics.map(\.description).joined(separator: "\n")) }
        return project
    }

    func plan(at now: String, workflows: Set<String>? = nil, render: Bool = false) async throws -> Plan {
        let project = try project()
        let instant = try #require(ISO8601.parse(now, zone: project.config.timeZone))
        let plan = try await Planner(project: project, store: database).plan(now: instant, workflowIDs: workflows, render: render)
        try await PostgresTwin.expectSamePlan(
            plan, project: project, source: database, now: instant, workflows: workflows, render: render)
        return plan
    }

    /// Commits the plan at `now` (as `nudge run` does, without delivering) and returns its messages.
    func commit(at now: String) async throws -> [PlannedMessage] {
        let project = try project()
        let instant = try #require(ISO8601.parse(now, zone: project.config.timeZone))
        let summary = try await Planner(project: project, store: database).commit(
            now: instant, createdAt: instant, newID: { UUID().uuidString })
        return summary.plan.messages
    }

    /// Inserts a customer; `visits` are instants of 5.00 each, which also set the derived fields.
    func add(
        _ id: String, zone: String? = nil, signedUp: String = "2020-01-01T00:00:00Z", birthDate: String? = nil,
        email: String? = nil, emailOptIn: Bool = true, phone: String? = nil, smsOptIn: Bool = true,
        pushToken: String? = nil, pushOptIn: Bool = true, wallet: String? = nil, tags: [String] = [],
        name: String = "Ana Lima", visits: [String] = [], attributes: [String: String] = [:]
    ) throws {
        let utc = TimeZone(identifier: "UTC")!
        let signedUpAt = try #require(ISO8601.parse(signedUp, zone: utc))
        let visitDates = try visits.map { try #require(ISO8601.parse($0, zone: utc)) }
        let customer = CustomerState(
            id: id, name: name, email: email ?? "\(id)@example.com", phone: phone, birthDate: birthDate, timeZone: zone,
            signedUpAt: signedUpAt, isEmailOptIn: emailOptIn, isSMSOptIn: smsOptIn, isPushOptIn: pushOptIn,
            pushToken: pushToken, walletPassID: wallet, tags: tags, attributes: attributes, lastVisitAt: visitDates.max(),
            visitsTotal: visitDates.count)
        try database.writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO customer (id, name, email, phone, birth_date, birth_month_day, birth_year, timezone,
                      signed_up_at, email_opt_in, sms_opt_in, push_opt_in, push_token, wallet_pass_id, tags, attributes,
                      last_visit_at, visits_total, lifetime_value_cents, last_activity_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    customer.id, customer.name, customer.email, customer.phone, customer.birthDate,
                    customer.birthMonthDay, customer.birthYear, customer.timeZone,
                    StoredInstant.millis(customer.signedUpAt), customer.isEmailOptIn, customer.isSMSOptIn,
                    customer.isPushOptIn, customer.pushToken, customer.walletPassID,
                    String(decoding: try JSONEncoder().encode(tags), as: UTF8.self), customer.attributesJSON,
                    customer.lastVisitAt.map(StoredInstant.millis), customer.visitsTotal, 500 * visitDates.count,
                    StoredInstant.millis(customer.lastActivityAt),
                ])
            for visit in visitDates {
                try db.execute(
                    sql: "INSERT INTO visit (customer_id, visited_at, amount_cents) VALUES (?, ?, 500)",
                    arguments: [id, StoredInstant.millis(visit)])
            }
        }
    }

    func addOffer(_ id: String, stamps: Int, publishedAt: String? = nil, category: String? = nil) throws {
        let published = try publishedAt.map { try #require(ISO8601.parse($0, zone: TimeZone(identifier: "UTC")!)) }
        try database.writer.write { db in
            try db.execute(
                sql: "INSERT INTO offer (id, name, stamps_required, published_at, category) VALUES (?, ?, ?, ?, ?)",
                arguments: [id, "Card \(id)", stamps, published.map(StoredInstant.millis), category])
        }
    }

    func setProgress(_ customer: String, offer: String, stamps: Int, rewards: Int = 0, updatedAt: String) throws {
        let updated = try #require(ISO8601.parse(updatedAt, zone: TimeZone(identifier: "UTC")!))
        try database.writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO progress (customer_id, offer_id, stamps, rewards_earned, updated_at) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT(customer_id, offer_id) DO UPDATE SET stamps = excluded.stamps,
                      rewards_earned = excluded.rewards_earned, updated_at = excluded.updated_at
                    """,
                arguments: [customer, offer, stamps, rewards, StoredInstant.millis(updated)])
        }
    }

    /// Records an occurrence as already sent.
    func markSent(_ workflow: String, _ customer: String, _ occurrence: String) throws {
        try database.writer.write { db in
            try db.execute(
                sql: "INSERT INTO ledger (workflow_id, customer_id, occurrence, committed_at) VALUES (?, ?, ?, 0)",
                arguments: [workflow, customer, occurrence])
        }
    }
}

struct FixtureError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
