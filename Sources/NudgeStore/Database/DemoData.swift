public import Foundation
import GRDB
import NudgeLanguage
import NudgeCore

/// Realistic synthetic customers for the demo: a fixed seed, dates placed around `now` so that every
/// example workflow has someone due today.
public enum DemoData {

    static let firstNames = [
        "Ava", "Ben", "Chloé", "Daniel", "Emma", "Felix", "Grace", "Hiro", "Isla", "Jack", "Kai", "Lena", "Mateo",
        "Nora", "Oliver", "Priya", "Quinn", "Rosa", "Sam", "Tara", "Umar", "Vera", "Wen", "Yuki", "Zoe", "Amara",
        "Bruno", "Carmen", "Diego", "Elif",
    ]
    static let lastNames = [
        "Anderson", "Brown", "Chen", "Diaz", "Evans", "Fischer", "García", "Hughes", "Ito", "Johnson", "Kim", "López",
        "Müller", "Nguyen", "O'Brien", "Patel", "Rossi", "Smith", "Tanaka", "Walker",
    ]
    static let zones: [(String?, Double)] = [
        (nil, 0.45), ("America/New_York", 0.15), ("America/Chicago", 0.1), ("America/Los_Angeles", 0.1),
        ("Europe/London", 0.08), ("Asia/Tokyo", 0.06), ("Pacific/Auckland", 0.06),
    ]
    static let drinks = ["latte", "flat white", "espresso", "chai", "cold brew", "cappuccino"]

    /// Replaces the database's content with `count` customers, their visits and stamp progress.
    public static func populate(_ database: AppDatabase, count: Int, now: Date, seed: UInt64 = 2026) throws {
        var random = SplitMix64(state: seed)
        let nowMillis = StoredInstant.millis(now)
        let day: Int64 = 86_400_000
        try database.writer.write { db in
            try db.execute(
                sql: """
                    DELETE FROM delivery_attempt; DELETE FROM outbox; DELETE FROM ledger; DELETE FROM erasure; DELETE FROM erasure_key;
                    DELETE FROM progress; DELETE FROM visit; DELETE FROM offer; DELETE FROM customer
                    """)
            try db.execute(
                sql: "INSERT INTO offer (id, name, stamps_required) VALUES ('coffee-card', 'Coffee card', 10), ('pastry-card', 'Pastry card', 8)")
            // A seasonal offer published two hours ago, for the new-offer workflow.
            try db.execute(
                sql: """
                    INSERT INTO offer (id, name, stamps_required, published_at, category)
                    VALUES ('winter-chai', 'Winter chai card', 6, ?, 'tea')
                    """, arguments: [nowMillis - 2 * 3_600_000])
            let insertCustomer = try db.makeStatement(
                sql: """
                    INSERT INTO customer (id, name, email, phone, birth_date, birth_month_day, birth_year, timezone,
                      signed_up_at, email_opt_in, sms_opt_in, push_opt_in, push_token, wallet_pass_id, tags, attributes,
                      last_activity_at, push_platform, wallet_platform)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            let insertVisit = try db.makeStatement(
                sql: "INSERT OR IGNORE INTO visit (customer_id, visited_at, amount_cents) VALUES (?, ?, ?)")
            let insertProgress = try db.makeStatement(
                sql: "INSERT INTO progress (customer_id, offer_id, stamps, rewards_earned, updated_at) VALUES (?, ?, ?, ?, ?)")
            for n in 1...count {
                let id = String(format: "c%05d", n)
                let first = random.pick(firstNames)
                let last = random.pick(lastNames)
                var roll = Double(random.int(0...999)) / 1000
                var zone: String? = nil
                for (candidate, weight) in zones {
                    if roll < weight {
                        zone = candidate
                        break
                    }
                    roll -= weight
                }
                let email = random.chance(0.88) ? "\(first.lowercased()).\(n)@example.com".folding(options: .diacriticInsensitive, locale: nil).replacingOccurrences(of: "'", with: "") : nil
                let phone = random.chance(0.7) ? "+1555\(String(format: "%07d", random.int(0...9_999_999)))" : nil
                var birthDate: String?
                var monthDay: String?
                var birthYear: Int?
                if random.chance(0.9) {
                    let date = LocalDate(daysSinceEpoch: random.int(0...365) + LocalDate(year: 2000, month: 1, day: 1).daysSinceEpoch)
                    monthDay = date.monthDay
                    if random.chance(0.8) {
                        birthYear = random.int(1950...2006)
                        let leapSafe = date.month == 2 && date.day == 29 && !LocalDate.isLeapYear(birthYear!) ? "02-28" : date.monthDay
                        birthDate = "\(birthYear!)-\(leapSafe)"
                        monthDay = leapSafe
                    } else {
                        birthDate = "--\(date.monthDay)"
                    }
                }
                // Sign-ups over two years; a few in the last days so that welcomes are due.
                let signedUp: Int64 =
                    n % 150 == 0 ? nowMillis - Int64(random.int(1...20 * 3600)) * 1000
                    : n % 150 == 1 ? nowMillis - 3 * day + Int64(random.int(-10 * 3600...0)) * 1000
                    : nowMillis - Int64(random.int(4...730)) * day - Int64(random.int(0...86_399)) * 1000
                var tags: [String] = []
                if random.chance(0.02) { tags.append("staff") }
                if random.chance(0.05) { tags.append("vip") }
                if random.chance(0.3) { tags.append("regular") }
                let drink = random.pick(drinks)
                // Preferences follow the favourite drink (drawing no random number, so the rest of the data stays
                // as it was), with pastry for every fourth customer.
                let preferences = [drink == "chai" ? "tea" : "coffee"] + (n % 4 == 0 ? ["pastry"] : [])
                let attributes = ["favorite_drink": drink, "preferences": preferences.joined(separator: ";")]
                let hasPush = random.chance(0.4)
                let emailOptIn = email != nil && random.chance(0.85)
                let smsOptIn = phone != nil && random.chance(0.6)
                let pushOptIn = hasPush && random.chance(0.8)
                let token = hasPush ? "tok_\(String(random.next() % 1_000_000_000, radix: 16))" : nil
                let pass = random.chance(0.2) ? "pass-\(id)" : nil
                // Platforms follow the number (drawing no random number): a third of the phones are iPhones, half
                // of the passes are in Apple Wallet.
                try insertCustomer.execute(arguments: [
                    id, "\(first) \(last)", email, phone, birthDate, monthDay, birthYear, zone, signedUp,
                    emailOptIn, smsOptIn, pushOptIn, token, pass,
                    String(decoding: try JSONEncoder().encode(tags), as: UTF8.self),
                    CustomerState.json(attributes),
                    signedUp,
                    token == nil ? nil : n % 3 == 0 ? "ios" : "android",
                    pass == nil ? nil : n % 2 == 0 ? "apple" : "google",
                ])
                // Visits: most customers came back; the last visit spread over the last 200 days.
                guard n % 150 > 1, random.chance(0.85) else { continue }
                let visits = random.int(1...25)
                let lastVisit = max(signedUp + day, nowMillis - Int64(random.int(1...200)) * day - Int64(random.int(0...43_200)) * 1000)
                guard lastVisit < nowMillis else { continue }
                var at = lastVisit
                for _ in 0..<visits where at > signedUp {
                    try insertVisit.execute(arguments: [id, at, random.int(250...2400)])
                    at -= Int64(random.int(1...20)) * day + Int64(random.int(0...7200)) * 1000
                }
                if random.chance(0.55) {
                    let required = 10
                    let stamps = random.int(1...required)
                    // Stamps are updated at visits; a tenth of the cards changed in the last day.
                    let updated = nowMillis - Int64(random.int(60...(10 * 86_400))) * 1000
                    try insertProgress.execute(arguments: [id, "coffee-card", stamps, random.int(0...3), max(updated, signedUp)])
                }
            }
            try AppDatabase.refreshVisitTotals(db, onlyTouched: false)
        }
    }
}
