public import Foundation
internal import GRDB
internal import NudgeLanguage

/// The kinds of CSV file `nudge import` takes (design §4).
public enum ImportKind: String, Sendable, CaseIterable {
    case customers, visits, offers, progress

    /// Columns, required first.
    var required: [String] {
        switch self {
        case .customers: return ["id", "signed_up_at"]
        case .visits: return ["customer_id", "visited_at"]
        case .offers: return ["id", "stamps_required"]
        case .progress: return ["customer_id", "offer_id", "stamps"]
        }
    }

    var optional: [String] {
        switch self {
        case .customers:
            return [
                "name", "email", "phone", "birth_date", "timezone", "email_opt_in", "sms_opt_in", "push_opt_in",
                "push_token", "wallet_pass_id", "tags",
            ]
        case .visits: return ["amount"]
        case .offers: return ["name"]
        case .progress: return ["rewards_earned", "updated_at"]
        }
    }
}

/// A bad row: `FILE:LINE: message`.
public struct ImportProblem: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var message: String

    public var description: String { "\(file):\(line): \(message)" }
}

/// An import rejected whole: nothing was written.
public struct ImportRejected: Error, Sendable, CustomStringConvertible {
    /// The bad rows (at most `ImportOptions.maxProblems`).
    public var problems: [ImportProblem]
    /// Bad rows beyond those listed.
    public var unlisted: Int

    public var description: String {
        var lines = problems.map(\.description)
        if unlisted > 0 { lines.append("… and \(unlisted) more bad rows") }
        return lines.joined(separator: "\n")
    }
}

/// What an import did.
public struct ImportSummary: Sendable {
    public var kind: ImportKind
    /// Data rows read (header excluded).
    public var rows: Int
    public var seconds: Double
}

/// Settings for one import.
public struct ImportOptions: Sendable {
    /// The zone for customers without one (nudge.yaml's business timezone).
    public var defaultZone: TimeZone
    /// The import time: the default `updated_at` of progress rows.
    public var now: Date
    /// The file name used in messages.
    public var displayPath: String
    /// How many bad rows to list before only counting.
    public var maxProblems = 1000
    /// Called every `progressInterval` rows with (rows, bytes read, total bytes).
    public var progress: (@Sendable (Int, Int, Int) -> Void)?
    public var progressInterval = 100_000

    public init(defaultZone: TimeZone, now: Date, displayPath: String) {
        self.defaultZone = defaultZone
        self.now = now
        self.displayPath = displayPath
    }
}

extension AppDatabase {
    /// Imports a CSV file of `kind` in one transaction: all rows upserted, or, when any row is bad, none.
    public func importCSV(_ kind: ImportKind, path: String, options: ImportOptions) throws -> ImportSummary {
        let started = Date()
        var reader = try CSVReader(path: path)
        var problems: [ImportProblem] = []
        var badRows = 0
        func report(_ line: Int, _ message: String) {
            badRows += 1
            if problems.count < options.maxProblems {
                problems.append(ImportProblem(file: options.displayPath, line: line, message: message))
            }
        }
        let header: CSVRecord
        do {
            guard let first = try reader.next() else {
                throw ImportRejected(
                    problems: [ImportProblem(file: options.displayPath, line: 1, message: "the file is empty; a header row is required")],
                    unlisted: 0)
            }
            header = first
        } catch let error as CSVSyntaxError {
            throw ImportRejected(problems: [ImportProblem(file: options.displayPath, line: error.line, message: error.message)], unlisted: 0)
        }
        let columns = header.fields.map { $0.trimmingCharacters(in: .whitespaces) }
        var headerProblems: [String] = []
        var seen = Set<String>()
        for column in columns {
            if column.isEmpty { headerProblems.append("the header has an empty column name") }
            if !seen.insert(column).inserted { headerProblems.append("column '\(column)' appears twice in the header") }
            if kind != .customers, !column.isEmpty, !(kind.required + kind.optional).contains(column) {
                var message = "unknown column '\(column)' for \(kind.rawValue)"
                if let hint = Suggestion.didYouMean(column, in: kind.required + kind.optional) { message += " (\(hint))" }
                headerProblems.append(message)
            }
        }
        for column in kind.required where !columns.contains(column) {
            headerProblems.append("missing required column '\(column)'")
        }
        if !headerProblems.isEmpty {
            throw ImportRejected(
                problems: headerProblems.map { ImportProblem(file: options.displayPath, line: header.line, message: $0) },
                unlisted: 0)
        }

        var rows = 0
        try writer.write { db in
            var writer = try RowWriter(kind: kind, columns: columns, db: db, options: options)
            while true {
                let record: CSVRecord
                do {
                    guard let next = try reader.next() else { break }
                    record = next
                } catch let error as CSVSyntaxError {
                    report(error.line, error.message)
                    break
                }
                // A line of only spaces is blank, like an empty one.
                if record.fields.count == 1, record.fields[0].allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
                rows += 1
                if record.fields.count != columns.count {
                    report(record.line, "expected \(columns.count) fields as in the header, found \(record.fields.count)")
                } else {
                    do {
                        try writer.write(record.fields, db: db)
                    } catch let error as RowError {
                        report(record.line, error.message)
                    }
                }
                if rows % options.progressInterval == 0 {
                    options.progress?(rows, reader.bytesRead, reader.totalBytes)
                }
            }
            if badRows > 0 {
                throw ImportRejected(problems: problems, unlisted: badRows - problems.count)
            }
            try writer.finish(db: db)
        }
        return ImportSummary(kind: kind, rows: rows, seconds: Date().timeIntervalSince(started))
    }
}

/// Why one row is bad.
struct RowError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}
