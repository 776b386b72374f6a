import ArgumentParser
import Foundation
import NudgeEngine
import NudgeLanguage
import NudgeStore
import NudgeCore

extension NudgeCommand {
    /// `nudge customers show|list|export|erase`.
    struct Customers: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "customers", abstract: "Look customers up; export or erase what is held about one (GDPR).",
            subcommands: [Show.self, List.self, Export.self, Erase.self])

        /// `nudge customers list`.
        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "list", abstract: "The customers, by id: status, lifecycle, segments, visits, value, churn risk.")

            @OptionGroup var global: GlobalOptions

            @Option(help: "Only the customers in this segment.")
            var segment: String?

            @Option(help: "Only the customers of this status (vip, new, inactive, churning, active).")
            var status: String?

            @Option(help: "Only the customers whose id, name, email or phone contains this text (any case).")
            var search: String?

            @OptionGroup var now: NowOption

            @Option(help: "table (default), json (JSON Lines) or csv.")
            var format: MemberFormat = .table

            static let fields: [Field.CustomerField] = [
                .name, .email, .status, .lifecycle, .segments, .visits_total, .lifetime_value, .churn_risk, .next_action,
            ]

            func run() async throws {
                let project = try loadProject(global)
                try checkSegment(segment, in: project.config)
                let statuses = ["vip", "new", "inactive", "churning", "active"]
                if let status, !statuses.contains(status) {
                    throw ValidationError(
                        "no status '\(status)'" + (Suggestion.didYouMean(status, in: statuses).map { "; \($0)" } ?? ""))
                }
                let instant = try now.instant(in: project.config.timeZone)
                let keys = ["id"] + Self.fields.map(\.rawValue)
                var rows: [[Value]] = []
                try await withStore(
                    project.databasePath(override: global.db), config: project.config, global: global, reading: true
                ) { store in
                    try await CustomerListing(project: project, store: store, now: instant).forEach(
                        fields: Self.fields.map(Field.customer),
                        filter: .init(segment: segment, status: status, search: search)
                    ) { customer, values in rows.append([Value.string(customer.id)] + values) }
                }
                format.print(keys: keys, rows: rows, null: "-")
                if format == .table { Console.error("\(rows.count) customers") }
            }
        }

        struct Show: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "show",
                abstract: "Who a customer is: every field, segments, model, engagement, stamp cards, consent, messages.")

            @OptionGroup var global: GlobalOptions

            @Argument(help: "The customer id.")
            var id: String

            @OptionGroup var now: NowOption

            @Option(help: "table (default) or json.")
            var format: PlanFormat = .table

            func run() async throws {
                let (profile, _) = try await loadCustomer(id, global: global, now: now) { project, store, instant in
                    try await CustomerProfile.load(id: id, project: project, store: store, now: instant)
                }
                switch format {
                case .json: Console.out(Self.json(profile))
                case .table: Console.out(Self.table(profile))
                }
            }

            static func json(_ profile: CustomerProfile) -> String {
                JSONText.object(jsonFields(profile))
            }

            /// The keys and values of the JSON profile, in order.
            static func jsonFields(_ profile: CustomerProfile) -> [(String, Any?)] {
                let e = profile.engagement
                return
                    profile.fields.map { ($0.name, Segments.Show.json($0.value) as Any?) } + [
                        ("attributes", JSONText.Raw(JSONText.object(profile.attributes.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }))),
                        (
                            "engagement",
                            JSONText.Raw(
                                JSONText.object([
                                    ("recency", e.recency), ("frequency", e.frequency), ("spend", e.spend),
                                    ("response", e.response), ("score", e.score),
                                ]))
                        ),
                        ("model_fitted", profile.hasModel),
                        (
                            "progress",
                            JSONText.Raw.array(
                                profile.cards.map { card in
                                    JSONText.object([
                                        ("offer", card.offerID), ("name", card.offerName), ("stamps", card.stamps),
                                        ("stamps_required", card.stampsRequired), ("percent", card.percent),
                                        ("rewards_earned", card.rewardsEarned), ("updated_at", ISO8601.format(card.updatedAt)),
                                    ])
                                })
                        ),
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
                            "messages",
                            JSONText.Raw.array(
                                profile.messages.map { message, attempts in
                                    JSONText.object([
                                        ("id", message.id), ("workflow", message.workflowId), ("occurrence", message.occurrence),
                                        ("channel", message.channel), ("status", historyState(message)),
                                        ("created_at", ISO8601.format(StoredInstant.date(message.createdAt))),
                                        ("attempts", attempts.count),
                                    ])
                                })
                        ),
                        ("events", JSONText.Raw.array(profile.events.map(History.eventJSON))),
                    ]
            }

            static func table(_ profile: CustomerProfile) -> String {
                var lines = ["customer \(profile.customer.id)"]
                lines += tableLines(
                    profile.fields.map { ["  " + $0.name, $0.value.isNull ? "-" : $0.value.description] }
                        + profile.attributes.sorted { $0.key < $1.key }.map { ["  attributes." + $0.key, $0.value] })
                if !profile.hasModel { lines.append("  (no customer model fitted yet: run 'nudge model fit')") }
                let e = profile.engagement
                lines.append("segments: " + (profile.segments.isEmpty ? "none" : profile.segments.joined(separator: ", ")))
                lines.append(
                    String(
                        format: "engagement %d = 100 × (0.35 × recency %.2f + 0.25 × frequency %.2f + 0.2 × spend %.2f + 0.2 × response %.2f)",
                        e.score, e.recency, e.frequency, e.spend, e.response))
                lines.append("stamp cards:" + (profile.cards.isEmpty ? " none" : ""))
                for card in profile.cards {
                    lines.append(
                        "  \(card.offerID): \(card.stamps)/\(card.stampsRequired) (\(Value.format(card.percent)) %), "
                            + "\(card.rewardsEarned) rewards, updated \(ISO8601.format(card.updatedAt))")
                }
                lines.append("consent changes:" + (profile.consentChanges.isEmpty ? " none" : ""))
                for (change, at) in profile.consentChanges {
                    lines.append("  \(ISO8601.format(at)) \(change.channel) \(change.action): \(change.cause)")
                }
                lines.append("last messages:" + (profile.messages.isEmpty ? " none" : ""))
                for (message, attempts) in profile.messages {
                    lines.append(
                        "  \(ISO8601.format(StoredInstant.date(message.createdAt))) \(message.workflowId) \(message.occurrence) "
                            + "\(message.channel ?? "-") \(historyState(message)) (\(attempts.count) attempt\(attempts.count == 1 ? "" : "s"))")
                }
                lines.append("last delivery events:" + (profile.events.isEmpty ? " none" : ""))
                for event in profile.events {
                    lines.append("  \(ISO8601.format(event.at)) \(event.kind.rawValue) (\(event.provider))")
                }
                return lines.joined(separator: "\n")
            }
        }
    }
}

/// What `load` reads of customer `id` at `--now`, the database only read, and that instant; exit 1 for an unknown id.
func loadCustomer<T: Sendable>(
    _ id: String, global: GlobalOptions, now: NowOption,
    _ load: (Project, any Store, Date) async throws -> T?
) async throws -> (T, Date) {
    let project = try loadProject(global)
    let instant = try now.instant(in: project.config.timeZone)
    let loaded = try await withStore(
        project.databasePath(override: global.db), config: project.config, global: global, reading: true
    ) { store in
        try await load(project, store, instant)
    }
    guard let loaded else {
        Console.error("error: no customer '\(id)'")
        throw ExitCode(1)
    }
    return (loaded, instant)
}

/// Rejects an unknown `--segment` as a usage error, with a suggestion.
func checkSegment(_ name: String?, in config: ProjectConfig) throws {
    guard let name, config.segment(named: name) == nil else { return }
    let names = config.segments.map(\.name)
    throw ValidationError(
        "no segment '\(name)'"
            + (Suggestion.didYouMean(name, in: names).map { "; \($0)" } ?? "; segments: " + names.joined(separator: ", ")))
}
