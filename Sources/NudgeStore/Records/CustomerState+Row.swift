public import GRDB
import GRDBSQLite
public import NudgeCore

extension CustomerState {
    /// Decodes a row selected with `columns`, starting at `offset`.
    public init(row: Row, offset: Int = 0) {
        self.init(
            stored: row[offset], name: row[offset + 1], email: row[offset + 2], phone: row[offset + 3],
            birthDate: row[offset + 4], birthMonthDay: row[offset + 5], birthYear: row[offset + 6],
            timeZone: row[offset + 7], signedUpAt: StoredInstant.date(row[offset + 8]), isEmailOptIn: row[offset + 9],
            isSMSOptIn: row[offset + 10], isPushOptIn: row[offset + 11], pushToken: row[offset + 12],
            walletPassID: row[offset + 13], tagsJSON: row[offset + 14], attributesJSON: row[offset + 15],
            lastVisitAt: (row[offset + 16] as Int64?).map(StoredInstant.date), visitsTotal: row[offset + 17],
            lifetimeValueCents: row[offset + 18], lastActivityAt: StoredInstant.date(row[offset + 19]),
            pushPlatform: row[offset + 20], walletPlatform: row[offset + 21])
    }
}

extension CustomerState {
    /// Decodes the current row of `statement` (selected with `columns`, from column `offset`) through SQLite's C API.
    /// A broadcast's trigger scan decodes 100,000 rows of 22 columns: GRDB's `Row` subscripts (a `DatabaseValue` and
    /// a conversion per column) cost more than SQLite's own reading of them.
    init(raw statement: RawStatement, offset: Int32 = 0) {
        let handle = statement.handle
        func text(_ index: Int32) -> String? {
            statement.text(offset + index).map { String(decoding: $0, as: UTF8.self) }
        }
        func integer(_ index: Int32) -> Int64? {
            sqlite3_column_type(handle, offset + index) == SQLITE_NULL ? nil : sqlite3_column_int64(handle, offset + index)
        }
        self.init(
            stored: text(0) ?? "", name: text(1), email: text(2), phone: text(3), birthDate: text(4),
            birthMonthDay: text(5), birthYear: integer(6).map { Int($0) }, timeZone: text(7),
            signedUpAt: StoredInstant.date(integer(8) ?? 0), isEmailOptIn: integer(9).map { $0 != 0 } ?? false,
            isSMSOptIn: integer(10).map { $0 != 0 } ?? false, isPushOptIn: integer(11).map { $0 != 0 } ?? false,
            pushToken: text(12), walletPassID: text(13), tagsJSON: text(14) ?? "[]", attributesJSON: text(15) ?? "{}",
            lastVisitAt: integer(16).map(StoredInstant.date), visitsTotal: Int(integer(17) ?? 0),
            lifetimeValueCents: Int(integer(18) ?? 0), lastActivityAt: StoredInstant.date(integer(19) ?? 0),
            pushPlatform: text(20), walletPlatform: text(21))
    }
}
