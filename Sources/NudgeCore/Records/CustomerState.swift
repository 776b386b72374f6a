public import Foundation

/// A customer as stored, with the derived fields maintained on import.
public struct CustomerState: Sendable, Hashable {
    public var id: String
    public var name: String?
    public var email: String?
    public var phone: String?
    /// `YYYY-MM-DD` or `--MM-DD`.
    public var birthDate: String?
    /// `MM-DD` of the birthday.
    public var birthMonthDay: String?
    public var birthYear: Int?
    /// The customer's IANA zone, if set.
    public var timeZone: String?
    public var signedUpAt: Date
    public var isEmailOptIn: Bool
    public var isSMSOptIn: Bool
    public var isPushOptIn: Bool
    public var pushToken: String?
    public var walletPassID: String?
    /// `push_platform`: `android`, `ios` or `web` (which provider carries push when each platform has its own).
    public var pushPlatform: String?
    /// `wallet_platform`: `google` or `apple`.
    public var walletPlatform: String?
    /// The tags as stored: a JSON array, decoded only when read.
    public var tagsJSON: String
    /// The attributes as stored: a JSON object, decoded only when read.
    public var attributesJSON: String
    /// Tags, decoded from `tagsJSON`.
    public var tags: [String] {
        tagsJSON == "[]" ? [] : (try? JSONSerialization.jsonObject(with: Data(tagsJSON.utf8)) as? [String]) ?? []
    }
    /// Attributes, decoded from `attributesJSON`.
    public var attributes: [String: String] {
        attributesJSON == "{}"
            ? [:] : (try? JSONSerialization.jsonObject(with: Data(attributesJSON.utf8)) as? [String: String]) ?? [:]
    }
    /// The customers CSV's `preferences` column (`;`-separated), which is kept with the attributes as written.
    public var preferences: [String] {
        guard attributesJSON.contains("\"preferences\""), let text = attributes["preferences"] else { return [] }
        return text.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
    public var lastVisitAt: Date?
    public var visitsTotal: Int
    public var lifetimeValueCents: Int
    /// The latest of sign-up and last visit.
    public var lastActivityAt: Date

    /// The columns `init(row:)` reads, for SELECTs.
    public static let columns =
        "id, name, email, phone, birth_date, birth_month_day, birth_year, timezone, signed_up_at, email_opt_in, "
        + "sms_opt_in, push_opt_in, push_token, wallet_pass_id, tags, attributes, last_visit_at, visits_total, "
        + "lifetime_value_cents, last_activity_at, push_platform, wallet_platform"

    /// `columns`, each as a column of the table aliased `alias` (`c.id, c.name, …`), for joins.
    public static func columns(of alias: String) -> String {
        columns.split(separator: ",").map { alias + "." + $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ", ")
    }

    /// A customer from its stored columns, in `columns` order (for stores that decode rows themselves).
    public init(
        stored id: String, name: String?, email: String?, phone: String?, birthDate: String?, birthMonthDay: String?,
        birthYear: Int?, timeZone: String?, signedUpAt: Date, isEmailOptIn: Bool, isSMSOptIn: Bool, isPushOptIn: Bool,
        pushToken: String?, walletPassID: String?, tagsJSON: String, attributesJSON: String, lastVisitAt: Date?,
        visitsTotal: Int, lifetimeValueCents: Int, lastActivityAt: Date, pushPlatform: String?, walletPlatform: String?
    ) {
        self.id = id
        self.name = name
        self.email = email
        self.phone = phone
        self.birthDate = birthDate
        self.birthMonthDay = birthMonthDay
        self.birthYear = birthYear
        self.timeZone = timeZone
        self.signedUpAt = signedUpAt
        self.isEmailOptIn = isEmailOptIn
        self.isSMSOptIn = isSMSOptIn
        self.isPushOptIn = isPushOptIn
        self.pushToken = pushToken
        self.walletPassID = walletPassID
        self.tagsJSON = tagsJSON
        self.attributesJSON = attributesJSON
        self.lastVisitAt = lastVisitAt
        self.visitsTotal = visitsTotal
        self.lifetimeValueCents = lifetimeValueCents
        self.lastActivityAt = lastActivityAt
        self.pushPlatform = pushPlatform
        self.walletPlatform = walletPlatform
    }

    /// Creates a customer in memory (tests, fixtures).
    public init(
        id: String, name: String? = nil, email: String? = nil, phone: String? = nil, birthDate: String? = nil,
        timeZone: String? = nil, signedUpAt: Date, isEmailOptIn: Bool = false, isSMSOptIn: Bool = false,
        isPushOptIn: Bool = false, pushToken: String? = nil, walletPassID: String? = nil, tags: [String] = [],
        attributes: [String: String] = [:], lastVisitAt: Date? = nil, visitsTotal: Int = 0,
        lifetimeValueCents: Int = 0, pushPlatform: String? = nil, walletPlatform: String? = nil
    ) {
        let parsed = birthDate.flatMap(BirthDate.init(parsing:))
        self.init(
            stored: id, name: name, email: email, phone: phone, birthDate: birthDate, birthMonthDay: parsed?.monthDay,
            birthYear: parsed?.year, timeZone: timeZone, signedUpAt: signedUpAt, isEmailOptIn: isEmailOptIn,
            isSMSOptIn: isSMSOptIn, isPushOptIn: isPushOptIn, pushToken: pushToken, walletPassID: walletPassID,
            tagsJSON: Self.json(tags), attributesJSON: Self.json(attributes), lastVisitAt: lastVisitAt,
            visitsTotal: visitsTotal, lifetimeValueCents: lifetimeValueCents,
            lastActivityAt: max(signedUpAt, lastVisitAt ?? signedUpAt), pushPlatform: pushPlatform,
            walletPlatform: walletPlatform)
    }
}

extension CustomerState {
    package static func json(_ values: [String]) -> String {
        "[" + values.map(JSONText.quote).joined(separator: ",") + "]"
    }

    package static func json(_ values: [String: String]) -> String {
        "{" + values.sorted { $0.key < $1.key }.map { JSONText.quote($0.key) + ":" + JSONText.quote($0.value) }
            .joined(separator: ",") + "}"
    }
}

/// A birth date as imported: a full date or a month and day (`--MM-DD`).
public struct BirthDate: Sendable, Hashable {
    public var year: Int?
    public var month: Int
    public var day: Int

    /// A birth date from its parts (the caller checks them).
    package init(year: Int?, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses `YYYY-MM-DD` or `--MM-DD`.
    public init?(parsing text: String) {
        if text.hasPrefix("--") {
            let parts = text.dropFirst(2).split(separator: "-", omittingEmptySubsequences: false)
            guard parts.count == 2, parts[0].count == 2, parts[1].count == 2, let m = Int(parts[0]), let d = Int(parts[1]),
                (1...12).contains(m), d >= 1, d <= (m == 2 ? 29 : [4, 6, 9, 11].contains(m) ? 30 : 31)
            else { return nil }
            year = nil
            month = m
            day = d
        } else {
            guard let date = LocalDate(parsing: text) else { return nil }
            year = date.year
            month = date.month
            day = date.day
        }
    }

    /// `MM-DD`.
    public var monthDay: String {
        (month < 10 ? "0\(month)" : "\(month)") + "-" + (day < 10 ? "0\(day)" : "\(day)")
    }
}
