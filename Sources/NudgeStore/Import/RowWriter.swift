import Foundation
import GRDB
import GRDBSQLite
import NudgeLanguage
import NudgeCore

/// Validates and upserts the rows of one CSV file, inside the import's transaction.
///
/// Rows are read as bytes from the CSV reader's buffer and bound to raw prepared statements; the checks run on
/// bytes when a value is plain printable ASCII and fall back to the `String` checks otherwise, so every value
/// gets the same verdict and message as the `String` code gives it.
struct RowWriter {
    let kind: ImportKind
    let columns: [String]
    let index: [String: Int]
    let options: ImportOptions
    let upsert: RawStatement
    /// `SELECT timezone FROM customer WHERE id = ?` (customers: only without a timezone column).
    let lookupCustomer: RawStatement?
    let lookupOffer: RawStatement?
    let touch: RawStatement?
    /// Customer columns that are not known fields become attributes, in key order, with their JSON keys.
    let attributeColumns: [(name: String, index: Int, key: [UInt8])]
    /// Customers: the optional columns present, in `ImportKind.optional` order, with their first parameter.
    let customerColumns: [(column: CustomerColumn, index: Int, parameter: Int32)]
    let attributesParameter: Int32
    /// When false (once a row is bad, the file will be rejected), rows are still checked but no longer written.
    var writes = true
    /// Where good rows go instead of the upsert (`ImportOptions.checkedRows`).
    var handOver: RowHandOver?

    /// Whether the table was empty when the import began (visits: every visit is one of this file's).
    let bulk: Bool

    // Positions of the columns, nil when absent.
    let idColumn: Int?
    let signedUpColumn: Int?
    let timezoneColumn: Int?
    let customerIdColumn: Int?
    let visitedColumn: Int?
    let amountColumn: Int?
    let offerIdColumn: Int?
    let stampsColumn: Int?
    let stampsRequiredColumn: Int?
    let nameColumn: Int?
    let rewardsColumn: Int?
    let updatedColumn: Int?
    let publishedColumn: Int?
    let categoryColumn: Int?
    /// The offers columns besides id and stamps_required, in the order the upsert binds them.
    static let offerOptionalColumns = ["name", "published_at", "category"]

    /// Zones by name, as bytes (a handful in a file).
    var zones: [(name: [UInt8], zone: TimeZone, used: Bool)] = []
    var zoneCache: [String: TimeZone] = [:]
    /// Customers in bulk mode: the zone values written, for `customer_zone` (what its triggers would have added).
    var usedEmptyZone = false
    var usedOtherZones = Set<String>()
    var wroteRows = false
    /// Visits and progress: the last customer looked up and its zone (nil: unknown), as rows come grouped.
    var lastCustomer: [UInt8] = []
    var lastCustomerZone: TimeZone?
    var hasLastCustomer = false
    /// How many customer lookups ran: in a file grouped by customer, how many customers it names.
    var customerLookups = 0
    /// Progress: offers looked up.
    var offers: [(id: [UInt8], exists: Bool)] = []
    /// Values made for a row (bound in place until the row has run).
    let monthDayText = ByteBuffer(capacity: 8)
    let tagsText = ByteBuffer()
    let attributesText = ByteBuffer()
    var problems: [String] = []
    let nowMillis: Int64

    enum CustomerColumn {
        case name, email, phone, birthDate, timezone, emailOptIn, smsOptIn, pushOptIn, pushToken, walletPassId, tags
        case pushPlatform, walletPlatform
    }

    static let booleanWords: [String: Bool] = [
        "true": true, "false": false, "1": true, "0": false, "yes": true, "no": false,
    ]

    init(kind: ImportKind, columns: [String], db: Database, options: ImportOptions, bulk: Bool) throws {
        self.kind = kind
        self.columns = columns
        self.options = options
        self.bulk = bulk
        var index: [String: Int] = [:]
        for (i, name) in columns.enumerated() { index[name] = i }
        self.index = index
        idColumn = index["id"]
        signedUpColumn = index["signed_up_at"]
        timezoneColumn = index["timezone"]
        customerIdColumn = index["customer_id"]
        visitedColumn = index["visited_at"]
        amountColumn = index["amount"]
        offerIdColumn = index["offer_id"]
        stampsColumn = index["stamps"]
        stampsRequiredColumn = index["stamps_required"]
        nameColumn = index["name"]
        rewardsColumn = index["rewards_earned"]
        updatedColumn = index["updated_at"]
        publishedColumn = index["published_at"]
        categoryColumn = index["category"]
        nowMillis = StoredInstant.millis(options.now)
        let known = Set(kind.required + kind.optional)
        attributeColumns = columns.enumerated().filter { !known.contains($0.element) }
            .sorted { $0.element < $1.element }
            .map { ($0.element, $0.offset, Array(JSONText.quote($0.element).utf8)) }
        var customerColumns: [(column: CustomerColumn, index: Int, parameter: Int32)] = []
        var attributesParameter: Int32 = 0
        switch kind {
        case .customers:
            let names = Self.customerParameters(columns)
            var updates = [
                "signed_up_at = excluded.signed_up_at",
                "last_activity_at = max(excluded.signed_up_at, coalesce(customer.last_visit_at, excluded.signed_up_at))",
            ]
            for column in kind.optional {
                guard let i = index[column], let position = names.firstIndex(of: column) else { continue }
                let parameter = Int32(position + 1)
                switch column {
                case "birth_date":
                    updates += [
                        "birth_date = excluded.birth_date", "birth_month_day = excluded.birth_month_day",
                        "birth_year = excluded.birth_year",
                    ]
                    customerColumns.append((.birthDate, i, parameter))
                    continue
                case "name": customerColumns.append((.name, i, parameter))
                case "email": customerColumns.append((.email, i, parameter))
                case "phone": customerColumns.append((.phone, i, parameter))
                case "timezone": customerColumns.append((.timezone, i, parameter))
                case "email_opt_in": customerColumns.append((.emailOptIn, i, parameter))
                case "sms_opt_in": customerColumns.append((.smsOptIn, i, parameter))
                case "push_opt_in": customerColumns.append((.pushOptIn, i, parameter))
                case "push_token": customerColumns.append((.pushToken, i, parameter))
                case "wallet_pass_id": customerColumns.append((.walletPassId, i, parameter))
                case "tags": customerColumns.append((.tags, i, parameter))
                case "push_platform": customerColumns.append((.pushPlatform, i, parameter))
                case "wallet_platform": customerColumns.append((.walletPlatform, i, parameter))
                default: preconditionFailure("customer column \(column) has no binding")
                }
                if let channel = ConsentChange.columns.first(where: { $0.value == column })?.key {
                    // An opt-out the customer made through Nudge (a STOP, an unsubscribe, a hard bounce) outlives
                    // re-imports of the platform's older opt-in; only a later opt-in (START) lifts it.
                    updates.append(
                        """
                        \(column) = CASE WHEN (SELECT opt_in FROM consent_change WHERE customer_id = excluded.id \
                        AND channel = '\(channel)' ORDER BY at DESC, id DESC LIMIT 1) = 0 THEN 0 \
                        ELSE excluded.\(column) END
                        """)
                } else {
                    updates.append("\(column) = excluded.\(column)")
                }
            }
            if !attributeColumns.isEmpty {
                attributesParameter = Int32(names.count)
                updates.append("attributes = json_patch(customer.attributes, excluded.attributes)")
            }
            let placeholders = Array(repeating: "?", count: names.count).joined(separator: ", ")
            upsert = try RawStatement(
                db,
                sql: "INSERT INTO customer (\(names.joined(separator: ", "))) VALUES (\(placeholders)) "
                    + "ON CONFLICT(id) DO UPDATE SET \(updates.joined(separator: ", "))")
            // Without a timezone column, a known customer keeps their zone, and their dates are read in it.
            lookupCustomer =
                timezoneColumn == nil ? try RawStatement(db, sql: "SELECT timezone FROM customer WHERE id = ?") : nil
            lookupOffer = nil
            touch = nil
        case .visits:
            // Without an amount column, a known visit keeps its amount.
            upsert = try RawStatement(
                db,
                sql: "INSERT INTO visit (customer_id, visited_at, amount_cents) VALUES (?, ?, ?) "
                    + (amountColumn != nil
                        ? "ON CONFLICT(customer_id, visited_at) DO UPDATE SET amount_cents = excluded.amount_cents"
                        : "ON CONFLICT(customer_id, visited_at) DO NOTHING"))
            lookupCustomer = try RawStatement(db, sql: "SELECT timezone FROM customer WHERE id = ?")
            lookupOffer = nil
            if bulk || !options.refreshesDerivedFields {
                // In bulk mode every visit in the table is this file's: the derived fields are refreshed for all.
                touch = nil
            } else {
                try db.execute(
                    sql: "CREATE TEMP TABLE IF NOT EXISTS touched_customer (id TEXT PRIMARY KEY) WITHOUT ROWID")
                try db.execute(sql: "DELETE FROM touched_customer")
                touch = try RawStatement(db, sql: "INSERT OR IGNORE INTO touched_customer (id) VALUES (?)")
            }
        case .offers:
            // A column the file does not have keeps its stored value.
            let set = ["stamps_required"] + Self.offerOptionalColumns.filter { index[$0] != nil }
            upsert = try RawStatement(
                db,
                sql: "INSERT INTO offer (id, \(set.joined(separator: ", "))) VALUES (?\(String(repeating: ", ?", count: set.count))) "
                    + "ON CONFLICT(id) DO UPDATE SET " + set.map { "\($0) = excluded.\($0)" }.joined(separator: ", "))
            lookupCustomer = nil
            lookupOffer = nil
            touch = nil
        case .progress:
            // Without a rewards_earned column, new progress starts at 0 and known progress keeps its count.
            upsert = try RawStatement(
                db,
                sql: "INSERT INTO progress (customer_id, offer_id, stamps, rewards_earned, updated_at) VALUES (?, ?, ?, ?, ?) "
                    + "ON CONFLICT(customer_id, offer_id) DO UPDATE SET stamps = excluded.stamps, "
                    + (rewardsColumn != nil ? "rewards_earned = excluded.rewards_earned, " : "")
                    + "updated_at = excluded.updated_at")
            lookupCustomer = try RawStatement(db, sql: "SELECT timezone FROM customer WHERE id = ?")
            lookupOffer = try RawStatement(db, sql: "SELECT 1 FROM offer WHERE id = ?")
            touch = nil
        }
        self.customerColumns = customerColumns
        self.attributesParameter = attributesParameter
    }

    /// The customer columns a customers file with header `columns` writes, in the order of the upsert's parameters:
    /// `id`, `signed_up_at`, `last_activity_at`, the optional columns present (a birth date fills three), then
    /// `attributes` when other columns are present.
    static func customerParameters(_ columns: [String]) -> [String] {
        var names = ["id", "signed_up_at", "last_activity_at"]
        for column in ImportKind.customers.optional where columns.contains(column) {
            names += column == "birth_date" ? ["birth_date", "birth_month_day", "birth_year"] : [column]
        }
        let known = Set(ImportKind.customers.required + ImportKind.customers.optional)
        if columns.contains(where: { !known.contains($0) }) { names.append("attributes") }
        return names
    }

    // MARK: Fields

    @inline(__always)
    func field(_ column: Int?, _ record: RawRecord) -> FieldText? {
        guard let column else { return nil }
        return FieldText(record.bytes(column))
    }

    @inline(__always)
    func requiredField(_ name: String, _ column: Int?, _ record: RawRecord) throws(RowError) -> FieldText {
        guard let value = field(column, record) else { throw RowError("'\(name)' is required") }
        return value
    }

    /// The zone named `bytes`, nil when it is not a known IANA name (`zone(named:)` of a string).
    mutating func zone(bytes: UnsafeBufferPointer<UInt8>) -> TimeZone? {
        for i in zones.indices where sameBytes(zones[i].name, bytes) {
            zones[i].used = true
            return zones[i].zone
        }
        let name = String(decoding: bytes, as: UTF8.self)
        guard let zone = zone(string: name) else { return nil }
        if zones.count < 64 {
            zones.append((Array(bytes), zone, true))
        } else {
            usedOtherZones.insert(name)
        }
        return zone
    }

    mutating func zone(string name: String) -> TimeZone? {
        if let cached = zoneCache[name] { return cached }
        guard name.contains("/") || name == "UTC", let zone = TimeZone(identifier: name) else { return nil }
        zoneCache[name] = zone
        return zone
    }

    /// The zone a file's timezone value names: the default zone when empty, nil when unknown.
    mutating func zone(_ value: FieldText?) -> TimeZone? {
        switch value {
        case nil:
            usedEmptyZone = true
            return options.defaultZone
        case .bytes(let bytes, _)?: return zone(bytes: bytes)
        case .string(let name)?:
            let zone = zone(string: name)
            if zone != nil { usedOtherZones.insert(name) }
            return zone
        }
    }

    /// The zone stored for a customer (column 0 of a lookup row): the default zone when NULL or unknown.
    mutating func storedZone(_ statement: RawStatement) -> TimeZone {
        guard let bytes = statement.textColumn() else { return options.defaultZone }
        if let zone = zones.first(where: { sameBytes($0.name, bytes) })?.zone { return zone }
        return zone(string: String(decoding: bytes, as: UTF8.self)) ?? options.defaultZone
    }

    func parts(_ name: String, _ value: FieldText) throws(RowError) -> ISO8601.Parts {
        let parts: ISO8601.Parts?
        switch value {
        case .bytes(let bytes, _): parts = ISO8601.parts(utf8: bytes)
        case .string(let text): parts = ISO8601.parts(text)
        }
        guard let parts else {
            throw RowError("'\(name)' must be an ISO 8601 date or date-time, not '\(value.string)'")
        }
        return parts
    }

    func boolean(_ name: String, _ value: FieldText?) throws(RowError) -> Bool {
        guard let value else { return false }
        if let bytes = value.ascii, let word = RowWriter.booleanWord(bytes) { return word }
        guard let word = RowWriter.booleanWords[value.string.lowercased()] else {
            throw RowError("'\(name)' must be true/false/1/0/yes/no, not '\(value.string)'")
        }
        return word
    }

    /// The boolean an ASCII word names, case-insensitively; nil when it names none.
    static func booleanWord(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool? {
        func matches(_ word: StaticString) -> Bool {
            guard word.utf8CodeUnitCount == bytes.count else { return false }
            let letters = word.utf8Start
            for i in 0..<bytes.count {
                var byte = bytes[i]
                if byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") { byte += 32 }
                if byte != letters[i] { return false }
            }
            return true
        }
        switch bytes.count {
        case 1: return matches("1") ? true : matches("0") ? false : nil
        case 2: return matches("no") ? false : nil
        case 3: return matches("yes") ? true : nil
        case 4: return matches("true") ? true : nil
        case 5: return matches("false") ? false : nil
        default: return nil
        }
    }

    func integer(_ name: String, _ value: FieldText, minimum: Int) throws(RowError) -> Int {
        let text = value.string
        guard let number = Int(text) else { throw RowError("'\(name)' must be a whole number, not '\(text)'") }
        guard number >= minimum else { throw RowError("'\(name)' must be at least \(minimum), not \(number)") }
        return number
    }

    /// Visits and progress: the zone of a known customer; unknown customers are bad rows.
    mutating func customerZone(_ id: FieldText) throws -> TimeZone {
        guard let lookupCustomer else { return options.defaultZone }
        if case .bytes(let bytes, _) = id, hasLastCustomer, sameBytes(lastCustomer, bytes) {
            guard let zone = lastCustomerZone else {
                throw RowError("unknown customer '\(id.string)' (import customers first)")
            }
            return zone
        }
        customerLookups += 1
        var zone: TimeZone?
        if let known = options.knownCustomers {
            let found = known.lookUp(id.string)
            if found.known { zone = found.zone.flatMap { self.zone(string: $0) } ?? options.defaultZone }
        } else {
            lookupCustomer.bind(1, id)
            if try lookupCustomer.step() {
                zone = storedZone(lookupCustomer)
                lookupCustomer.reset()
            }
        }
        if case .bytes(let bytes, _) = id {
            lastCustomer.removeAll(keepingCapacity: true)
            lastCustomer.append(contentsOf: bytes)
            lastCustomerZone = zone
            hasLastCustomer = true
        }
        guard let zone else { throw RowError("unknown customer '\(id.string)' (import customers first)") }
        return zone
    }

    // MARK: Rows

    /// Validates one record's fields and upserts it.
    mutating func write(_ record: RawRecord) throws {
        switch kind {
        case .customers: try writeCustomer(record)
        case .visits: try writeVisit(record)
        case .offers: try writeOffer(record)
        case .progress: try writeProgress(record)
        }
    }

    mutating func writeCustomer(_ record: RawRecord) throws {
        if let handOver {
            var sink = CustomerPipeline.Sink(batch: handOver.single)
            defer { handOver.discardSingle() }
            try prepareCustomer(record, into: &sink)
            if writes { try handOver.rowInSingle() }
            return
        }
        var statement = upsert
        try prepareCustomer(record, into: &statement)
        if writes {
            try statement.run()
            wroteRows = true
        }
    }

    /// Checks a customer record and hands the upsert's parameter values to `statement`; throws the row's problems.
    /// Without a timezone column it may look the customer up (so it then runs on the database's thread).
    mutating func prepareCustomer<Sink: ParameterSink>(_ record: RawRecord, into statement: inout Sink) throws {
        problems.removeAll(keepingCapacity: true)
        let id = field(idColumn, record)
        if id == nil { problems.append("'id' is required") }
        // With a timezone column, its value is checked and is the zone of the row's dates; without one, a known
        // customer's dates are read in their stored zone (looked up only for a local date or time).
        var zone = options.defaultZone
        if let timezoneColumn {
            let value = field(timezoneColumn, record)
            if let named = self.zone(value) {
                zone = named
            } else {
                let name = value?.string ?? ""
                let hint =
                    name.contains("/")
                    ? Suggestion.closest(to: name, in: TimeZone.knownTimeZoneIdentifiers).map {
                        "did you mean '\($0)'?"
                    } ?? "use an IANA name such as Europe/London" : "use an IANA name such as Europe/London"
                problems.append("unknown time zone '\(name)' (\(hint))")
            }
        }
        if let signedUp = field(signedUpColumn, record) {
            do {
                let parts = try parts("signed_up_at", signedUp)
                if case .local = parts, timezoneColumn == nil, let id, let lookupCustomer {
                    lookupCustomer.bind(1, id)
                    if try lookupCustomer.step() {
                        zone = storedZone(lookupCustomer)
                        lookupCustomer.reset()
                    }
                }
                let millis = StoredInstant.millis(parts.instant(in: zone))
                statement.bind(2, millis)
                statement.bind(3, millis)
            } catch let error as RowError {
                problems.append(error.message)
            }
        } else {
            problems.append("'signed_up_at' is required")
        }
        statement.bind(1, id)
        for (column, i, parameter) in customerColumns {
            let value = FieldText(record.bytes(i))
            switch column {
            case .email:
                if let value, !(value.ascii.map(RowWriter.isEmail) ?? RowWriter.isEmail(value.string)) {
                    problems.append("'email' is not an email address: '\(value.string)'")
                }
                statement.bind(parameter, value)
            case .phone:
                if let value, !(value.ascii.map(RowWriter.isE164) ?? RowWriter.isE164(value.string)) {
                    problems.append("'phone' must be in E.164 form such as +14155550123, not '\(value.string)'")
                }
                statement.bind(parameter, value)
            case .birthDate:
                if let value {
                    if let birth = RowWriter.birthDate(value) {
                        statement.bind(parameter, value)
                        // `BirthDate.monthDay`: month and day are checked to be 1...31.
                        monthDayText.removeAll()
                        monthDayText.append(UInt8(48 + birth.month / 10), UInt8(48 + birth.month % 10))
                        monthDayText.append(UInt8(ascii: "-"))
                        monthDayText.append(UInt8(48 + birth.day / 10), UInt8(48 + birth.day % 10))
                        statement.bindStatic(parameter + 1, monthDayText.bytes)
                        if let year = birth.year {
                            statement.bind(parameter + 2, Int64(year))
                        } else {
                            statement.bindNull(parameter + 2)
                        }
                    } else {
                        problems.append("'birth_date' must be YYYY-MM-DD or --MM-DD, not '\(value.string)'")
                    }
                } else {
                    statement.bindNull(parameter)
                    statement.bindNull(parameter + 1)
                    statement.bindNull(parameter + 2)
                }
            case .emailOptIn, .smsOptIn, .pushOptIn:
                do {
                    let name =
                        column == .emailOptIn ? "email_opt_in" : column == .smsOptIn ? "sms_opt_in" : "push_opt_in"
                    statement.bind(parameter, try boolean(name, value) ? 1 : 0)
                } catch {
                    problems.append(error.message)
                }
            case .tags:
                tagsText.removeAll()
                RowWriter.appendTags(value, to: tagsText)
                statement.bindStatic(parameter, tagsText.bytes)
            case .name, .timezone, .pushToken, .walletPassId:
                statement.bind(parameter, value)
            case .pushPlatform, .walletPlatform:
                // One of the channel's platforms, as written (lower case), or empty.
                let channel: Channel = column == .pushPlatform ? .push : .wallet
                if let value, !channel.platforms.contains(value.string) {
                    problems.append(
                        "'\(channel.platformColumn!)' must be one of \(channel.platforms.joined(separator: ", ")), not '\(value.string)'"
                    )
                }
                statement.bind(parameter, value)
            }
        }
        if !attributeColumns.isEmpty {
            let out = attributesText
            out.removeAll()
            out.append(UInt8(ascii: "{"))
            var first = true
            for (_, i, key) in attributeColumns {
                guard let value = FieldText(record.bytes(i)) else { continue }
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                out.append(key)
                out.append(UInt8(ascii: ":"))
                value.appendJSON(to: out)
            }
            out.append(UInt8(ascii: "}"))
            statement.bindStatic(attributesParameter, out.bytes)
        }
        guard problems.isEmpty else { throw RowError(problems.joined(separator: "; ")) }
    }

    mutating func writeVisit(_ record: RawRecord) throws {
        let id = try requiredField("customer_id", customerIdColumn, record)
        let visitedText = try requiredField("visited_at", visitedColumn, record)
        let zone = try customerZone(id)
        let visited = StoredInstant.millis(try parts("visited_at", visitedText).instant(in: zone))
        var cents: Int64?
        if let amount = field(amountColumn, record) {
            let parsed: Int64? =
                switch amount {
                case .bytes(let bytes, _): RowWriter.cents(bytes)
                case .string(let text): RowWriter.cents(text)
                }
            guard let parsed else {
                throw RowError("'amount' must be a decimal number such as 12.50, not '\(amount.string)'")
            }
            cents = parsed
        }
        guard writes else { return }
        func bind<Sink: ParameterSink>(_ sink: inout Sink) {
            sink.bind(1, id)
            sink.bind(2, visited)
            if let cents { sink.bind(3, cents) } else { sink.bindNull(3) }
        }
        if let handOver { return try handOver.hand(bind) }
        var statement = upsert
        bind(&statement)
        try statement.run()
        if let touch {
            touch.bind(1, id)
            try touch.run()
        }
    }

    func writeOffer(_ record: RawRecord) throws {
        let id = try requiredField("id", idColumn, record)
        let stamps = try integer(
            "stamps_required", try requiredField("stamps_required", stampsRequiredColumn, record), minimum: 1)
        var published: Int64?
        if let text = field(publishedColumn, record) {
            published = StoredInstant.millis(try parts("published_at", text).instant(in: options.defaultZone))
        }
        guard writes else { return }
        upsert.bind(1, id)
        upsert.bind(2, Int64(stamps))
        var parameter: Int32 = 3
        if nameColumn != nil {
            upsert.bind(parameter, field(nameColumn, record))
            parameter += 1
        }
        if publishedColumn != nil {
            if let published { upsert.bind(parameter, published) } else { upsert.bindNull(parameter) }
            parameter += 1
        }
        if categoryColumn != nil { upsert.bind(parameter, field(categoryColumn, record)) }
        try upsert.run()
    }

    mutating func writeProgress(_ record: RawRecord) throws {
        let customer = try requiredField("customer_id", customerIdColumn, record)
        let offer = try requiredField("offer_id", offerIdColumn, record)
        let stamps = try integer("stamps", try requiredField("stamps", stampsColumn, record), minimum: 0)
        var rewards = 0
        if let text = field(rewardsColumn, record) { rewards = try integer("rewards_earned", text, minimum: 0) }
        let zone = try customerZone(customer)
        guard try offerExists(offer) else { throw RowError("unknown offer '\(offer.string)' (import offers first)") }
        var updated = nowMillis
        if let text = field(updatedColumn, record) {
            updated = StoredInstant.millis(try parts("updated_at", text).instant(in: zone))
        }
        guard writes else { return }
        func bind<Sink: ParameterSink>(_ sink: inout Sink) {
            sink.bind(1, customer)
            sink.bind(2, offer)
            sink.bind(3, Int64(stamps))
            sink.bind(4, Int64(rewards))
            sink.bind(5, updated)
        }
        if let handOver { return try handOver.hand(bind) }
        var statement = upsert
        bind(&statement)
        try statement.run()
    }

    /// Whether offer `id` exists (offers do not change during a progress import, so answers are kept).
    mutating func offerExists(_ id: FieldText) throws -> Bool {
        if case .bytes(let bytes, _) = id, let known = offers.first(where: { sameBytes($0.id, bytes) }) {
            return known.exists
        }
        guard let lookupOffer else { return true }
        lookupOffer.bind(1, id)
        let exists = try lookupOffer.step()
        if exists { lookupOffer.reset() }
        if case .bytes(let bytes, _) = id, offers.count < 64 { offers.append((Array(bytes), exists)) }
        return exists
    }

    /// Work after all rows: visits refresh the derived fields of the customers they touched; customers in bulk
    /// mode add the zones written to `customer_zone`, as its triggers would have.
    func finish(db: Database) throws {
        switch kind {
        case .visits where options.refreshesDerivedFields:
            // The refresh rewrites the derived fields of every touched customer; when they are many, the indexes on
            // those fields are built again afterwards rather than changed entry by entry.
            let touched =
                bulk ? customerLookups : try Int.fetchOne(db, sql: "SELECT count(*) FROM touched_customer") ?? 0
            var dropped = DroppedSchema()
            let customers = try Int.fetchOne(db, sql: "SELECT count(*) FROM customer") ?? 0
            if touched >= 10_000, touched * 4 >= customers {
                dropped = try DroppedSchema.drop(
                    table: "customer",
                    indexesOn: ["visits_total", "last_visit_at", "lifetime_value_cents", "last_activity_at"],
                    triggers: [], db: db)
            }
            try AppDatabase.refreshVisitTotals(db, onlyTouched: !bulk)
            try dropped.restore(db: db, rows: customers)
            if !bulk { try db.execute(sql: "DELETE FROM touched_customer") }
        default:
            break
        }
    }

    /// Customers in bulk mode: the distinct `timezone` values written, as `customer_zone` keys ('' for NULL).
    var writtenZones: [String] {
        var names = usedOtherZones
        for entry in zones where entry.used { names.insert(String(decoding: entry.name, as: UTF8.self)) }
        if usedEmptyZone || (timezoneColumn == nil && wroteRows) { names.insert("") }
        return names.sorted()
    }

    // MARK: Checks

    static func isEmail(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !parts[1].hasPrefix("."),
            !parts[1].hasSuffix("."), !text.contains(where: { $0 == " " || $0 == "," || $0 == ";" })
        else { return false }
        return true
    }

    /// `isEmail` for printable ASCII, where one byte is one character.
    static func isEmail(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var at = -1
        var dot = false
        for (i, byte) in bytes.enumerated() {
            switch byte {
            case UInt8(ascii: "@"):
                if at >= 0 { return false }
                at = i
            case UInt8(ascii: " "), UInt8(ascii: ","), UInt8(ascii: ";"):
                return false
            case UInt8(ascii: "."):
                if at >= 0 { dot = true }
            default:
                break
            }
        }
        guard at > 0, dot else { return false }
        return bytes[at + 1] != UInt8(ascii: ".") && bytes[bytes.count - 1] != UInt8(ascii: ".")
    }

    static func isE164(_ text: String) -> Bool {
        let digits = text.dropFirst()
        return text.hasPrefix("+") && (2...15).contains(digits.count) && digits.allSatisfy(\.isASCII)
            && digits.allSatisfy(\.isNumber) && digits.first != "0"
    }

    /// `isE164` for printable ASCII.
    static func isE164(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard (3...16).contains(bytes.count), bytes[0] == UInt8(ascii: "+"), bytes[1] != UInt8(ascii: "0") else {
            return false
        }
        for byte in bytes.dropFirst() where byte < UInt8(ascii: "0") || byte > UInt8(ascii: "9") { return false }
        return true
    }

    /// `BirthDate(parsing:)`, on bytes for the plain forms.
    static func birthDate(_ value: FieldText) -> BirthDate? {
        guard case .bytes(let bytes, _) = value else { return BirthDate(parsing: value.string) }
        if bytes.count >= 2, bytes[0] == UInt8(ascii: "-"), bytes[1] == UInt8(ascii: "-") {
            // `--MM-DD` with plain digits; anything else takes the string parser and its exact rules.
            func digit(_ i: Int) -> Int? {
                bytes[i] >= 48 && bytes[i] <= 57 ? Int(bytes[i] - 48) : nil
            }
            guard bytes.count == 7, bytes[4] == UInt8(ascii: "-"), let m1 = digit(2), let m2 = digit(3),
                let d1 = digit(5), let d2 = digit(6)
            else { return BirthDate(parsing: value.string) }
            let m = m1 * 10 + m2
            let d = d1 * 10 + d2
            guard (1...12).contains(m), d >= 1, d <= (m == 2 ? 29 : [4, 6, 9, 11].contains(m) ? 30 : 31) else {
                return nil
            }
            return BirthDate(year: nil, month: m, day: d)
        }
        guard let date = LocalDate(utf8: bytes) else { return nil }
        return BirthDate(year: date.year, month: date.month, day: date.day)
    }

    /// The tags JSON array of a `;`-separated value, as `CustomerState.json(_:)` of the split, trimmed, non-empty parts.
    static func appendTags(_ value: FieldText?, to out: ByteBuffer) {
        guard let value else {
            out.append(UInt8(ascii: "["), UInt8(ascii: "]"))
            return
        }
        guard let bytes = value.ascii else {
            let tags = value.string.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty }
            out.append(Array(CustomerState.json(tags).utf8))
            return
        }
        out.append(UInt8(ascii: "["))
        var first = true
        var start = 0
        for end in 0...bytes.count where end == bytes.count || bytes[end] == UInt8(ascii: ";") {
            var low = start
            var high = end
            start = end + 1
            while low < high && bytes[low] == UInt8(ascii: " ") { low += 1 }
            while high > low && bytes[high - 1] == UInt8(ascii: " ") { high -= 1 }
            guard low < high else { continue }
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            FieldText.appendJSON(UnsafeBufferPointer(rebasing: bytes[low..<high]), to: out)
        }
        out.append(UInt8(ascii: "]"))
    }

    /// Decimal text to integer cents, rounding half away from zero past two decimals.
    static func cents(_ text: String) -> Int64? {
        var rest = Substring(text)
        var negative = false
        if rest.hasPrefix("-") {
            negative = true
            rest = rest.dropFirst()
        } else if rest.hasPrefix("+") {
            rest = rest.dropFirst()
        }
        let parts = rest.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), !parts[0].isEmpty || parts.count == 2,
            parts.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }), parts[0].count <= 15
        else { return nil }
        var value = Int64(parts[0].isEmpty ? "0" : String(parts[0])) ?? 0
        value *= 100
        if parts.count == 2 {
            let fraction = Array(parts[1])
            guard !fraction.isEmpty else { return nil }
            let padded = fraction + Array(repeating: Character("0"), count: max(0, 3 - fraction.count))
            let two = Int64(String(padded[0..<2]))!
            let third = Int64(String(padded[2]))!
            value += two + (third >= 5 ? 1 : 0)
        }
        return negative ? -value : value
    }

    /// `cents(_:)` on bytes: any byte but a sign, digits and one point makes it nil, as a non-digit character does.
    static func cents(_ bytes: UnsafeBufferPointer<UInt8>) -> Int64? {
        var i = 0
        var negative = false
        if i < bytes.count, bytes[i] == UInt8(ascii: "-") {
            negative = true
            i += 1
        } else if i < bytes.count, bytes[i] == UInt8(ascii: "+") {
            i += 1
        }
        var whole: Int64 = 0
        var wholeDigits = 0
        while i < bytes.count, bytes[i] >= 48, bytes[i] <= 57 {
            whole = whole &* 10 &+ Int64(bytes[i] - 48)
            wholeDigits += 1
            i += 1
        }
        guard wholeDigits <= 15 else { return nil }
        var value = whole * 100
        if i == bytes.count {
            guard wholeDigits > 0 else { return nil }
            return negative ? -value : value
        }
        guard bytes[i] == UInt8(ascii: ".") else { return nil }
        i += 1
        let fractionStart = i
        var fraction = [0, 0, 0]
        while i < bytes.count, bytes[i] >= 48, bytes[i] <= 57 {
            if i - fractionStart < 3 { fraction[i - fractionStart] = Int(bytes[i] - 48) }
            i += 1
        }
        guard i == bytes.count, i > fractionStart else { return nil }
        value += Int64(fraction[0] * 10 + fraction[1]) + (fraction[2] >= 5 ? 1 : 0)
        return negative ? -value : value
    }
}
