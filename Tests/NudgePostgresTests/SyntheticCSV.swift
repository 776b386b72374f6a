import Foundation

/// Small reproducible customer data as CSV files, with someone due for every example workflow around 2026-11-25.
struct SyntheticCSV {
    var customers = "id,name,email,phone,birth_date,timezone,signed_up_at,email_opt_in,sms_opt_in,push_opt_in,push_token,wallet_pass_id,tags,favourite,preferences\n"
    var visits = "customer_id,visited_at,amount\n"
    /// Two stamp cards, and two offers published during the days the tests plan (2026-11-25 onwards), for new_offer.
    var offers = """
        id,name,stamps_required,published_at,category
        coffee,Coffee card,10,,
        pastry,Pastry card,6,,
        winter-chai,Winter chai,6,2026-11-27T15:00:00Z,tea
        mince-pie,Mince pie,4,2026-12-01,pastry

        """
    var progress = "customer_id,offer_id,stamps,rewards_earned,updated_at\n"

    init(count: Int, seed: UInt64 = 7) {
        var state = seed
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        func pick(_ n: Int) -> Int { Int(next() % UInt64(n)) }
        let zones = ["", "America/New_York", "Europe/London", "Asia/Tokyo", "Pacific/Auckland"]
        let base = Date(timeIntervalSince1970: 1_764_072_000)  // 2025-11-25T12:00:00Z
        let day = 86_400.0
        func iso(_ date: Date) -> String { ISO8601DateFormatter().string(from: date) }
        for i in 0..<count {
            let id = "c\(i)"
            let zone = zones[pick(zones.count)]
            let month = 10 + pick(3)
            let dayOfMonth = 1 + pick(28)
            let birth = pick(4) == 0 ? "--\(String(format: "%02d-%02d", month, dayOfMonth))" : "\(1960 + pick(40))-\(String(format: "%02d-%02d", month, dayOfMonth))"
            let signedUp = base.addingTimeInterval(Double(pick(365)) * day + Double(pick(86_400)))
            let email = pick(6) == 0 ? "" : "\(id)@example.com"
            let phone = pick(3) == 0 ? "+1415555\(String(format: "%04d", i % 10_000))" : ""
            let tags = pick(5) == 0 ? "staff" : pick(2) == 0 ? "regular;vip" : ""
            // Drawn in the order the columns are written.
            let (emailOptIn, smsOptIn, pushOptIn) = (pick(4) != 0, pick(2) == 0, pick(2) == 0)
            let (token, pass) = (pick(3) == 0 ? "tok\(i)" : "", pick(5) == 0 ? "pass\(i)" : "")
            let favourite = pick(2) == 0 ? "latte" : ""
            let preferences = favourite.isEmpty ? "tea" : "coffee; pastry"
            customers += "\(id),Customer \(i),\(email),\(phone),\(birth),\(zone),\(iso(signedUp)),\(emailOptIn),\(smsOptIn),\(pushOptIn),\(token),\(pass),\(tags),\(favourite),\(preferences)\n"
            var visit = signedUp
            for _ in 0..<pick(6) {
                visit = visit.addingTimeInterval(Double(1 + pick(40)) * day + Double(pick(3600)))
                if visit > base.addingTimeInterval(400 * day) { break }
                visits += "\(id),\(iso(visit)),\(pick(2000) / 100).\(String(format: "%02d", pick(100)))\n"
            }
            if pick(3) == 0 {
                let updated = base.addingTimeInterval(Double(355 + pick(15)) * day + Double(pick(86_400)))
                progress += "\(id),\(pick(2) == 0 ? "coffee" : "pastry"),\(pick(11)),\(pick(2)),\(iso(updated))\n"
            }
        }
    }

    /// Writes the four files into `directory`; returns their paths by kind.
    func write(to directory: URL) throws -> [String: String] {
        var paths: [String: String] = [:]
        for (kind, text) in [("customers", customers), ("visits", visits), ("offers", offers), ("progress", progress)] {
            let url = directory.appendingPathComponent("\(kind).csv")
            try text.write(to: url, atomically: true, encoding: .utf8)
            paths[kind] = url.path
        }
        return paths
    }
}
