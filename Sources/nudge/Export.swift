import ArgumentParser
import Foundation
import NudgeEngine
import NudgeLanguage
import NudgeStore
import NudgeCore

extension NudgeCommand {
    /// `nudge export customers`: CSV of the customers with the import's columns and the derived fields.
    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export", abstract: "Write data out as CSV.", subcommands: [CustomersCSV.self])

        struct CustomersCSV: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "customers",
                abstract: "The customers as CSV on stdout: the import's columns, then the derived fields.",
                discussion: """
                    Columns are field names without 'customer.'; --fields picks and orders them (attributes as \
                    attributes.NAME). Tags and segments are ';'-separated, instants ISO 8601 in UTC.
                    """)

            @OptionGroup var global: GlobalOptions

            @Option(help: "Only the customers in this segment.")
            var segment: String?

            @Option(help: "The columns, comma-separated (default: every field).")
            var fields: String?

            @OptionGroup var now: NowOption

            /// The import's columns, then every derived field.
            static let defaultFields: [Field.CustomerField] =
                [.id, .name, .email, .phone, .birth_date, .timezone, .signed_up_at, .email_opt_in, .sms_opt_in, .push_opt_in,
                 .push_token, .wallet_pass_id, .tags, .push_platform, .wallet_platform]
                + Field.CustomerField.allCases.filter {
                    ![.id, .name, .email, .phone, .birth_date, .timezone, .signed_up_at, .email_opt_in, .sms_opt_in,
                      .push_opt_in, .push_token, .wallet_pass_id, .tags, .push_platform, .wallet_platform, .attributes]
                        .contains($0)
                }

            func run() async throws {
                let project = try loadProject(global)
                try checkSegment(segment, in: project.config)
                let chosen = try columns()
                let instant = try now.instant(in: project.config.timeZone)
                Console.out(chosen.map { Segments.Show.csvField(Segments.Show.key($0)) }.joined(separator: ","))
                try await withStore(
                    project.databasePath(override: global.db), config: project.config, global: global, reading: true
                ) { store in
                    // Written 4,096 lines at a time: one write per customer would be a million system calls.
                    var lines: [String] = []
                    try await CustomerListing(project: project, store: store, now: instant).forEach(
                        fields: chosen, filter: .init(segment: segment)
                    ) { _, values in
                        lines.append(values.map { Segments.Show.csvField(Self.cell($0)) }.joined(separator: ","))
                        if lines.count == 4_096 {
                            Console.out(lines: lines)
                            lines.removeAll(keepingCapacity: true)
                        }
                    }
                    Console.out(lines: lines)
                }
            }

            /// The fields of `--fields`, checked.
            func columns() throws -> [Field] {
                guard let fields else { return Self.defaultFields.map(Field.customer) }
                let catalog = FieldCatalog(trigger: nil)
                return try fields.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.map { name in
                    switch catalog.resolve("customer." + name) {
                    case .success(let field) where field != .customer(.attributes):
                        return field
                    default:
                        let names = Field.CustomerField.allCases.map(\.rawValue)
                        throw ValidationError(
                            "'--fields': no customer field '\(name)'"
                                + (Suggestion.didYouMean(name, in: names).map { "; \($0)" } ?? ""))
                    }
                }
            }

            /// A CSV cell as the import reads it back: tags ';'-separated, numbers in full.
            static func cell(_ value: Value) -> String {
                switch value {
                case .number(let n): return n == n.rounded() && abs(n) < 1e15 ? String(Int(n)) : "\(n)"
                case .list(let items): return items.map(\.description).joined(separator: ";")
                default: return value.description
                }
            }
        }
    }
}
