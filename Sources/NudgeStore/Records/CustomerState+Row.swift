public import GRDB
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
