import Foundation
import GRDB
import NudgeLanguage

/// What another store needs to run an import through a scratch SQLite database: the keys a file names, and rows
/// moved in and out as text. Every file is then checked by the one importer, so the same file gets the same
/// messages on both stores.
public struct ImportKeys: Sendable {
    /// The header's column names.
    public var columns: [String]
    /// Customer ids the file names (`id` of customers, `customer_id` of visits and progress).
    public var customerIDs: [String]
    /// Offer ids the file names (`id` of offers, `offer_id` of progress).
    public var offerIDs: [String]

    /// Reads the key columns of `path`; a file the importer will reject anyway gives what could be read.
    public static func read(_ kind: ImportKind, path: String) throws -> ImportKeys {
        var reader = try CSVReader(path: path)
        var keys = ImportKeys(columns: [], customerIDs: [], offerIDs: [])
        guard let header = try? reader.next() else { return keys }
        keys.columns = header.fields.map { $0.trimmingCharacters(in: .whitespaces) }
        let customerColumn = keys.columns.firstIndex(of: kind == .customers ? "id" : "customer_id")
        let offerColumn = keys.columns.firstIndex(of: kind == .offers ? "id" : "offer_id")
        var customers = Set<String>()
        var offers = Set<String>()
        while let record = try? reader.next() {
            let fields = record.fields
            if kind != .offers, let customerColumn, customerColumn < fields.count {
                customers.insert(fields[customerColumn].trimmingCharacters(in: .whitespaces))
            }
            if kind == .offers || kind == .progress, let offerColumn, offerColumn < fields.count {
                offers.insert(fields[offerColumn].trimmingCharacters(in: .whitespaces))
            }
        }
        keys.customerIDs = customers.sorted()
        keys.offerIDs = offers.sorted()
        return keys
    }
}

extension AppDatabase {
    /// Inserts rows given as text (NULL for nil) into `table`, replacing rows with the same key. Values are bound
    /// as text: the columns' affinity makes numbers of numeric text, and text keys such as `007` stay as written.
    public func insertText(table: String, columns: [String], rows: [[String?]]) throws {
        guard !rows.isEmpty else { return }
        try writer.write { db in
            let placeholders = Array(repeating: "?", count: columns.count).joined(separator: ", ")
            let statement = try db.makeStatement(
                sql: "INSERT OR REPLACE INTO \(table) (\(columns.joined(separator: ", "))) VALUES (\(placeholders))")
            for row in rows { try statement.execute(arguments: StatementArguments(row)) }
        }
    }

    /// Up to `limit` rows of `table`, every column of `columns` as text (nil for NULL), in the order of its
    /// primary key `key` (a prefix of `columns`), after the row whose key is `after`: one page of a table read
    /// page by page, so that a large import never holds a whole table in memory.
    public func textRows(of table: String, columns: [String], key: [String], after: [String?]?, limit: Int) throws
        -> [[String?]]
    {
        let keyList = key.joined(separator: ", ")
        var sql = "SELECT \(columns.joined(separator: ", ")) FROM \(table)"
        var arguments = StatementArguments()
        if let after {
            sql += " WHERE (\(keyList)) > (\(Array(repeating: "?", count: key.count).joined(separator: ", ")))"
            arguments = StatementArguments(after)
        }
        sql += " ORDER BY \(keyList) LIMIT \(limit)"
        return try reader.read { db in
            var rows: [[String?]] = []
            let cursor = try Row.fetchCursor(db, sql: sql, arguments: arguments)
            while let row = try cursor.next() {
                rows.append(
                    row.databaseValues.map { value in
                        switch value.storage {
                        case .null: return nil
                        case .int64(let n): return String(n)
                        case .double(let d): return String(d)
                        case .string(let s): return s
                        case .blob(let data): return String(decoding: data, as: UTF8.self)
                        }
                    })
            }
            return rows
        }
    }
}
