public import Foundation
internal import GRDB
internal import NudgeLanguage

/// The kinds of CSV file `nudge import` takes (design §4).
public enum ImportKind: String, Sendable, CaseIterable {
    case customers, visits, offers, progress

    /// The table a file of this kind fills, by the same name in both stores.
    public var table: String {
        switch self {
        case .customers: return "customer"
        case .visits: return "visit"
        case .offers: return "offer"
        case .progress: return "progress"
        }
    }

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
                "push_token", "wallet_pass_id", "tags", "push_platform", "wallet_platform",
            ]
        case .visits: return ["amount"]
        case .offers: return ["name", "published_at", "category"]
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

    public init(kind: ImportKind, rows: Int, seconds: Double) {
        self.kind = kind
        self.rows = rows
        self.seconds = seconds
    }
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
    /// Whether a visits import refreshes the visit-derived fields of the customers it touches (`visits_total`,
    /// `last_visit_at`, `lifetime_value_cents`, `last_activity_at`). PostgreSQL's imports check a file in a scratch
    /// SQLite file and recompute those fields themselves: there the refresh would be wasted work.
    public var refreshesDerivedFields = true
    /// For visits and progress checked apart from the database they go to (PostgreSQL's imports check a file in a
    /// scratch SQLite file): the customers that database knows, which rows may name. Nil: the customer table of the
    /// database the file is imported into.
    public var knownCustomers: KnownCustomers?
    /// For customers, visits and progress checked apart from the table they go to (PostgreSQL's first load, into
    /// an empty table): each good row is handed here instead of being written to this database, its values as text
    /// (nil for NULL) in the order of `ImportKind.checkedColumns(header:)`; the texts are valid during the call.
    /// Rows come in file order and are not merged: a file that names a key twice hands both rows over. Throwing
    /// stops the import.
    public var checkedRows: (@Sendable ([UnsafeBufferPointer<UInt8>?]) throws -> Void)?

    public init(defaultZone: TimeZone, now: Date, displayPath: String) {
        self.defaultZone = defaultZone
        self.now = now
        self.displayPath = displayPath
    }
}

/// Customer ids with the time zone stored for each (nil: none), for `ImportOptions.knownCustomers`.
public struct KnownCustomers: Sendable {
    /// Each id's index in `zoneNames`, -1 for no zone.
    var zoneIndexes: [String: Int32] = [:]
    var zoneNames: [String] = []

    public init(minimumCapacity: Int = 0) { zoneIndexes.reserveCapacity(minimumCapacity) }

    public var count: Int { zoneIndexes.count }

    public mutating func add(id: String, zone: String?) {
        guard let zone else { return zoneIndexes[id] = -1 }
        // Zones are few: the last one added is the likeliest, then a scan.
        if let last = zoneNames.last, last == zone { return zoneIndexes[id] = Int32(zoneNames.count - 1) }
        if let index = zoneNames.firstIndex(of: zone) { return zoneIndexes[id] = Int32(index) }
        zoneNames.append(zone)
        zoneIndexes[id] = Int32(zoneNames.count - 1)
    }

    /// Whether `id` is known, and its stored zone if it has one.
    public func lookUp(_ id: String) -> (known: Bool, zone: String?) {
        guard let index = zoneIndexes[id] else { return (false, nil) }
        return (true, index < 0 ? nil : zoneNames[Int(index)])
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
        try writer.writeWithoutTransaction { db in
            // A page cache big enough for the tables and indexes a large import touches, for this import only.
            let cacheSize = try Int.fetchOne(db, sql: "PRAGMA cache_size") ?? -2000
            try db.execute(sql: "PRAGMA cache_size = \(AppDatabase.importCacheSize)")
            defer { try? db.execute(sql: "PRAGMA cache_size = \(cacheSize)") }
            try db.inTransaction {
                let bulk = try BulkLoad.begin(kind, db: db)
                var rowWriter = try RowWriter(kind: kind, columns: columns, db: db, options: options, bulk: bulk != nil)
                let handOver = options.checkedRows.flatMap {
                    kind == .offers ? nil : RowHandOver(kind: kind, header: columns, handler: $0)
                }
                rowWriter.handOver = handOver
                let scanner = reader.scanner
                var pipeline: CustomerPipeline?
                if kind == .customers, rowWriter.timezoneColumn != nil {
                    // Rows are checked on a second thread while this one writes (see CustomerPipeline).
                    let producer = CustomerPipeline(scanner: scanner, writer: rowWriter, columnCount: columns.count)
                    pipeline = producer
                    producer.start()
                    defer { producer.join() }
                    while let batch = producer.next() {
                        try batch.arena.withUnsafeBufferPointer { arena in
                            var from = 0
                            for row in batch.rows {
                                rows += 1
                                if let problem = row.problem {
                                    report(row.line, problem)
                                } else if rowWriter.writes {
                                    if let handOver {
                                        try handOver.row(batch.parameters, from, row.parameterEnd, arena: arena)
                                    } else {
                                        rowWriter.upsert.bind(batch.parameters, from, row.parameterEnd, arena: arena)
                                        try rowWriter.upsert.run()
                                    }
                                }
                                from = row.parameterEnd
                                // Once a row is bad the file will be rejected: the rest is only checked.
                                if badRows > 0 { rowWriter.writes = false }
                                if rows % options.progressInterval == 0 {
                                    options.progress?(rows, row.bytesRead, scanner.totalBytes)
                                }
                            }
                        }
                    }
                    producer.join()
                    switch producer.end {
                    case .syntax(let error)?: report(error.line, error.message)
                    case .failure(let error)?: throw error
                    case nil: break
                    }
                }
                while pipeline == nil {
                    do {
                        guard try scanner.advance() else { break }
                    } catch let error as CSVSyntaxError {
                        report(error.line, error.message)
                        break
                    }
                    let record = scanner.record
                    // A line of only spaces is blank, like an empty one.
                    if record.isBlank { continue }
                    rows += 1
                    if record.count != columns.count {
                        report(record.line, "expected \(columns.count) fields as in the header, found \(record.count)")
                    } else {
                        do {
                            try rowWriter.write(record)
                        } catch let error as RowError {
                            report(record.line, error.message)
                        }
                    }
                    // Once a row is bad the file will be rejected: the rest is only checked.
                    if badRows > 0 { rowWriter.writes = false }
                    if rows % options.progressInterval == 0 {
                        options.progress?(rows, scanner.bytesRead, scanner.totalBytes)
                    }
                }
                if badRows > 0 {
                    throw ImportRejected(problems: problems, unlisted: badRows - problems.count)
                }
                try rowWriter.finish(db: db)
                let zones = kind == .customers ? (pipeline?.writer ?? rowWriter).writtenZones : []
                try bulk?.end(db: db, rows: rows, zones: zones)
                return .commit
            }
        }
        return ImportSummary(kind: kind, rows: rows, seconds: Date().timeIntervalSince(started))
    }
}

extension AppDatabase {
    /// The writer's page cache during an import, in KiB (negative, as `PRAGMA cache_size` takes it).
    static let importCacheSize = -65_536
    /// The writer's page cache while indexes are built, in KiB: it sizes the sorter's runs.
    static let indexBuildCacheSize = -4000
}

/// Bulk-load mode for an import into an empty table (the common first load): the table's secondary indexes and
/// triggers are dropped inside the import's transaction and created again before commit (DDL is transactional in
/// SQLite, so a rejected file still changes nothing). Building an index once from the sorted rows is much cheaper
/// than growing it row by row, and the rows no longer fire a trigger each: the zones that `customer_zone`'s
/// triggers would have added are added at the end.
struct BulkLoad {
    let table: String
    let dropped: DroppedSchema

    /// Drops the secondary indexes and triggers of `kind`'s table when it is empty; nil when it is not.
    static func begin(_ kind: ImportKind, db: Database) throws -> BulkLoad? {
        guard kind != .offers else { return nil }
        let table = kind.table
        guard try Bool.fetchOne(db, sql: "SELECT NOT EXISTS (SELECT 1 FROM \(table))") == true else { return nil }
        return BulkLoad(
            table: table, dropped: try DroppedSchema.drop(table: table, triggers: BulkLoad.replacedTriggers, db: db))
    }

    /// The triggers whose work bulk mode does itself (any other trigger stays and fires row by row).
    static let replacedTriggers: Set<String> = ["customer_zone_on_insert", "customer_zone_on_update"]

    /// Creates the indexes and triggers again (for a table of about `rows` rows) and adds `zones` to
    /// `customer_zone`.
    func end(db: Database, rows: Int, zones: [String]) throws {
        try dropped.restore(db: db, rows: rows)
        if table == "customer" {
            let insert = try db.makeStatement(sql: "INSERT OR IGNORE INTO customer_zone (timezone) VALUES (?)")
            for zone in zones { try insert.execute(arguments: [zone]) }
        }
    }
}

/// Secondary indexes (and triggers) dropped for part of an import and created again, from the SQL stored in the
/// schema, before the import commits: names, definitions and so query plans come out exactly as they were.
struct DroppedSchema {
    /// In schema order.
    var objects: [(type: String, name: String, sql: String)] = []

    /// Drops `table`'s secondary indexes (only those on one of `columns`, when given) and its triggers named in
    /// `triggers`.
    static func drop(table: String, indexesOn columns: Set<String>? = nil, triggers: Set<String>, db: Database) throws
        -> DroppedSchema
    {
        var objects = try Row.fetchAll(
            db,
            sql: """
                SELECT type, name, sql FROM sqlite_master
                WHERE tbl_name = ? AND type IN ('index', 'trigger') AND sql IS NOT NULL ORDER BY rowid
                """,
            arguments: [table]
        ).map { (type: $0["type"] as String, name: $0["name"] as String, sql: $0["sql"] as String) }
        objects.removeAll { $0.type == "trigger" && !triggers.contains($0.name) }
        if let columns {
            objects = try objects.filter { object in
                guard object.type == "index" else { return true }
                let indexed = try String.fetchAll(
                    db, sql: "SELECT name FROM pragma_index_info(?) WHERE name IS NOT NULL", arguments: [object.name])
                return indexed.contains(where: columns.contains)
            }
        }
        for object in objects {
            try db.execute(
                sql: "DROP \(object.type == "index" ? "INDEX" : "TRIGGER") \(object.name.quotedDatabaseIdentifier)")
        }
        return DroppedSchema(objects: objects)
    }

    /// Creates the dropped objects again, for a table of about `rows` rows.
    ///
    /// SQLite sizes the sorter that builds an index from the page cache. With the import's big cache it sorts all the
    /// keys of a large table in one run, about twice as slow (memory cache misses) as many small runs merged, the
    /// runs sorted by helper threads (one per core: on 2 cores, 1.0 -> 0.7 s for a two-column index of 1M customers,
    /// against one helper): so for a large table the cache is small while its indexes are built. (For a small table
    /// one run is faster, and shrinking the cache would only write its pages out early.)
    func restore(db: Database, rows: Int) throws {
        guard !objects.isEmpty else { return }
        let cacheSize = try Int.fetchOne(db, sql: "PRAGMA cache_size") ?? -2000
        let threads = try Int.fetchOne(db, sql: "PRAGMA threads") ?? 0
        if rows >= 200_000 {
            let helpers = max(1, ProcessInfo.processInfo.activeProcessorCount)
            try db.execute(sql: "PRAGMA cache_size = \(AppDatabase.indexBuildCacheSize); PRAGMA threads = \(helpers)")
        }
        defer { try? db.execute(sql: "PRAGMA cache_size = \(cacheSize); PRAGMA threads = \(threads)") }
        for object in objects {
            try db.execute(sql: object.sql)
        }
    }
}

/// Why one row is bad.
struct RowError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}
