import Foundation
import GRDB
import NudgeLanguage
import NudgeStore
import NudgeCore

/// Writes reproducible CSV files of customers, visits, offers and stamp progress.
///
/// `matching` customers are placed so that the example workflows have someone due on the two benchmark days
/// (`day0`, the first run, and `day1`, the steady-state dry-run); every other customer is placed outside every
/// trigger window of those days. So the number of due messages stays the same whatever the total, and the
/// dry-run's cost can be compared across scales "with the same matches".
struct SyntheticData {
    var customers: Int
    var matching: Int
    var visitsPerCustomer: Int
    var progressShare: Double
    /// 15:00 UTC on the first benchmark day.
    var day0: Date
    var seed: UInt64 = 2026

    static let zones: [String?] = [
        nil, nil, nil, "America/New_York", "America/Chicago", "America/Los_Angeles", "Europe/London", "Europe/Berlin",
        "Asia/Tokyo", "Australia/Sydney", "Pacific/Auckland", "America/Sao_Paulo",
    ]
    /// First names as a town's customers have them: a few very common, a long tail of rare ones (Zipf's law over
    /// 5,000 names; the 12 most common, the first, are a third of the customers). A plan renders each distinct body
    /// once (`RenderMemo`), so a dozen names in all would make a broadcast's rendering look almost free.
    static let names: [String] = {
        let common = ["Ava", "Ben", "Chloé", "Diego", "Emma", "Felix", "Grace", "Hiro", "Isla", "Jack", "Kai", "Lena"]
        let syllables = [
            "ma", "ri", "to", "ne", "sa", "lu", "ka", "de", "vi", "ro", "an", "el", "jo", "mi", "ta", "no", "be", "li",
            "sha", "za",
        ]
        return common + (common.count..<5_000).map { rank in
            var name = syllables[rank % 20] + syllables[rank / 20 % 20]
            if rank >= 400 { name += syllables[rank / 400 % 20] }
            return name.prefix(1).uppercased() + name.dropFirst()
        }
    }()
    /// `names`' cumulative weights (rank r weighs 1 / r).
    static let nameWeights: [Double] = {
        var total = 0.0
        return (1...names.count).map { rank in
            total += 1 / Double(rank)
            return total
        }
    }()

    /// A first name drawn from `names` by its weight, with one draw of `random` (as the data had before, so the rest
    /// of the data stays the same).
    static func firstName(_ random: inout SplitMix64) -> String {
        let point = Double(random.int(1 << 30)) / Double(1 << 30) * nameWeights[nameWeights.count - 1]
        var (low, high) = (0, nameWeights.count - 1)
        while low < high {
            let middle = (low + high) / 2
            if nameWeights[middle] <= point { low = middle + 1 } else { high = middle }
        }
        return names[low]
    }

    struct Counts {
        var customers = 0
        var visits = 0
        var offers = 0
        var progress = 0
        /// Every customer's sign-up instant, in milliseconds.
        var signedUp: [Int64] = []

        /// The catch-up window, in whole days before `now`, that holds the `latest` sign-ups up to `now` (the
        /// sign-ups are not spread evenly, so a share of the customers would not do).
        func catchUpDays(latest: Int, before now: Date) -> Int {
            let nowMillis = Int64(now.timeIntervalSince1970 * 1000)
            let past = signedUp.filter { $0 <= nowMillis }.sorted(by: >)
            guard let oldest = past.prefix(latest).last else { return 1 }
            return max(1, Int((Double(nowMillis - oldest) / 86_400_000).rounded(.up)))
        }
    }

    /// Writes customers.csv, visits.csv, offers.csv and progress.csv into `directory`.
    func write(to directory: URL) throws -> Counts {
        var random = SplitMix64(state: seed)
        var counts = Counts()
        let customersFile = try CSVWriter(directory.appendingPathComponent("customers.csv"))
        let visitsFile = try CSVWriter(directory.appendingPathComponent("visits.csv"))
        let progressFile = try CSVWriter(directory.appendingPathComponent("progress.csv"))
        let offersFile = try CSVWriter(directory.appendingPathComponent("offers.csv"))
        offersFile.line("id,name,stamps_required")
        offersFile.line("coffee-card,Coffee card,10")
        offersFile.line("pastry-card,Pastry card,8")
        counts.offers = 2
        customersFile.line(
            "id,name,email,phone,birth_date,timezone,signed_up_at,email_opt_in,sms_opt_in,push_opt_in,push_token,wallet_pass_id,tags,favorite_drink"
        )
        visitsFile.line("customer_id,visited_at,amount")
        progressFile.line("customer_id,offer_id,stamps,rewards_earned,updated_at")

        let utc = TimeZone(identifier: "UTC")!
        let today = utc.localDate(of: day0)
        let dayMillis: Int64 = 86_400_000
        let day0Millis = Int64(day0.timeIntervalSince1970 * 1000)
        // Birthdays whose month-day falls from 4 days before to 13 days after today are near a benchmark day
        // (birthday-reminder fires 8 days ahead).
        func isNearBenchmarkDays(_ birth: LocalDate) -> Bool {
            let delta = LocalDate(year: today.year, month: birth.month, day: birth.day).daysSinceEpoch - today.daysSinceEpoch
            let wrapped = ((delta % 365) + 365) % 365
            return wrapped <= 13 || wrapped >= 361
        }
        let stride = max(1, customers / max(1, matching))
        for n in 0..<customers {
            let id = "c\(n)"
            let isMatching = matching > 0 && n % stride == 0 && n / stride < matching
            let zone = Self.zones[random.int(Self.zones.count)]
            let name = "\(Self.firstName(&random)) \(["Lima", "Chen", "Okafor", "Smith", "Rossi"][random.int(5)])"
            let hasEmail = random.chance(0.9)
            let hasPhone = random.chance(0.7)
            let hasPush = random.chance(0.4)
            // Which trigger a matching customer is placed for, and on which day.
            let role = isMatching ? random.int(5) : -1
            let dueDay = random.int(2)
            var birth: LocalDate
            repeat {
                birth = LocalDate(year: 2001, month: 1, day: 1).adding(days: random.int(365))
            } while isNearBenchmarkDays(birth)
            if role == 0 {
                // A birthday today or tomorrow (birthday-treat), or eight days later (birthday-reminder).
                let target = today.adding(days: dueDay + (random.chance(0.5) ? 8 : 0))
                birth = LocalDate(year: 2001, month: target.month, day: min(target.day, 28))
            }
            let birthText =
                random.chance(0.1) ? "" : (random.chance(0.2) ? "--\(birth.monthDay)" : "\(random.int(50) + 1955)-\(birth.monthDay)")
            // Background customers: the last visit away from the 30/60/90-day marks of both benchmark days,
            // the sign-up before it and away from the one-year mark. Role 1 signs up on a benchmark day (welcome)
            // or three days before (second visit); role 2's last visit is 30, 60 or 90 days before one.
            var lastVisitAge: Int
            repeat {
                lastVisitAge = 1 + random.int(200)
            } while [27, 28, 29, 30, 31, 32, 57, 58, 59, 60, 61, 62, 87, 88, 89, 90, 91, 92].contains(lastVisitAge)
            if role == 2 { lastVisitAge = [30, 60, 90][random.int(3)] - dueDay }
            var signupAge: Int
            repeat {
                signupAge = max(20, lastVisitAge + 1) + random.int(520)
            } while signupAge >= 358 && signupAge <= 374
            var signedUp = day0Millis - Int64(signupAge) * dayMillis - Int64(random.int(40_000)) * 1000
            var lastVisit = day0Millis - Int64(lastVisitAge) * dayMillis + Int64(random.int(3600)) * 1000
            if role == 1 {
                signedUp = day0Millis + Int64(dueDay) * dayMillis - Int64(random.int(36_000)) * 1000
                    - (random.chance(0.5) ? 3 * dayMillis : 0)
                lastVisit = signedUp
            }
            let visits = role == 1 ? 0 : max(1, visitsPerCustomer + random.int(3) - 1)
            var at = lastVisit
            var written = 0
            while written < visits && at > signedUp {
                visitsFile.line("\(id),\(ISO8601.format(Date(timeIntervalSince1970: Double(at) / 1000))),\(random.int(2000) + 300)")
                at -= Int64(1 + random.int(20)) * dayMillis
                written += 1
            }
            counts.visits += written
            let tags = random.chance(0.02) ? "staff" : (random.chance(0.05) ? "vip;regular" : "")
            customersFile.line(
                [
                    id, name, hasEmail ? "u\(n)@example.com" : "", hasPhone ? "+1555\(1_000_000 + n % 9_000_000)" : "",
                    birthText, zone ?? "", ISO8601.format(Date(timeIntervalSince1970: Double(signedUp) / 1000)),
                    random.chance(0.85) ? "yes" : "no", random.chance(0.6) ? "yes" : "no", random.chance(0.8) ? "1" : "0",
                    hasPush ? "tok\(n)" : "", random.chance(0.2) ? "pass\(n)" : "", tags,
                    ["latte", "espresso", "chai"][random.int(3)],
                ].joined(separator: ","))
            counts.customers += 1
            counts.signedUp.append(signedUp)
            // Stamp progress: role 3 crossed a threshold on a benchmark day; others changed long ago.
            if role == 3 || (role != 3 && random.chance(progressShare)) {
                let updated =
                    role == 3
                    ? day0Millis + Int64(dueDay) * dayMillis - Int64(random.int(20_000)) * 1000
                    : day0Millis - Int64(6 + random.int(300)) * dayMillis
                let stamps = role == 3 ? [5, 8, 10][random.int(3)] : random.int(10)
                progressFile.line(
                    "\(id),coffee-card,\(stamps),\(random.int(3)),\(ISO8601.format(Date(timeIntervalSince1970: Double(updated) / 1000)))")
                counts.progress += 1
            }
        }
        for file in [customersFile, visitsFile, progressFile, offersFile] { try file.close() }
        return counts
    }
}

extension SyntheticData {
    /// The ids of the customers placed to fall due on the benchmark days.
    var placedIDs: [String] {
        let stride = max(1, customers / max(1, matching))
        return (0..<min(matching, customers)).map { "c\($0 * stride)" }
    }

    /// Copies Nudge's SQLite database `source` to `path` and removes every placed customer but `keeping` of them
    /// (spread evenly), with their visits and progress: a quiet day on the same background.
    func quietCopy(of source: String, into path: String, keeping: Int) throws {
        try? FileManager.default.removeItem(atPath: path)
        try DatabaseQueue(path: source).writeWithoutTransaction { db in try db.execute(literal: "VACUUM INTO \(path)") }
        let every = max(1, matching / max(1, keeping))
        let removed = placedIDs.enumerated().filter { $0.offset % every != 0 }.map(\.element)
        try DatabaseQueue(path: path).write { db in
            for start in Swift.stride(from: 0, to: removed.count, by: 500) {
                let ids = removed[start..<min(start + 500, removed.count)]
                try db.execute(
                    sql: "DELETE FROM customer WHERE id IN (\(Array(repeating: "?", count: ids.count).joined(separator: ",")))",
                    arguments: StatementArguments(Array(ids)))
            }
        }
    }

    /// Writes customers.csv (tags on every row and three attribute columns: about 130 bytes a row) and visits.csv
    /// (three visits each) for the wide-rows imports; returns the row counts.
    static func writeWide(customers: Int, to directory: URL, day0: Date) throws -> (customers: Int, visits: Int) {
        var random = SplitMix64(state: 7)
        let customersFile = try CSVWriter(directory.appendingPathComponent("customers.csv"))
        let visitsFile = try CSVWriter(directory.appendingPathComponent("visits.csv"))
        customersFile.line(
            "id,name,email,phone,birth_date,timezone,signed_up_at,email_opt_in,sms_opt_in,push_opt_in,tags,favorite_drink,tier,home_store")
        visitsFile.line("customer_id,visited_at,amount")
        let day0Millis = Int64(day0.timeIntervalSince1970 * 1000)
        let tiers = ["bronze", "silver", "gold"]
        let stores = ["downtown", "riverside", "airport", "campus"]
        for n in 0..<customers {
            let id = "c\(n)"
            let signedUp = day0Millis - Int64(30 + random.int(700)) * 86_400_000 - Int64(random.int(86_400)) * 1000
            let zone = zones[random.int(zones.count)] ?? ""
            customersFile.line(
                [
                    id, "\(firstName(&random)) \(["Lima", "Chen", "Okafor", "Smith", "Rossi"][random.int(5)])",
                    "member\(n)@example.com", "+1555\(1_000_000 + n % 9_000_000)",
                    "\(1955 + random.int(50))-\(String(format: "%02d-%02d", 1 + random.int(12), 1 + random.int(28)))", zone,
                    ISO8601.format(Date(timeIntervalSince1970: Double(signedUp) / 1000)), "yes", random.chance(0.6) ? "yes" : "no",
                    "no", ["coffee;morning", "tea;regular", "pastry;weekend;regular"][random.int(3)],
                    ["latte", "espresso", "chai"][random.int(3)], tiers[random.int(3)], stores[random.int(4)],
                ].joined(separator: ","))
            var at = signedUp
            for _ in 0..<3 {
                at += Int64(1 + random.int(9)) * 86_400_000 + Int64(random.int(36_000)) * 1000
                visitsFile.line("\(id),\(ISO8601.format(Date(timeIntervalSince1970: Double(at) / 1000))),\(random.int(2000) + 300)")
            }
        }
        for file in [customersFile, visitsFile] { try file.close() }
        return (customers, customers * 3)
    }
}

/// Buffered line writer.
final class CSVWriter {
    let handle: FileHandle
    var buffer = Data()

    init(_ url: URL) throws {
        _ = FileManager.default.createFile(atPath: url.path, contents: nil)
        handle = try FileHandle(forWritingTo: url)
        buffer.reserveCapacity(1 << 20)
    }

    func line(_ text: String) {
        buffer.append(contentsOf: text.utf8)
        buffer.append(UInt8(ascii: "\n"))
        if buffer.count >= 1 << 20 {
            handle.write(buffer)
            buffer.removeAll(keepingCapacity: true)
        }
    }

    func close() throws {
        handle.write(buffer)
        try handle.close()
    }
}
