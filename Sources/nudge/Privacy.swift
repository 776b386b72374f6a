import ArgumentParser
import Foundation
import NudgeEngine
import NudgeLanguage
import NudgeProviders
import NudgeStore
import NudgeCore

extension NudgeCommand.Customers {
    /// `nudge customers export ID`: everything held about one customer, as one JSON document (GDPR access).
    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export",
            abstract: "Everything held about a customer as one JSON document (GDPR access).",
            discussion: """
                The profile (every field, segments, engagement, stamp cards), the visits, the ledger, the segments a \
                run recorded, every outbox message with its address, rendered text and attempts, every delivery event \
                and every consent change.
                """)

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The customer id.")
        var id: String

        @OptionGroup var now: NowOption

        func run() async throws {
            let (record, instant) = try await loadCustomer(id, global: global, now: now) { project, store, instant in
                try await CustomerRecord.load(id: id, project: project, store: store, now: instant)
            }
            Console.out(Self.json(record, now: instant))
        }

        static func json(_ record: CustomerRecord, now: Date) -> String {
            let profile = record.profile
            // The document's parts are the nouns of the issue: profile, visits, progress, ledger, outbox, delivery
            // events, consent changes (the profile's own summaries of the last three, and its stamp cards, are left out).
            let summaries: Set<String> = ["messages", "events", "consent_changes", "progress"]
            let fields = Show.jsonFields(profile)
            let progress: Any? = fields.first { $0.0 == "progress" }.flatMap { $0.1 }
            return JSONText.object([
                ("customer", profile.customer.id),
                ("exported_at", ISO8601.format(now)),
                ("profile", JSONText.Raw(JSONText.object(fields.filter { !summaries.contains($0.0) }))),
                (
                    "visits",
                    JSONText.Raw.array(
                        record.visits.map { visit in
                            JSONText.object([
                                ("visited_at", ISO8601.format(visit.visitedAt)),
                                ("amount", visit.amountCents.map { Double($0) / 100 }),
                            ])
                        })
                ),
                ("progress", progress),
                (
                    "segment_entries",
                    JSONText.Raw.array(
                        record.segmentEntries.map { JSONText.object([("segment", $0.segment), ("entered_on", $0.enteredOn)]) })
                ),
                (
                    "ledger",
                    JSONText.Raw.array(
                        record.ledger.map { entry in
                            JSONText.object([
                                ("workflow", entry.workflowID), ("occurrence", entry.occurrence),
                                ("committed_at", ISO8601.format(entry.committedAt)),
                            ])
                        })
                ),
                ("outbox", JSONText.Raw.array(profile.messages.map(messageJSON))),
                ("delivery_events", JSONText.Raw.array(profile.events.map(NudgeCommand.History.eventJSON))),
                (
                    "consent_changes",
                    JSONText.Raw.array(
                        profile.consentChanges.map { change, at in
                            JSONText.object([
                                ("channel", change.channel), ("opt_in", change.optIn), ("reason", change.reason),
                                ("at", ISO8601.format(at)),
                            ])
                        })
                ),
                (
                    "pass_registrations",
                    JSONText.Raw.array(
                        record.passRegistrations.map { registration in
                            JSONText.object([
                                ("pass", registration.serial), ("pass_type", registration.passTypeID),
                                ("device", registration.deviceID), ("push_token", registration.pushToken),
                                ("registered_at", ISO8601.format(registration.registeredAt)),
                                ("unregistered_at", registration.unregisteredAt.map(ISO8601.format)),
                            ])
                        })
                ),
            ])
        }

        /// A message as the outbox holds it: address, rendered text, state and every attempt.
        static func messageJSON(_ message: OutboxMessage, attempts: [DeliveryAttempt]) -> String {
            let instant = { (millis: Int64?) in millis.map { ISO8601.format(StoredInstant.date($0)) } }
            return JSONText.object([
                ("id", message.id), ("workflow", message.workflowId), ("occurrence", message.occurrence),
                ("action", message.actionIndex), ("channel", message.channel), ("to", message.recipient),
                ("template", message.template), ("heading_key", message.headingKey), ("heading", message.heading),
                ("body", message.body), ("text", message.textBody), ("status", historyState(message)),
                ("reason", message.reason), ("due", instant(message.dueAt)), ("created_at", instant(message.createdAt)),
                ("delivered_at", instant(message.deliveredAt)), ("provider_message_id", message.providerMessageId),
                (
                    "attempts",
                    JSONText.Raw.array(
                        attempts.map { attempt in
                            JSONText.object([
                                ("attempt", attempt.attempt), ("at", instant(attempt.at)), ("outcome", attempt.outcome),
                                ("detail", attempt.detail),
                            ])
                        })
                ),
            ])
        }
    }

    /// `nudge customers erase ID`: the customer's personal data removed (GDPR erasure).
    struct Erase: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "erase",
            abstract: "Remove a customer's personal data from every table, in one transaction (GDPR erasure).",
            discussion: """
                Deletes the profile, visits, stamp cards and segment entries; clears the outbox's addresses and \
                rendered text, the delivery attempts' provider details and the delivery events' payloads; the \
                ledger, the outbox, delivery events and consent changes keep only a keyed hash of the id \
                (HMAC-SHA256 with the key in \(ErasureKey.variable), else one made for the database and kept in it), \
                so that importing the same id again never re-sends an occurrence already sent. Messages still waiting are not sent. Lists the lines of `file` \
                provider outputs that hold messages to the customer; --include-files rewrites them without the \
                personal fields. Erasing an erased customer again changes only what holds the id since.
                """)

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The customer id.")
        var id: String

        @Flag(help: "Also rewrite the customer's lines in the file provider's outputs without the personal fields.")
        var includeFiles = false

        @OptionGroup var now: NowOption

        func run() async throws {
            let project = try loadProject(global)
            let instant = try now.instant(in: project.config.timeZone)
            let key = try ErasureKey(environment: ProcessInfo.processInfo.environment)
            let outcome = try await withStore(
                project.databasePath(override: global.db), config: project.config, global: global
            ) { store in
                // Under the planning lock: a run planning meanwhile would commit messages naming the customer.
                try await store.withPlanningLock {
                    try await CustomerErasure.erase(id: id, store: store, key: key, now: instant)
                }
            }
            let pseudonym: String
            let rows: [(table: String, rows: Int)]
            switch outcome {
            case .unknown:
                Console.error("error: no customer '\(id)'")
                throw ExitCode(1)
            case .erased(let hash, let changed):
                (pseudonym, rows) = (hash, changed)
                Console.out("erased customer \(id): the ledger, outbox and events now name \(hash)")
            case .alreadyErased(let hash, let at, let changed):
                (pseudonym, rows) = (hash, changed)
                Console.out("customer \(id) was erased at \(ISO8601.format(at)); they are named \(hash)")
            }
            if rows.isEmpty {
                Console.out("  no row of the database holds the id any more")
            } else {
                Console.out(
                    formatTable(
                        rows.map { ["  " + $0.table, "\($0.rows) row\($0.rows == 1 ? "" : "s")", Self.effect[$0.table] ?? ""] }))
            }
            try eraseFiles(project: project, pseudonym: pseudonym)
        }

        /// What an erasure does to each table's rows.
        static let effect = [
            "customer": "deleted", "visit": "deleted", "progress": "deleted", "segment_entry": "deleted",
            "ledger": "keep the keyed hash", "outbox": "keep the keyed hash; address and text cleared",
            "delivery_attempt": "provider detail cleared", "delivery_event": "keep the keyed hash; payload cleared",
            "consent_change": "keep the keyed hash", "wallet_sync": "deleted",
        ]

        /// Lists, or with `--include-files` rewrites, the lines of the file provider's outputs that are messages to
        /// the customer.
        func eraseFiles(project: Project, pseudonym: String) throws {
            let paths = FileOutputs.paths(project.config, resolve: { project.resolve($0) })
            var found = 0
            for path in paths {
                let lines = try FileOutputs.lines(in: path, customerID: id)
                guard !lines.isEmpty else { continue }
                found += lines.count
                if includeFiles {
                    let count = try FileOutputs.erase(customerID: id, pseudonym: pseudonym, in: path)
                    Console.out("\(path): \(count) line\(count == 1 ? "" : "s") rewritten without the personal fields")
                } else {
                    Console.out(
                        "\(path): line\(lines.count == 1 ? "" : "s") \(lines.map(String.init).joined(separator: ", ")) "
                            + "hold\(lines.count == 1 ? "s" : "") messages to this customer")
                }
            }
            if found == 0 {
                Console.out("outside the database: no file provider output holds messages to this customer")
            } else if !includeFiles {
                Console.out(
                    "outside the database: \(found) line\(found == 1 ? "" : "s") left; rewrite them with --include-files")
            }
        }
    }
}
