import Foundation
import NudgeLanguage
import Synchronization
import Testing

@testable import NudgeStore
import NudgeCore

@Suite("Importing customers")
struct CustomerImportTests {
    let workspace: Workspace

    init() throws {
        workspace = try Workspace()
    }

    static let allColumns = [
        "id", "name", "email", "phone", "birth_date", "timezone", "signed_up_at", "email_opt_in", "sms_opt_in",
        "push_opt_in", "push_token", "wallet_pass_id", "tags",
    ]

    /// One customer with every column of design §4 set, as CSV fields (already quoted where needed).
    static let annFields: [String: String] = [
        "id": "c1", "name": "\"Lee, Ann\"", "email": "ann@example.com", "phone": "+14155550123",
        "birth_date": "1990-07-04", "timezone": "Europe/London", "signed_up_at": "2025-01-10", "email_opt_in": "yes",
        "sms_opt_in": "0", "push_opt_in": "TRUE", "push_token": "tok_abc", "wallet_pass_id": "pass-c1",
        "tags": "vip;regular",
    ]

    /// Ann as she must be stored: 2025-01-10 is midnight in London, 2025-01-10T00:00:00Z.
    static var ann: CustomerState {
        CustomerState(
            id: "c1", name: "Lee, Ann", email: "ann@example.com", phone: "+14155550123", birthDate: "1990-07-04",
            timeZone: "Europe/London", signedUpAt: instant(1_736_467_200_000), isEmailOptIn: true, isSMSOptIn: false,
            isPushOptIn: true, pushToken: "tok_abc", walletPassID: "pass-c1", tags: ["vip", "regular"])
    }

    static func csv(columns: [String], rows: [[String: String]]) -> String {
        ([columns.joined(separator: ",")] + rows.map { row in columns.map { row[$0] ?? "" }.joined(separator: ",") })
            .joined(separator: "\n") + "\n"
    }

    @Test("stores every column of design §4")
    func allColumnsStored() async throws {
        let summary = try await workspace.importCSV(.customers, Self.csv(columns: Self.allColumns, rows: [Self.annFields]))
        #expect(summary.kind == .customers)
        #expect(summary.rows == 1)
        let stored = try #require(try workspace.customer("c1"))
        #expect(stored == Self.ann)
        #expect(stored.birthMonthDay == "07-04")
        #expect(stored.birthYear == 1990)
        #expect(millis(stored.signedUpAt) == 1_736_467_200_000)
        #expect(millis(stored.lastActivityAt) == 1_736_467_200_000)
        #expect(stored.lastVisitAt == nil)
        #expect(stored.visitsTotal == 0)
        #expect(stored.lifetimeValueCents == 0)
        #expect(
            try workspace.rows("SELECT tags, attributes FROM customer")
                == [#"[tags:"[\"vip\",\"regular\"]" attributes:"{}"]"#])
    }

    @Test(
        "takes the columns in any order",
        arguments: [
            CustomerImportTests.allColumns,
            Array(CustomerImportTests.allColumns.reversed()),
            [
                "tags", "signed_up_at", "phone", "id", "push_opt_in", "name", "wallet_pass_id", "timezone",
                "email_opt_in", "birth_date", "push_token", "email", "sms_opt_in",
            ],
        ])
    func columnOrderIsFree(columns: [String]) async throws {
        try await workspace.importCSV(.customers, Self.csv(columns: columns, rows: [Self.annFields]))
        #expect(try workspace.customer("c1") == Self.ann)
    }

    @Test("leaves optional columns empty when only the required ones are given")
    func requiredColumnsOnly() async throws {
        try await workspace.importCSV(.customers, "signed_up_at,id\n2025-01-10T09:30:00Z,c9\n")
        let stored = try #require(try workspace.customer("c9"))
        #expect(stored == CustomerState(id: "c9", signedUpAt: instant(1_736_501_400_000)))
        #expect(stored.timeZone == nil)
        #expect(stored.tags == [])
        #expect(stored.attributes == [:])
    }

    @Test("updates a customer by id and keeps the columns the second file does not have")
    func upsertKeepsAbsentColumns() async throws {
        try await workspace.importCSV(
            .customers,
            "id,name,phone,email_opt_in,tags,timezone,signed_up_at\n"
                + "c1,Ann,+14155550123,yes,vip,Europe/London,2025-01-10\n"
                + "c2,Bo,+14155550124,no,,,2025-01-10\n")
        let summary = try await workspace.importCSV(
            .customers, "id,signed_up_at,name\nc1,2025-01-10,Annie\nc3,2025-02-01T00:00:00Z,Cy\n")
        #expect(summary.rows == 2)

        let ann = try #require(try workspace.customer("c1"))
        #expect(ann.name == "Annie")
        #expect(ann.phone == "+14155550123")
        #expect(ann.isEmailOptIn)
        #expect(ann.tags == ["vip"])
        #expect(ann.timeZone == "Europe/London")
        #expect(millis(ann.signedUpAt) == 1_736_467_200_000)

        let bo = try #require(try workspace.customer("c2"))
        #expect(bo.name == "Bo")
        #expect(bo.phone == "+14155550124")
        // No zone: midnight in the default zone, America/New_York (05:00Z in January).
        #expect(millis(bo.signedUpAt) == 1_736_485_200_000)

        #expect(try workspace.customer("c3")?.name == "Cy")
        #expect(try workspace.integer("SELECT count(*) FROM customer") == 3)
    }

    @Test("clears an optional value when its column is present but empty")
    func emptyValueClears() async throws {
        try await workspace.importCSV(
            .customers, "id,name,phone,email_opt_in,tags,signed_up_at\nc1,Ann,+14155550123,yes,vip,2025-01-10\n")
        try await workspace.importCSV(.customers, "id,name,phone,email_opt_in,tags,signed_up_at\nc1,,,,,2025-01-10\n")
        let ann = try #require(try workspace.customer("c1"))
        #expect(ann.name == nil)
        #expect(ann.phone == nil)
        #expect(!ann.isEmailOptIn)
        #expect(ann.tags == [])
    }

    @Test("lets the last row win when one file names an id twice")
    func duplicateIDInOneFile() async throws {
        try await workspace.importCSV(.customers, "id,name,signed_up_at\nc1,First,2025-01-10\nc1,Second,2025-01-11\n")
        #expect(try workspace.customer("c1")?.name == "Second")
        #expect(try workspace.integer("SELECT count(*) FROM customer") == 1)
    }

    @Test("turns unknown columns into attributes and merges them on re-import")
    func attributes() async throws {
        try await workspace.importCSV(
            .customers,
            "id,signed_up_at,favorite_drink,tier\nc1,2025-01-10,latte,gold\nc2,2025-01-10,,silver\n")
        #expect(try workspace.customer("c1")?.attributes == ["favorite_drink": "latte", "tier": "gold"])
        #expect(try workspace.customer("c2")?.attributes == ["tier": "silver"])

        try await workspace.importCSV(
            .customers, "id,signed_up_at,tier,city\nc1,2025-01-10,silver,\"Boston, MA\"\nc2,2025-01-10,,Austin\n")
        #expect(
            try workspace.customer("c1")?.attributes
                == ["favorite_drink": "latte", "tier": "silver", "city": "Boston, MA"])
        #expect(try workspace.customer("c2")?.attributes == ["tier": "silver", "city": "Austin"])

        // A file without unknown columns keeps the attributes as they are.
        try await workspace.importCSV(.customers, "id,signed_up_at,name\nc1,2025-01-10,Ann\n")
        #expect(
            try workspace.customer("c1")?.attributes
                == ["favorite_drink": "latte", "tier": "silver", "city": "Boston, MA"])
    }

    @Test(
        "splits tags on semicolons and trims them",
        arguments: [
            ("vip", ["vip"]),
            (" vip ; regular;;staff ", ["vip", "regular", "staff"]),
            ("\"a b;c\"", ["a b", "c"]),
            (";;", []),
            ("", []),
        ] as [(String, [String])])
    func tags(field: String, expected: [String]) async throws {
        try await workspace.importCSV(.customers, "id,signed_up_at,tags\nc1,2025-01-10,\(field)\n")
        #expect(try workspace.customer("c1")?.tags == expected)
    }

    @Test(
        "reads booleans as true/false/1/0/yes/no in any case, and empty as false",
        arguments: [
            ("true", true), ("false", false), ("1", true), ("0", false), ("yes", true), ("no", false),
            ("TRUE", true), ("False", false), ("YES", true), ("No", false), ("", false), (" yes ", true),
        ] as [(String, Bool)])
    func booleans(field: String, expected: Bool) async throws {
        try await workspace.importCSV(
            .customers,
            "id,signed_up_at,email_opt_in,sms_opt_in,push_opt_in\nc1,2025-01-10,\(field),\(field),\(field)\n")
        let stored = try #require(try workspace.customer("c1"))
        #expect(stored.isEmailOptIn == expected)
        #expect(stored.isSMSOptIn == expected)
        #expect(stored.isPushOptIn == expected)
    }

    @Test(
        "splits birth dates into month-day and year",
        arguments: [
            ("1990-07-04", "07-04", 1990),
            ("1992-02-29", "02-29", 1992),
            ("2000-12-31", "12-31", 2000),
            ("--12-25", "12-25", nil),
            ("--02-29", "02-29", nil),
            ("--01-01", "01-01", nil),
        ] as [(String, String, Int?)])
    func birthDates(field: String, monthDay: String, year: Int?) async throws {
        try await workspace.importCSV(.customers, "id,signed_up_at,birth_date\nc1,2025-01-10,\(field)\n")
        let stored = try #require(try workspace.customer("c1"))
        #expect(stored.birthDate == field)
        #expect(stored.birthMonthDay == monthDay)
        #expect(stored.birthYear == year)
        let storedYear = year.map(String.init) ?? "NULL"
        #expect(
            try workspace.rows("SELECT birth_date, birth_month_day, birth_year FROM customer")
                == ["[birth_date:\"\(field)\" birth_month_day:\"\(monthDay)\" birth_year:\(storedYear)]"])
    }

    @Test("leaves the birthday empty when birth_date is empty")
    func emptyBirthDate() async throws {
        try await workspace.importCSV(.customers, "id,signed_up_at,birth_date\nc1,2025-01-10,1990-07-04\n")
        try await workspace.importCSV(.customers, "id,signed_up_at,birth_date\nc1,2025-01-10,\n")
        #expect(
            try workspace.rows("SELECT birth_date, birth_month_day, birth_year FROM customer")
                == ["[birth_date:NULL birth_month_day:NULL birth_year:NULL]"])
    }

    @Test(
        "reads a bare signed_up_at date as local midnight in the row's zone, else the default zone",
        arguments: [
            ("Europe/London", "2025-01-10", 1_736_467_200_000),  // GMT: 00:00Z
            ("Europe/London", "2025-07-01", 1_751_324_400_000),  // BST: 23:00Z the day before
            ("Asia/Tokyo", "2025-01-10", 1_736_434_800_000),  // 15:00Z the day before
            ("America/Los_Angeles", "2025-07-01", 1_751_353_200_000),  // PDT: 07:00Z
            ("Pacific/Auckland", "2025-03-01", 1_740_740_400_000),  // NZDT: 11:00Z the day before
            ("UTC", "2025-01-10", 1_736_467_200_000),
            ("America/Santiago", "2024-09-08", 1_725_768_000_000),  // midnight skipped by DST: 01:00-03, 04:00Z
            ("", "2025-01-10", 1_736_485_200_000),  // default America/New_York, EST: 05:00Z
            ("", "2025-07-01", 1_751_342_400_000),  // default America/New_York, EDT: 04:00Z
        ] as [(String, String, Int64)])
    func bareDateSignUp(zone: String, date: String, expected: Int64) async throws {
        try await workspace.importCSV(.customers, "id,timezone,signed_up_at\nc1,\(zone),\(date)\n")
        let stored = try #require(try workspace.customer("c1"))
        #expect(millis(stored.signedUpAt) == expected)
        #expect(millis(stored.lastActivityAt) == expected)
        #expect(stored.timeZone == (zone.isEmpty ? nil : zone))
        #expect(try workspace.integer("SELECT signed_up_at FROM customer") == expected)
    }

    @Test("uses ImportOptions.defaultZone for a bare date when the file has no timezone column")
    func bareDateWithoutZoneColumn() async throws {
        let tokyo = try #require(TimeZone(identifier: "Asia/Tokyo"))
        try await workspace.importCSV(.customers, "id,signed_up_at\nc1,2025-01-10\n", zone: tokyo)
        #expect(millis(try workspace.customer("c1")?.signedUpAt) == 1_736_434_800_000)
    }

    @Test("reads a bare signed_up_at date in the stored zone of a customer when the file has no timezone column")
    func bareDateUsesStoredZone() async throws {
        try await workspace.importCSV(.customers, "id,timezone,signed_up_at\nc1,Asia/Tokyo,2025-01-10\n")
        try await workspace.importCSV(.customers, "id,signed_up_at\nc1,2025-02-01\n")
        let stored = try #require(try workspace.customer("c1"))
        #expect(stored.timeZone == "Asia/Tokyo")
        #expect(millis(stored.signedUpAt) == 1_738_335_600_000)
    }

    @Test(
        "reads signed_up_at with Z, an offset, fractions or a local time",
        arguments: [
            ("2025-01-10T09:30:00Z", 1_736_501_400_000),
            ("2025-01-10T09:30Z", 1_736_501_400_000),
            ("2025-01-10T09:30:00+02:00", 1_736_494_200_000),
            ("2025-01-10T09:30:00+0200", 1_736_494_200_000),
            ("2025-01-10T09:30:00-05:30", 1_736_521_200_000),
            ("2025-01-10T09:30:00.250Z", 1_736_501_400_250),
            ("2025-01-10 09:30:00Z", 1_736_501_400_000),
            ("2025-01-10T09:30:00", 1_736_519_400_000),  // local time in the default zone (EST)
        ] as [(String, Int64)])
    func instants(field: String, expected: Int64) async throws {
        try await workspace.importCSV(.customers, "id,signed_up_at\nc1,\(field)\n")
        #expect(millis(try workspace.customer("c1")?.signedUpAt) == expected)
        #expect(try workspace.integer("SELECT signed_up_at FROM customer") == expected)
    }

    @Test("ignores a local offset zone when the instant carries its own offset")
    func offsetWinsOverZone() async throws {
        try await workspace.importCSV(.customers, "id,timezone,signed_up_at\nc1,Asia/Tokyo,2025-01-10T09:30:00Z\n")
        #expect(millis(try workspace.customer("c1")?.signedUpAt) == 1_736_501_400_000)
    }

    @Test("trims spaces around fields and header names")
    func trimsSpaces() async throws {
        try await workspace.importCSV(.customers, " id , name ,signed_up_at, tags\n c1 , Ann ,2025-01-10, vip \n")
        let stored = try #require(try workspace.customer("c1"))
        #expect(stored.name == "Ann")
        #expect(stored.tags == ["vip"])
    }

    @Test("reports progress every progressInterval rows with the bytes read")
    func progressCallback() async throws {
        let text = "id,signed_up_at\nc1,2025-01-10\nc2,2025-01-10\nc3,2025-01-10\nc4,2025-01-10\nc5,2025-01-10\n"
        let path = try workspace.write("progress.csv", text)
        let calls = Recorder()
        var options = workspace.options(displayPath: "progress.csv")
        options.progressInterval = 2
        options.progress = { rows, bytes, total in calls.calls.withLock { $0.append([rows, bytes, total]) } }
        let summary = try workspace.database.importCSV(.customers, path: path, options: options)
        #expect(summary.rows == 5)
        // The header is 16 bytes and each row 14 more; the reader has read the line break after each row.
        #expect(calls.calls.withLock { $0 } == [[2, 44, 86], [4, 72, 86]])
    }

    @Test("counts data rows in the summary, not the header or blank lines")
    func summaryRows() async throws {
        let summary = try await workspace.importCSV(
            .customers, "\u{FEFF}id,signed_up_at\r\nc1,2025-01-10\r\n\r\nc2,2025-01-10\r\nc3,2025-01-10")
        #expect(summary.rows == 3)
        #expect(try workspace.integer("SELECT count(*) FROM customer") == 3)
    }
}

/// Collects progress calls from a `@Sendable` closure.
final class Recorder: Sendable {
    let calls = Mutex<[[Int]]>([])
}
