import Foundation
import Testing

@testable import NudgeStore
import NudgeCore

/// A file that must be rejected whole, and the problems it must report.
struct BadFile: Sendable, CustomTestStringConvertible {
    var kind: ImportKind
    var csv: String
    var problems: [String]

    init(_ kind: ImportKind, _ csv: String, _ problems: String...) {
        self.kind = kind
        self.csv = csv
        self.problems = problems
    }

    var testDescription: String { "\(kind.rawValue): \(problems.first ?? "")" }
}

@Suite("Rejecting bad files")
struct RejectedImportTests {
    let workspace: Workspace

    /// Seeds two customers, a visit, an offer and some progress, so that every kind has state to keep.
    init() async throws {
        workspace = try Workspace()
        try await workspace.importCSV(
            .customers,
            "id,name,phone,timezone,signed_up_at,vibe\nc1,Ann,+14155550123,Europe/London,2025-01-10,calm\n"
                + "c2,Bo,,,2025-01-11T08:00:00Z,\n")
        try await workspace.importCSV(.visits, "customer_id,visited_at,amount\nc1,2025-02-01,4.50\n")
        try await workspace.importCSV(.offers, "id,name,stamps_required\ncoffee,Coffee card,10\n")
        try await workspace.importCSV(.progress, "customer_id,offer_id,stamps\nc1,coffee,3\n")
    }

    static let badFiles: [BadFile] = [
        // Header problems, all reported at line 1.
        BadFile(.customers, "id,name\nc9,Xi\n", "bad.csv:1: missing required column 'signed_up_at'"),
        BadFile(
            .customers, "name,email\nXi,xi@example.com\n", "bad.csv:1: missing required column 'id'",
            "bad.csv:1: missing required column 'signed_up_at'"),
        BadFile(
            .customers, "id,name,signed_up_at,name\nc9,Xi,2025-01-10,Xu\n",
            "bad.csv:1: column 'name' appears twice in the header"),
        BadFile(.customers, "id,,signed_up_at\nc9,,2025-01-10\n", "bad.csv:1: the header has an empty column name"),
        BadFile(
            .visits, "customer_id,visted_at\nc1,2025-02-02\n",
            "bad.csv:1: unknown column 'visted_at' for visits (did you mean 'visited_at'?)",
            "bad.csv:1: missing required column 'visited_at'"),
        BadFile(
            .visits, "customer_id,visited_at,store\nc1,2025-02-02,main\n",
            "bad.csv:1: unknown column 'store' for visits (expected one of: amount, customer_id, visited_at)"),
        BadFile(
            .visits, "customer_id,visited_at,amount,amount\nc1,2025-02-02,1,2\n",
            "bad.csv:1: column 'amount' appears twice in the header"),
        BadFile(
            .offers, "id,name,stamp_required\npastry,Pastry card,8\n",
            "bad.csv:1: unknown column 'stamp_required' for offers (did you mean 'stamps_required'?)",
            "bad.csv:1: missing required column 'stamps_required'"),
        BadFile(
            .progress, "customer_id,offer_id,stamps,reward_earned\nc1,coffee,4,1\n",
            "bad.csv:1: unknown column 'reward_earned' for progress (did you mean 'rewards_earned'?)"),
        BadFile(.progress, "customer_id,offer_id\nc1,coffee\n", "bad.csv:1: missing required column 'stamps'"),
        BadFile(
            .customers, "\n\nid,name\nc9,Xi\n", "bad.csv:3: missing required column 'signed_up_at'"),

        // Row problems, each at its own line.
        BadFile(
            .customers, "id,name,signed_up_at\nc9,Xi\nc10,Yu,2025-01-10,extra\n",
            "bad.csv:2: expected 3 fields as in the header, found 2",
            "bad.csv:3: expected 3 fields as in the header, found 4"),
        BadFile(
            .customers,
            "id,email,signed_up_at\nc9,xi.example.com,2025-01-10\nc10,yu@example,2025-01-10\n"
                + "c11,\"y u@example.com\",2025-01-10\nc12,@example.com,2025-01-10\n",
            "bad.csv:2: 'email' is not an email address: 'xi.example.com'",
            "bad.csv:3: 'email' is not an email address: 'yu@example'",
            "bad.csv:4: 'email' is not an email address: 'y u@example.com'",
            "bad.csv:5: 'email' is not an email address: '@example.com'"),
        BadFile(
            .customers,
            "id,phone,signed_up_at\nc9,415-555-0123,2025-01-10\nc10,14155550123,2025-01-10\n"
                + "c11,+04155550123,2025-01-10\nc12,+1415555012345678,2025-01-10\nc13,+1 415 555 0123,2025-01-10\n",
            "bad.csv:2: 'phone' must be in E.164 form such as +14155550123, not '415-555-0123'",
            "bad.csv:3: 'phone' must be in E.164 form such as +14155550123, not '14155550123'",
            "bad.csv:4: 'phone' must be in E.164 form such as +14155550123, not '+04155550123'",
            "bad.csv:5: 'phone' must be in E.164 form such as +14155550123, not '+1415555012345678'",
            "bad.csv:6: 'phone' must be in E.164 form such as +14155550123, not '+1 415 555 0123'"),
        BadFile(
            .customers,
            "id,birth_date,signed_up_at\nc9,1990-02-30,2025-01-10\nc10,--13-01,2025-01-10\n"
                + "c11,--02-30,2025-01-10\nc12,1990/07/04,2025-01-10\nc13,07-04,2025-01-10\n"
                + "c14,1991-02-29,2025-01-10\n",
            "bad.csv:2: 'birth_date' must be YYYY-MM-DD or --MM-DD, not '1990-02-30'",
            "bad.csv:3: 'birth_date' must be YYYY-MM-DD or --MM-DD, not '--13-01'",
            "bad.csv:4: 'birth_date' must be YYYY-MM-DD or --MM-DD, not '--02-30'",
            "bad.csv:5: 'birth_date' must be YYYY-MM-DD or --MM-DD, not '1990/07/04'",
            "bad.csv:6: 'birth_date' must be YYYY-MM-DD or --MM-DD, not '07-04'",
            "bad.csv:7: 'birth_date' must be YYYY-MM-DD or --MM-DD, not '1991-02-29'"),
        BadFile(
            .customers, "id,timezone,signed_up_at\nc9,Mars/Olympus,2025-01-10\nc10,EST,2025-01-10T10:00:00Z\n",
            "bad.csv:2: unknown time zone 'Mars/Olympus' (use an IANA name such as Europe/London)",
            "bad.csv:3: unknown time zone 'EST' (use an IANA name such as Europe/London)"),
        BadFile(
            .customers, "id,timezone,signed_up_at\nc9,Europe/Lodnon,2025-01-10\n",
            "bad.csv:2: unknown time zone 'Europe/Lodnon' (did you mean 'Europe/London'?)"),
        BadFile(
            .customers, "id,email,phone,birth_date,signed_up_at\nc9,nope,555,1990-02-30,yesterday\n",
            "bad.csv:2: 'signed_up_at' must be an ISO 8601 date or date-time, not 'yesterday'; 'email' is not an email address: 'nope'; 'phone' must be in E.164 form such as +14155550123, not '555'; 'birth_date' must be YYYY-MM-DD or --MM-DD, not '1990-02-30'"),
        BadFile(
            .customers, "id,email_opt_in,sms_opt_in,signed_up_at\nc9,maybe,no,2025-01-10\nc10,yes,y,2025-01-10\n",
            "bad.csv:2: 'email_opt_in' must be true/false/1/0/yes/no, not 'maybe'",
            "bad.csv:3: 'sms_opt_in' must be true/false/1/0/yes/no, not 'y'"),
        BadFile(
            .customers,
            "id,signed_up_at\nc9,2025-13-01\nc10,10/01/2025\nc11,2025-01-10T25:00Z\nc12,yesterday\n"
                + "c13,2025-01-10T09:30:00+25:00\n",
            "bad.csv:2: 'signed_up_at' must be an ISO 8601 date or date-time, not '2025-13-01'",
            "bad.csv:3: 'signed_up_at' must be an ISO 8601 date or date-time, not '10/01/2025'",
            "bad.csv:4: 'signed_up_at' must be an ISO 8601 date or date-time, not '2025-01-10T25:00Z'",
            "bad.csv:5: 'signed_up_at' must be an ISO 8601 date or date-time, not 'yesterday'",
            "bad.csv:6: 'signed_up_at' must be an ISO 8601 date or date-time, not '2025-01-10T09:30:00+25:00'"),
        BadFile(
            .customers, "id,signed_up_at\n,2025-01-10\nc9,\n\" \",2025-01-10\n", "bad.csv:2: 'id' is required",
            "bad.csv:3: 'signed_up_at' is required", "bad.csv:4: 'id' is required"),
        BadFile(
            .visits, "customer_id,visited_at,amount\nghost,2025-02-02,1\nc1,,1\n,2025-02-02,1\n",
            "bad.csv:2: unknown customer 'ghost' (import customers first)", "bad.csv:3: 'visited_at' is required",
            "bad.csv:4: 'customer_id' is required"),
        BadFile(
            .visits,
            "customer_id,visited_at,amount\nc1,2025-02-02,\"12,50\"\nc1,2025-02-03,abc\nc1,2025-02-04,5.\n"
                + "c1,2025-02-05,1e3\nc1,2025-02-06,$5\nc1,2025-02-07,1.2.3\nc1,2025-02-08,-\n",
            "bad.csv:2: 'amount' must be a decimal number such as 12.50, not '12,50'",
            "bad.csv:3: 'amount' must be a decimal number such as 12.50, not 'abc'",
            "bad.csv:4: 'amount' must be a decimal number such as 12.50, not '5.'",
            "bad.csv:5: 'amount' must be a decimal number such as 12.50, not '1e3'",
            "bad.csv:6: 'amount' must be a decimal number such as 12.50, not '$5'",
            "bad.csv:7: 'amount' must be a decimal number such as 12.50, not '1.2.3'",
            "bad.csv:8: 'amount' must be a decimal number such as 12.50, not '-'"),
        BadFile(
            .visits, "customer_id,visited_at\nc1,2025-02-30\nc1,tomorrow\n",
            "bad.csv:2: 'visited_at' must be an ISO 8601 date or date-time, not '2025-02-30'",
            "bad.csv:3: 'visited_at' must be an ISO 8601 date or date-time, not 'tomorrow'"),
        BadFile(
            .offers,
            "id,name,stamps_required\npastry,Pastry,0\nbagel,Bagel,ten\nmuffin,Muffin,-3\n,Nameless,5\ntea,Tea,\n",
            "bad.csv:2: 'stamps_required' must be at least 1, not 0",
            "bad.csv:3: 'stamps_required' must be a whole number, not 'ten'",
            "bad.csv:4: 'stamps_required' must be at least 1, not -3", "bad.csv:5: 'id' is required",
            "bad.csv:6: 'stamps_required' is required"),
        BadFile(
            .progress,
            "customer_id,offer_id,stamps,rewards_earned,updated_at\nc1,coffee,-1,0,\nc1,coffee,2,-1,\n"
                + "c1,coffee,,0,\nc1,coffee,2.5,0,\nc1,coffee,2,0,soon\n",
            "bad.csv:2: 'stamps' must be at least 0, not -1", "bad.csv:3: 'rewards_earned' must be at least 0, not -1",
            "bad.csv:4: 'stamps' is required", "bad.csv:5: 'stamps' must be a whole number, not '2.5'",
            "bad.csv:6: 'updated_at' must be an ISO 8601 date or date-time, not 'soon'"),
        BadFile(
            .progress, "customer_id,offer_id,stamps\nc1,nope,1\nghost,coffee,1\nc2,,1\n",
            "bad.csv:2: unknown offer 'nope' (import offers first)",
            "bad.csv:3: unknown customer 'ghost' (import customers first)", "bad.csv:4: 'offer_id' is required"),
    ]

    @Test("reports every bad row as FILE:LINE: message and writes nothing", arguments: badFiles)
    func badFile(_ bad: BadFile) async throws {
        let before = try workspace.snapshot()
        let rejected = try #require(try await workspace.rejection(bad.kind, bad.csv, file: "bad.csv"))
        #expect(rejected.problems.map(\.description) == bad.problems)
        #expect(rejected.problems.allSatisfy { $0.file == "bad.csv" })
        #expect(rejected.unlisted == 0)
        #expect(rejected.description == bad.problems.joined(separator: "\n"))
        #expect(try workspace.snapshot() == before)
    }

    @Test("rejects the whole file when good rows and updates come before and after the bad ones")
    func wholeFileRejected() async throws {
        let before = try workspace.snapshot()
        let csv = """
            id,name,email,timezone,signed_up_at,vibe
            c1,Ann Updated,ann@example.com,Asia/Tokyo,2024-06-01,loud
            c3,New Customer,new@example.com,,2025-03-01,
            c4,Bad Email,not-an-email,,2025-03-01,
            c2,Bo Updated,,Europe/Paris,2025-01-01,sunny
            c5,Bad Zone,,Moon/Base,2025-03-01,
            c6,Fine Too,,,2025-03-02,

            """
        let path = try workspace.write("upload-7f3a.csv", csv)
        let options = workspace.options(displayPath: "imports/customers.csv")
        let error = #expect(throws: ImportRejected.self) {
            try workspace.database.importCSV(.customers, path: path, options: options)
        }
        let rejected = try #require(error)
        #expect(rejected.problems.map(\.line) == [4, 6])
        #expect(
            rejected.problems == [
                ImportProblem(
                    file: "imports/customers.csv", line: 4, message: "'email' is not an email address: 'not-an-email'"),
                ImportProblem(
                    file: "imports/customers.csv", line: 6,
                    message: "unknown time zone 'Moon/Base' (use an IANA name such as Europe/London)"),
            ])
        #expect(
            rejected.description == """
                imports/customers.csv:4: 'email' is not an email address: 'not-an-email'
                imports/customers.csv:6: unknown time zone 'Moon/Base' (use an IANA name such as Europe/London)
                """)
        #expect(try workspace.snapshot() == before)
        #expect(try workspace.customer("c1")?.name == "Ann")
        #expect(try workspace.customer("c1")?.attributes == ["vibe": "calm"])
        #expect(try workspace.customer("c3") == nil)
    }

    @Test("rejects a visits file whole and leaves the derived customer fields as they were")
    func visitsRejectedKeepDerivedFields() async throws {
        let before = try workspace.snapshot()
        let ann = try #require(try workspace.customer("c1"))
        #expect(ann.visitsTotal == 1)
        #expect(ann.lifetimeValueCents == 450)
        let rejected = try #require(
            try await workspace.rejection(
                .visits, "customer_id,visited_at,amount\nc1,2025-03-01,10\nc2,2025-03-01,20\nc1,2025-03-02,oops\n"))
        #expect(
            rejected.problems.map(\.description) == [
                "bad.csv:4: 'amount' must be a decimal number such as 12.50, not 'oops'"
            ])
        #expect(try workspace.snapshot() == before)
        #expect(try workspace.customer("c1") == ann)
        #expect(try workspace.customer("c2")?.visitsTotal == 0)
    }

    @Test("lists at most maxProblems bad rows and counts the rest")
    func maxProblems() async throws {
        let before = try workspace.snapshot()
        let path = try workspace.write(
            "many.csv", "id,signed_up_at\nx1,bad\nx2,bad\nok,2025-01-01\nx3,bad\nx4,bad\nx5,bad\n")
        var options = workspace.options(displayPath: "many.csv")
        options.maxProblems = 2
        let error = #expect(throws: ImportRejected.self) {
            try workspace.database.importCSV(.customers, path: path, options: options)
        }
        let rejected = try #require(error)
        #expect(rejected.problems.map(\.line) == [2, 3])
        #expect(rejected.unlisted == 3)
        #expect(
            rejected.description == """
                many.csv:2: 'signed_up_at' must be an ISO 8601 date or date-time, not 'bad'
                many.csv:3: 'signed_up_at' must be an ISO 8601 date or date-time, not 'bad'
                … and 3 more bad rows
                """)
        #expect(try workspace.snapshot() == before)
    }

    @Test("reports a CSV syntax error in the body as a bad row at its line, after the rows before it")
    func syntaxErrorInBody() async throws {
        let before = try workspace.snapshot()
        let rejected = try #require(
            try await workspace.rejection(
                .customers,
                "id,name,signed_up_at\nc1,\"Ann\non two lines\",2025-01-10\nc9,x,bad-date\n"
                    + "c8,\"open,2025-01-10\nc7,y,2025-01-10\n"
            ))
        #expect(
            rejected.problems.map(\.description) == [
                "bad.csv:4: 'signed_up_at' must be an ISO 8601 date or date-time, not 'bad-date'",
                "bad.csv:5: unterminated quoted field",
            ])
        #expect(try workspace.snapshot() == before)
    }

    @Test("reports a CSV syntax error in the header")
    func syntaxErrorInHeader() async throws {
        let rejected = try #require(try await workspace.rejection(.offers, "\nid,na\"me,stamps_required\nx,y,1\n"))
        #expect(rejected.problems.map(\.description) == ["bad.csv:2: stray quote inside an unquoted field"])
    }

    @Test(
        "rejects an empty file, or one of blank lines, asking for a header",
        arguments: ImportKind.allCases, ["", "\n\n", "\u{FEFF}", "\r\n"])
    func emptyFile(kind: ImportKind, text: String) async throws {
        let before = try workspace.snapshot()
        let rejected = try #require(try await workspace.rejection(kind, text, file: "empty.csv"))
        #expect(rejected.problems.map(\.description) == ["empty.csv:1: the file is empty; a header row is required"])
        #expect(try workspace.snapshot() == before)
    }

    @Test(
        "accepts a header-only file and changes nothing",
        arguments: [
            (ImportKind.customers, "id,name,signed_up_at,favorite\n"),
            (.visits, "customer_id,visited_at,amount"),
            (.offers, "id,name,stamps_required\r\n\r\n"),
            (.progress, "customer_id,offer_id,stamps,rewards_earned,updated_at\n"),
        ])
    func headerOnly(kind: ImportKind, csv: String) async throws {
        let before = try workspace.snapshot()
        let summary = try await workspace.importCSV(kind, csv)
        #expect(summary.rows == 0)
        #expect(summary.kind == kind)
        #expect(try workspace.snapshot() == before)
    }
}
