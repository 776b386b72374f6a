import ArgumentParser
import Foundation
import NudgeEngine
import NudgeLanguage
import NudgeStore
import NudgeCore

extension NudgeCommand {
    /// `nudge segments`: the segments with their members counted; `nudge segments show NAME`: the members.
    struct Segments: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "segments",
            abstract: "Count the customers in each segment, or list a segment's members.",
            discussion: """
                Segments are named conditions on customers: high_value, frequent, at_risk, vip and new are built \
                in, and nudge.yaml's 'segments:' adds more or redefines these by name.
                """,
            subcommands: [List.self, Show.self],
            defaultSubcommand: List.self
        )

        /// `nudge segments [list]`.
        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "list", abstract: "Each segment with its description and number of customers.")

            @OptionGroup var global: GlobalOptions

            @OptionGroup var now: NowOption

            @Option(help: "table (default) or json (JSON Lines: name, description, definition, count).")
            var format: PlanFormat = .table

            func run() async throws {
                let settings = try loadSettings(global)
                let instant = try now.instant(in: settings.config.timeZone)
                let counts = try await withStore(
                    settings.databasePath, config: settings.config, global: global, reading: true
                ) { store in
                    try await SegmentCensus(config: settings.config, store: store, now: instant).counts()
                }
                switch format {
                case .json:
                    Console.out(
                        lines: counts.map { segment, count in
                            JSONText.object([
                                ("name", segment.name), ("description", segment.description),
                                ("definition", segment.definition), ("count", count),
                            ])
                        })
                case .table:
                    Console.out(
                        formatTable(
                            [["SEGMENT", "CUSTOMERS", "DESCRIPTION"]]
                                + counts.map { [$0.segment.name, "\($0.count)", $0.segment.description] }))
                }
            }
        }

        /// `nudge segments show NAME`.
        struct Show: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "show",
                abstract: "The customers in a segment: id, name, email and the fields the segment reads.")

            @OptionGroup var global: GlobalOptions

            @Argument(help: "The segment's name.")
            var name: String

            @OptionGroup var now: NowOption

            @Option(help: "table (default), json (JSON Lines) or csv.")
            var format: MemberFormat = .table

            func run() async throws {
                let settings = try loadSettings(global)
                try checkSegment(name, in: settings.config)
                let instant = try now.instant(in: settings.config.timeZone)
                let listing = try await withStore(
                    settings.databasePath, config: settings.config, global: global, reading: true
                ) { store in
                    try await SegmentCensus(config: settings.config, store: store, now: instant).members(of: name)
                }
                guard let listing else { return }
                let keys = ["id", "name", "email"] + listing.fields.map(Self.key)
                func row(_ member: SegmentCensus.Member) -> [Value] {
                    let customer = member.customer
                    return [.string(customer.id), customer.name.map(Value.string) ?? .null,
                        customer.email.map(Value.string) ?? .null] + member.values
                }
                format.print(keys: keys, rows: listing.members.map(row), null: "")
                if format == .table {
                    Console.error("\(listing.members.count) customers in '\(name)': \(listing.segment.definition)")
                }
            }

            /// The output key of a field: its path without `customer.`.
            static func key(_ field: Field) -> String {
                let path = field.description
                return path.hasPrefix("customer.") ? String(path.dropFirst("customer.".count)) : path
            }

            /// A field's value for JSON.
            static func json(_ value: Value) -> Any? {
                switch value {
                case .null: return nil
                case .bool(let b): return b
                case .number(let n): return n
                case .string(let s): return s
                case .instant(let d): return ISO8601.format(d)
                case .list(let items): return JSONText.Raw.array(items.map { JSONText.encode(json($0)) })
                }
            }

            /// A CSV cell, quoted when it holds a comma, a quote or a line break (RFC 4180).
            static func csvField(_ text: String) -> String {
                guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
                return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            }
        }
    }
}

/// How `nudge segments show` and `nudge customers list` print customers.
enum MemberFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json, csv

    /// Prints `rows` under `keys`: one JSON object a line, CSV with a header row, or a table with upper-case
    /// headers where a null value shows as the text `null`.
    func print(keys: [String], rows: [[Value]], null: String) {
        typealias Show = NudgeCommand.Segments.Show
        switch self {
        case .json:
            Console.out(lines: rows.map { row in JSONText.object(Array(zip(keys, row.map(Show.json)))) })
        case .csv:
            Console.out(
                lines: [keys.map(Show.csvField).joined(separator: ",")]
                    + rows.map { $0.map { Show.csvField($0.description) }.joined(separator: ",") })
        case .table:
            Console.out(
                formatTable([keys.map { $0.uppercased() }] + rows.map { $0.map { $0.isNull ? null : $0.description } }))
        }
    }
}
