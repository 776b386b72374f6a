import ArgumentParser
import Foundation
import NudgeEngine
import NudgeLanguage
import NudgeStore
import NudgeCore

extension NudgeCommand {
    /// `nudge history CUSTOMER`: what a customer was sent or not sent, when, how, and the outcome.
    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "history",
            abstract: "Show a customer's communication history: sent, failed, suppressed or pending, with reasons."
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The customer id.")
        var customer: String

        @Option(help: "table (default) or json (JSON Lines).")
        var format: PlanFormat = .table

        func run() async throws {
            let settings = try loadSettings(global)
            let (history, events, consent, registrations, exists) = try await withStore(
                settings.databasePath, config: settings.config, global: global, reading: true
            ) { store in
                let history = try await store.history(customerID: customer)
                let events = try await store.deliveryEvents(customerID: customer)
                let consent = try await store.consentChanges(customerID: customer)
                let registrations = try await store.passRegistrations(customerID: customer)
                let isEmpty = history.isEmpty && events.isEmpty && consent.isEmpty && registrations.isEmpty
                return (
                    history, events, consent, registrations, isEmpty ? try await store.customerExists(customer) : true
                )
            }
            if history.isEmpty && events.isEmpty && consent.isEmpty && registrations.isEmpty {
                if !exists {
                    Console.error("error: no customer '\(customer)'")
                    throw ExitCode(1)
                }
                Console.error("no messages for customer '\(customer)' yet")
                return
            }
            switch format {
            case .json:
                for (message, attempts) in history {
                    Console.out(
                        JSONText.object([
                            ("id", message.id), ("workflow", message.workflowId), ("occurrence", message.occurrence),
                            ("channel", message.channel), ("to", message.recipient), ("template", message.template),
                            ("status", historyState(message)), ("reason", message.reason), ("variant", message.variant),
                            ("created_at", ISO8601.format(StoredInstant.date(message.createdAt))),
                            ("delivered_at", message.deliveredAt.map { ISO8601.format(StoredInstant.date($0)) }),
                            ("attempts", attempts.count),
                            (
                                "events",
                                JSONText.Raw.array(events.filter { $0.outboxID == message.id }.reversed().map(Self.eventJSON))
                            ),
                        ]))
                }
                // Events that name no message of ours (an inbound STOP) and consent changes, as lines of their own.
                let ids = Set(history.map(\.message.id))
                for event in events where event.outboxID.map({ !ids.contains($0) }) ?? true {
                    Console.out(JSONText.object([("event", JSONText.Raw(Self.eventJSON(event)))]))
                }
                for (change, at) in consent {
                    Console.out(
                        JSONText.object([
                            ("consent", change.channel), ("opt_in", change.optIn), ("reason", change.reason),
                            ("at", ISO8601.format(at)),
                        ]))
                }
                for registration in registrations {
                    Console.out(
                        JSONText.object([
                            ("pass_registration", registration.serial), ("pass_type", registration.passTypeID),
                            ("device", registration.deviceID),
                            ("registered_at", ISO8601.format(registration.registeredAt)),
                            ("unregistered_at", registration.unregisteredAt.map(ISO8601.format)),
                        ]))
                }
            case .table:
                var rows = [["WHEN", "WORKFLOW", "OCCURRENCE", "CHANNEL", "STATUS", "DETAIL"]]
                var lines: [(Date, [String])] = []
                let byID = Dictionary(history.map { ($0.message.id, $0.message) }, uniquingKeysWith: { a, _ in a })
                for event in events {
                    let message = event.outboxID.flatMap { byID[$0] }
                    lines.append(
                        (
                            event.at,
                            [
                                ISO8601.format(event.at), message?.workflowId ?? "-", message?.occurrence ?? "-",
                                event.channel ?? "-", event.kind.rawValue,
                                event.provider + (event.detail.map { ": \($0)" } ?? ""),
                            ]
                        ))
                }
                for (change, at) in consent {
                    lines.append(
                        (
                            at,
                            [
                                ISO8601.format(at), "-", "-", change.channel, change.action, change.cause,
                            ]
                        ))
                }
                // A device that registered the customer's Apple Wallet pass, and when it stopped.
                for registration in registrations {
                    let device = "device \(registration.deviceID.prefix(12)), pass \(registration.serial)"
                    lines.append(
                        (registration.registeredAt, [ISO8601.format(registration.registeredAt), "-", "-", "wallet", "registered", device]))
                    if let ended = registration.unregisteredAt {
                        lines.append((ended, [ISO8601.format(ended), "-", "-", "wallet", "unregistered", device]))
                    }
                }
                for (message, _) in history {
                    let when = message.deliveredAt ?? message.createdAt
                    var detail = message.reason ?? ""
                    if message.isRetrying {
                        detail = "attempt \(message.attempts), next at \(ISO8601.format(StoredInstant.date(message.nextAttemptAt))): \(detail)"
                    }
                    lines.append(
                        (
                            StoredInstant.date(when),
                            [
                                ISO8601.format(StoredInstant.date(when)), message.workflowId, message.occurrence,
                                message.channel ?? "-", historyState(message), detail,
                            ]
                        ))
                }
                // Newest first, like the messages.
                rows += lines.enumerated().sorted { a, b in
                    a.element.0 != b.element.0 ? a.element.0 > b.element.0 : a.offset < b.offset
                }.map(\.element.1)
                Console.out(formatTable(rows))
            }
        }
    }

    /// `nudge status`: the outbox by channel and state.
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status",
            abstract: "Summarise the outbox: pending, retrying, failed, delivered and suppressed messages by channel."
        )

        @OptionGroup var global: GlobalOptions

        @Option(help: "table (default) or json (one JSON object per channel).")
        var format: PlanFormat = .table

        func run() async throws {
            let settings = try loadSettings(global)
            let summary = try await withStore(settings.databasePath, config: settings.config, global: global, reading: true) {
                try await $0.outboxSummary()
            }
            let states = ["pending", "retrying", "delivered", "failed", "suppressed"]
            if format == .json {
                // One line per channel ("channel": null for messages no channel could carry), every state counted.
                for channel in Array(Set(summary.map(\.channel))).sorted(by: { ($0 ?? "") < ($1 ?? "") }) {
                    let counts = states.map { state in
                        (state, summary.filter { $0.channel == channel && $0.state == state }.map(\.count).reduce(0, +))
                    }
                    Console.out(JSONText.object([("channel", channel)] + counts.map { ($0.0, $0.1 as Any?) }))
                }
                return
            }
            var rows = [["CHANNEL"] + states.map { $0.uppercased() }]
            let channels = Array(Set(summary.map { $0.channel ?? "-" })).sorted()
            for channel in channels {
                rows.append(
                    [channel]
                        + states.map { state in
                            String(summary.filter { ($0.channel ?? "-") == channel && $0.state == state }.map(\.count).reduce(0, +))
                        })
            }
            Console.out(summary.isEmpty ? "the outbox is empty" : formatTable(rows))
        }
    }
}

extension NudgeCommand.History {
    static func eventJSON(_ event: DeliveryEvent) -> String {
        JSONText.object([
            ("kind", event.kind.rawValue), ("provider", event.provider), ("at", ISO8601.format(event.at)),
            ("detail", event.detail), ("outbox_id", event.outboxID), ("channel", event.channel),
        ])
    }
}

func historyState(_ message: OutboxMessage) -> String {
    message.isRetrying ? "retrying" : message.status.rawValue
}
