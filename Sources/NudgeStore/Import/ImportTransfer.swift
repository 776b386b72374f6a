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

    /// Reads the key columns of `path` (only its header when not `withKeys`); a file the importer will reject
    /// anyway gives what could be read. The ids come in no particular order.
    public static func read(_ kind: ImportKind, path: String, withKeys: Bool = true) throws -> ImportKeys {
        let scanner = try CSVScanner(path: path)
        var keys = ImportKeys(columns: [], customerIDs: [], offerIDs: [])
        guard (try? scanner.advance()) == true else { return keys }
        let header = scanner.record
        keys.columns = (0..<header.count).map { header.string($0).trimmingCharacters(in: .whitespaces) }
        guard withKeys else { return keys }
        let customerColumn = keys.columns.firstIndex(of: kind == .customers ? "id" : "customer_id")
        let offerColumn = keys.columns.firstIndex(of: kind == .offers ? "id" : "offer_id")
        var customers = Set<String>()
        var offers = Set<String>()
        // Only the key fields are made strings, trimmed as the importer trims them.
        while (try? scanner.advance()) == true {
            let record = scanner.record
            if kind != .offers, let customerColumn, customerColumn < record.count {
                customers.insert(FieldText(record.bytes(customerColumn))?.string ?? "")
            }
            if kind == .offers || kind == .progress, let offerColumn, offerColumn < record.count {
                offers.insert(FieldText(record.bytes(offerColumn))?.string ?? "")
            }
        }
        keys.customerIDs = Array(customers)
        keys.offerIDs = Array(offers)
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
            let statement = try RawStatement(
                db, sql: "INSERT OR REPLACE INTO \(table) (\(columns.joined(separator: ", "))) VALUES (\(placeholders))")
            for row in rows {
                statement.bindTexts(row)
                try statement.run()
            }
        }
    }

    /// Reads one page of `table`: up to `limit` rows in the order of its primary key `key` (a prefix of
    /// `columns`), after the row whose key is `after`, so that a large import never holds a whole table in memory.
    /// `row` is given each row's `columns` as text bytes (nil for NULL), valid only during the call: no string is
    /// made per value. Returns the key of the page's last row when the page is full (the `after` of the next
    /// page), nil when the table has no more rows.
    public func textPage(
        of table: String, columns: [String], key: [String], after: [String?]?, limit: Int,
        row: ([UnsafeBufferPointer<UInt8>?]) throws -> Void
    ) throws -> [String?]? {
        let keyList = key.joined(separator: ", ")
        var sql = "SELECT \(columns.joined(separator: ", ")) FROM \(table)"
        if after != nil {
            sql += " WHERE (\(keyList)) > (\(Array(repeating: "?", count: key.count).joined(separator: ", ")))"
        }
        sql += " ORDER BY \(keyList) LIMIT \(limit)"
        return try reader.read { db in
            let statement = try RawStatement(db, sql: sql)
            defer { statement.reset() }
            statement.bindTexts(after ?? [])
            var fields = [UnsafeBufferPointer<UInt8>?](repeating: nil, count: columns.count)
            var count = 0
            while try statement.step() {
                for index in fields.indices { fields[index] = statement.text(Int32(index)) }
                try row(fields)
                count += 1
                if count == limit {
                    return key.indices.map { fields[$0].map { String(decoding: $0, as: UTF8.self) } }
                }
            }
            return nil
        }
    }
}
