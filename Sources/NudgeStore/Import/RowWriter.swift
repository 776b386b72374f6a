import Foundation
import GRDB
import NudgeLanguage

/// Validates and upserts the rows of one CSV file, inside the import's transaction.
struct RowWriter {
    let kind: ImportKind
    let columns: [String]
    let index: [String: Int]
    let options: ImportOptions
    let upsert: Statement
    let lookupCustomer: Statement?
    let lookupOffer: Statement?
    let touch: Statement?
    /// Customer columns that are not known fields become attributes.
    let attributeColumns: [(name: String, index: Int)]
    var zoneCache: [String: TimeZone] = [:]

    static let booleanWords: [String: Bool] = [
        "true": true, "false": false, "1": true, "0": false, "yes": true, "no": false,
    ]

    init(kind: ImportKind, columns: [String], db: Database, options: ImportOptions) throws {
        self.kind = kind
        self.columns = columns
        self.options = options
        var index: [String: Int] = [:]
        for (i, name) in columns.enumerated() { index[name] = i }
        self.index = index
        let known = Set(kind.required + kind.optional)
        attributeColumns = columns.enumerated().filter { !known.contains($0.element) }.map { ($0.element, $0.offset) }
        switch kind {
        case .customers:
            var names = ["id", "signed_up_at", "last_activity_at"]
            var updates = [
                "signed_up_at = excluded.signed_up_at",
                "last_activity_at = max(excluded.signed_up_at, coalesce(customer.last_visit_at, excluded.signed_up_at))",
            ]
            for column in kind.optional where index[column] != nil {
                switch column {
                case "birth_date":
                    names += ["birth_date", "birth_month_day", "birth_year"]
                    updates += [
                        "birth_date = excluded.birth_date", "birth_month_day = excluded.birth_month_day",
                        "birth_year = excluded.birth_year",
                    ]
                default:
                    names.append(column)
                    updates.append("\(column) = excluded.\(column)")
                }
            }
            if !attributeColumns.isEmpty {
                names.append("attributes")
                updates.append("attributes = json_patch(customer.attributes, excluded.attributes)")
            }
            let placeholders = Array(repeating: "?", count: names.count).joined(separator: ", ")
            upsert = try db.makeStatement(
                sql: "INSERT INTO customer (\(names.joined(separator: ", "))) VALUES (\(placeholders)) "
                    + "ON CONFLICT(id) DO UPDATE SET \(updates.joined(separator: ", "))")
            // Without a timezone column, a known customer keeps their zone, and their dates are read in it.
            lookupCustomer =
                index["timezone"] == nil ? try db.makeStatement(sql: "SELECT timezone FROM customer WHERE id = ?") : nil
            lookupOffer = nil
            touch = nil
        case .visits:
            // Without an amount column, a known visit keeps its amount.
            upsert = try db.makeStatement(
                sql: "INSERT INTO visit (customer_id, visited_at, amount_cents) VALUES (?, ?, ?) "
                    + (index["amount"] != nil
                        ? "ON CONFLICT(customer_id, visited_at) DO UPDATE SET amount_cents = excluded.amount_cents"
                        : "ON CONFLICT(customer_id, visited_at) DO NOTHING"))
            lookupCustomer = try db.makeStatement(sql: "SELECT timezone FROM customer WHERE id = ?")
            lookupOffer = nil
            try db.execute(sql: "CREATE TEMP TABLE IF NOT EXISTS touched_customer (id TEXT PRIMARY KEY) WITHOUT ROWID")
            try db.execute(sql: "DELETE FROM touched_customer")
            touch = try db.makeStatement(sql: "INSERT OR IGNORE INTO touched_customer (id) VALUES (?)")
        case .offers:
            let hasName = index["name"] != nil
            upsert = try db.makeStatement(
                sql: hasName
                    ? "INSERT INTO offer (id, stamps_required, name) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
                        + "stamps_required = excluded.stamps_required, name = excluded.name"
                    : "INSERT INTO offer (id, stamps_required) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET "
                        + "stamps_required = excluded.stamps_required")
            lookupCustomer = nil
            lookupOffer = nil
            touch = nil
        case .progress:
            // Without a rewards_earned column, new progress starts at 0 and known progress keeps its count.
            upsert = try db.makeStatement(
                sql: "INSERT INTO progress (customer_id, offer_id, stamps, rewards_earned, updated_at) VALUES (?, ?, ?, ?, ?) "
                    + "ON CONFLICT(customer_id, offer_id) DO UPDATE SET stamps = excluded.stamps, "
                    + (index["rewards_earned"] != nil ? "rewards_earned = excluded.rewards_earned, " : "")
                    + "updated_at = excluded.updated_at")
            lookupCustomer = try db.makeStatement(sql: "SELECT timezone FROM customer WHERE id = ?")
            lookupOffer = try db.makeStatement(sql: "SELECT 1 FROM offer WHERE id = ?")
            touch = nil
        }
    }

    func field(_ name: String, _ fields: [String]) -> String? {
        guard let i = index[name] else { return nil }
        let value = fields[i].trimmingCharacters(in: .whitespaces)
        return value.isEmpty ? nil : value
    }

    func requiredField(_ name: String, _ fields: [String]) throws(RowError) -> String {
        guard let value = field(name, fields) else { throw RowError("'\(name)' is required") }
        return value
    }

    mutating func zone(named name: String?) -> TimeZone? {
        guard let name else { return options.defaultZone }
        if let cached = zoneCache[name] { return cached }
        guard name.contains("/") || name == "UTC", let zone = TimeZone(identifier: name) else { return nil }
        zoneCache[name] = zone
        return zone
    }

    func instant(_ name: String, _ text: String, zone: TimeZone) throws(RowError) -> Int64 {
        guard let date = ISO8601.parse(text, zone: zone) else {
            throw RowError("'\(name)' must be an ISO 8601 date or date-time, not '\(text)'")
        }
        return StoredInstant.millis(date)
    }

    func boolean(_ name: String, _ fields: [String]) throws(RowError) -> Bool? {
        guard let text = field(name, fields) else { return index[name] == nil ? nil : false }
        guard let value = RowWriter.booleanWords[text.lowercased()] else {
            throw RowError("'\(name)' must be true/false/1/0/yes/no, not '\(text)'")
        }
        return value
    }

    func integer(_ name: String, _ text: String, minimum: Int) throws(RowError) -> Int {
        guard let value = Int(text) else { throw RowError("'\(name)' must be a whole number, not '\(text)'") }
        guard value >= minimum else { throw RowError("'\(name)' must be at least \(minimum), not \(value)") }
        return value
    }

    /// Validates one record's fields and upserts it.
    mutating func write(_ fields: [String], db: Database) throws -> Void {
        switch kind {
        case .customers: try writeCustomer(fields)
        case .visits: try writeVisit(fields, db: db)
        case .offers: try writeOffer(fields)
        case .progress: try writeProgress(fields, db: db)
        }
    }

    /// Runs one field's validation, collecting its problem instead of stopping at the first.
    func collect<T>(_ problems: inout [String], _ body: () throws -> T) -> T? {
        do {
            return try body()
        } catch let error as RowError {
            problems.append(error.message)
        } catch {
            problems.append("\(error)")
        }
        return nil
    }

    mutating func writeCustomer(_ fields: [String]) throws {
        var problems: [String] = []
        var arguments: [(any DatabaseValueConvertible)?] = []
        let id = collect(&problems) { try requiredField("id", fields) }
        var zone: TimeZone? = options.defaultZone
        if let id, let lookupCustomer, let row = try Row.fetchOne(lookupCustomer, arguments: [id]) {
            let stored: String? = row[0]
            zone = self.zone(named: stored) ?? options.defaultZone
        } else {
            let zoneName = field("timezone", fields)
            zone = self.zone(named: zoneName)
            if zone == nil {
                let hint =
                    (zoneName ?? "").contains("/")
                    ? Suggestion.closest(to: zoneName ?? "", in: TimeZone.knownTimeZoneIdentifiers).map {
                        "did you mean '\($0)'?"
                    } ?? "use an IANA name such as Europe/London" : "use an IANA name such as Europe/London"
                problems.append("unknown time zone '\(zoneName ?? "")' (\(hint))")
            }
        }
        let signedUp = collect(&problems) {
            try instant("signed_up_at", try requiredField("signed_up_at", fields), zone: zone ?? options.defaultZone)
        }
        arguments += [id, signedUp, signedUp]
        for column in kind.optional where index[column] != nil {
            let value = field(column, fields)
            switch column {
            case "email":
                if let value, !RowWriter.isEmail(value) { problems.append("'email' is not an email address: '\(value)'") }
                arguments.append(value)
            case "phone":
                if let value, !RowWriter.isE164(value) {
                    problems.append("'phone' must be in E.164 form such as +14155550123, not '\(value)'")
                }
                arguments.append(value)
            case "birth_date":
                if let value {
                    if let birth = BirthDate(parsing: value) {
                        arguments += [value, birth.monthDay, birth.year]
                    } else {
                        problems.append("'birth_date' must be YYYY-MM-DD or --MM-DD, not '\(value)'")
                    }
                } else {
                    arguments += [nil, nil, nil]
                }
            case "email_opt_in", "sms_opt_in", "push_opt_in":
                arguments.append(collect(&problems) { try boolean(column, fields) ?? false })
            case "tags":
                let tags = (value ?? "").split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
                    .filter { !$0.isEmpty }
                arguments.append(RowWriter.json(tags))
            default:
                arguments.append(value)
            }
        }
        if !attributeColumns.isEmpty {
            var attributes: [String: String] = [:]
            for (name, i) in attributeColumns {
                let value = fields[i].trimmingCharacters(in: .whitespaces)
                if !value.isEmpty { attributes[name] = value }
            }
            arguments.append(RowWriter.json(attributes))
        }
        guard problems.isEmpty else { throw RowError(problems.joined(separator: "; ")) }
        try upsert.execute(arguments: StatementArguments(arguments))
    }

    mutating func customerZone(_ id: String) throws -> TimeZone {
        guard let lookupCustomer else { return options.defaultZone }
        guard let row = try Row.fetchOne(lookupCustomer, arguments: [id]) else {
            throw RowError("unknown customer '\(id)' (import customers first)")
        }
        let name: String? = row[0]
        return zone(named: name) ?? options.defaultZone
    }

    mutating func writeVisit(_ fields: [String], db: Database) throws {
        let id = try requiredField("customer_id", fields)
        let visitedText = try requiredField("visited_at", fields)
        let zone = try customerZone(id)
        let visited = try instant("visited_at", visitedText, zone: zone)
        var cents: Int64?
        if let amount = field("amount", fields) {
            guard let parsed = RowWriter.cents(amount) else {
                throw RowError("'amount' must be a decimal number such as 12.50, not '\(amount)'")
            }
            cents = parsed
        }
        try upsert.execute(arguments: [id, visited, cents])
        try touch?.execute(arguments: [id])
    }

    func writeOffer(_ fields: [String]) throws {
        let id = try requiredField("id", fields)
        let stamps = try integer("stamps_required", try requiredField("stamps_required", fields), minimum: 1)
        if index["name"] != nil {
            try upsert.execute(arguments: [id, stamps, field("name", fields)])
        } else {
            try upsert.execute(arguments: [id, stamps])
        }
    }

    mutating func writeProgress(_ fields: [String], db: Database) throws {
        let customer = try requiredField("customer_id", fields)
        let offer = try requiredField("offer_id", fields)
        let stamps = try integer("stamps", try requiredField("stamps", fields), minimum: 0)
        let rewards = try field("rewards_earned", fields).map { text throws(RowError) in
            try integer("rewards_earned", text, minimum: 0)
        } ?? 0
        let zone = try customerZone(customer)
        if let lookupOffer, try Row.fetchOne(lookupOffer, arguments: [offer]) == nil {
            throw RowError("unknown offer '\(offer)' (import offers first)")
        }
        let updated = try field("updated_at", fields).map { text throws(RowError) in
            try instant("updated_at", text, zone: zone)
        } ?? StoredInstant.millis(options.now)
        try upsert.execute(arguments: [customer, offer, stamps, rewards, updated])
    }

    /// Work after all rows: visits refresh the derived fields of the customers they touched.
    func finish(db: Database) throws {
        guard kind == .visits else { return }
        try db.execute(
            sql: """
                UPDATE customer SET
                  visits_total = (SELECT count(*) FROM visit WHERE visit.customer_id = customer.id),
                  last_visit_at = (SELECT max(visited_at) FROM visit WHERE visit.customer_id = customer.id),
                  lifetime_value_cents = (SELECT coalesce(sum(amount_cents), 0) FROM visit WHERE visit.customer_id = customer.id)
                WHERE id IN (SELECT id FROM touched_customer);
                UPDATE customer SET last_activity_at = max(signed_up_at, coalesce(last_visit_at, signed_up_at))
                WHERE id IN (SELECT id FROM touched_customer);
                DELETE FROM touched_customer;
                """)
    }

    static func isEmail(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !parts[1].hasPrefix("."),
            !parts[1].hasSuffix("."), !text.contains(where: { $0 == " " || $0 == "," || $0 == ";" })
        else { return false }
        return true
    }

    static func isE164(_ text: String) -> Bool {
        let digits = text.dropFirst()
        return text.hasPrefix("+") && (2...15).contains(digits.count) && digits.allSatisfy(\.isASCII)
            && digits.allSatisfy(\.isNumber) && digits.first != "0"
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

    /// A JSON array of strings (written by hand: this runs once per imported row).
    static func json(_ values: [String]) -> String {
        "[" + values.map(JSONText.quote).joined(separator: ",") + "]"
    }

    /// A JSON object of strings, keys sorted.
    static func json(_ values: [String: String]) -> String {
        "{" + values.sorted { $0.key < $1.key }.map { JSONText.quote($0.key) + ":" + JSONText.quote($0.value) }
            .joined(separator: ",") + "}"
    }
}
