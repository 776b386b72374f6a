public import Foundation
import Logging
import NudgeLanguage
public import NudgeStore
import PostgresNIO
public import NudgeCore

/// The planning seam on PostgreSQL: the same candidate queries as SQLite's, each served by an index.
extension PostgresStore: PlanningStore {
    /// Read from `customer_state`, which shows the visit-derived fields as SQLite stores them.
    static let customerColumns = CustomerState.columns

    /// `customerColumns` of a customer `c` with visits, from its `customer_activity` row `a`.
    static let activeColumns = CustomerState.columns.split(separator: ",").map {
        let column = $0.trimmingCharacters(in: .whitespaces)
        return (activityColumns.contains(column) ? "a." : "c.") + column
    }.joined(separator: ", ")

    /// The visit-derived fields, which live in `customer_activity`.
    static let activityColumns: Set<String> = ["last_visit_at", "visits_total", "lifetime_value_cents", "last_activity_at"]

    /// `columns` (comma-separated) each prefixed with `alias.`.
    static func prefixed(_ columns: String, _ alias: String) -> String {
        columns.split(separator: ",").map { alias + "." + $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ", ")
    }

    static func customer(_ row: PostgresRandomAccessRow, offset: Int = 0) throws -> CustomerState {
        func text(_ i: Int) throws -> String? { try row[offset + i].decode(String?.self) }
        func int(_ i: Int) throws -> Int64? { try row[offset + i].decode(Int64?.self) }
        return CustomerState(
            stored: try row[offset].decode(String.self), name: try text(1), email: try text(2), phone: try text(3),
            birthDate: try text(4), birthMonthDay: try text(5), birthYear: try int(6).map(Int.init), timeZone: try text(7),
            signedUpAt: StoredInstant.date(try row[offset + 8].decode(Int64.self)),
            isEmailOptIn: try row[offset + 9].decode(Bool.self), isSMSOptIn: try row[offset + 10].decode(Bool.self),
            isPushOptIn: try row[offset + 11].decode(Bool.self), pushToken: try text(12), walletPassID: try text(13),
            tagsJSON: try row[offset + 14].decode(String.self), attributesJSON: try row[offset + 15].decode(String.self),
            lastVisitAt: try int(16).map(StoredInstant.date), visitsTotal: Int(try row[offset + 17].decode(Int64.self)),
            lifetimeValueCents: Int(try row[offset + 18].decode(Int64.self)),
            lastActivityAt: StoredInstant.date(try row[offset + 19].decode(Int64.self)), pushPlatform: try text(20),
            walletPlatform: try text(21))
    }

    static func progress(_ row: PostgresRandomAccessRow) throws -> ProgressState {
        ProgressState(
            offerID: try row[0].decode(String.self), offerName: try row[1].decode(String?.self),
            stampsRequired: Int(try row[2].decode(Int64.self)), stamps: Int(try row[3].decode(Int64.self)),
            rewardsEarned: Int(try row[4].decode(Int64.self)), updatedAt: StoredInstant.date(try row[5].decode(Int64.self)))
    }

    public func zonesInUse() async throws -> [String] {
        var zones: [String] = []
        for try await zone in try await client.query("SELECT timezone FROM customer_zone ORDER BY timezone", logger: logger)
            .decode(String.self)
        {
            zones.append(zone)
        }
        return zones
    }

    public func candidates(_ query: CandidateQuery) async throws -> [Candidate] {
        let columns = Self.customerColumns
        let sql: PostgresQuery
        switch query {
        case .birthdays(let zone, let monthDays):
            sql =
                zone.isEmpty
                ? "SELECT \(unescaped: columns) FROM customer_state WHERE timezone IS NULL AND birth_month_day = ANY(\(monthDays))"
                : "SELECT \(unescaped: columns) FROM customer_state WHERE timezone = \(zone) AND birth_month_day = ANY(\(monthDays))"
        case .lastActivity(let zone, let from, let until):
            // Customers with visits by the activity table's index, the others by zone and sign-up, which is then
            // their last activity.
            let low = StoredInstant.millis(from)
            let high = StoredInstant.millis(until)
            // $1 is bound as text even when unused (no zone), which PostgreSQL accepts.
            let zoneTest = zone.isEmpty ? "IS NULL" : "= $1"
            var bindings = PostgresBindings()
            bindings.append(zone)
            bindings.append(low)
            bindings.append(high)
            sql = PostgresQuery(
                unsafeSQL: """
                    SELECT \(Self.activeColumns) FROM customer_activity a JOIN customer c ON c.id = a.customer_id
                    WHERE a.timezone \(zoneTest) AND a.last_activity_at >= $2 AND a.last_activity_at < $3
                    UNION ALL
                    SELECT \(columns) FROM customer_state
                    WHERE timezone \(zoneTest) AND signed_up_at >= $2 AND signed_up_at < $3 AND last_visit_at IS NULL
                    """, binds: bindings)
        case .progress(let after, let through, let offer):
            let base = """
                SELECT p.offer_id, o.name, o.stamps_required, p.stamps, p.rewards_earned, p.updated_at, \(CustomerState.columns(of: "c"))
                FROM progress p JOIN offer o ON o.id = p.offer_id JOIN customer_state c ON c.id = p.customer_id
                WHERE p.updated_at > 
                """
            let a = StoredInstant.millis(after)
            let b = StoredInstant.millis(through)
            sql =
                offer.map { "\(unescaped: base)\(a) AND p.updated_at <= \(b) AND p.offer_id = \($0)" }
                ?? "\(unescaped: base)\(a) AND p.updated_at <= \(b)"
            var result: [Candidate] = []
            for try await row in try await client.query(sql, logger: logger) {
                let access = row.makeRandomAccess()
                result.append(Candidate(customer: try Self.customer(access, offset: 6), progress: try Self.progress(access)))
            }
            return result
        case .signups(let after, let through):
            // Zone by zone, on the index that also finds customers last active at sign-up (one index less to keep;
            // OFFSET 0 keeps each zone's scan a range of that index, where a merge join read all of it).
            let low = StoredInstant.millis(after)
            let high = StoredInstant.millis(through)
            sql = """
                SELECT \(unescaped: Self.prefixed(columns, "s")) FROM customer_zone z, LATERAL (
                  SELECT \(unescaped: columns) FROM customer_state
                  WHERE timezone = z.timezone AND signed_up_at > \(low) AND signed_up_at <= \(high) OFFSET 0) AS s
                UNION ALL
                SELECT \(unescaped: columns) FROM customer_state
                WHERE timezone IS NULL AND signed_up_at > \(low) AND signed_up_at <= \(high)
                """
        }
        var result: [Candidate] = []
        for try await row in try await client.query(sql, logger: logger) {
            result.append(Candidate(customer: try Self.customer(row.makeRandomAccess())))
        }
        return result
    }

    public func ledgerHits(_ keys: [LedgerKey]) async throws -> Set<LedgerKey> {
        guard !keys.isEmpty else { return [] }
        var hits = Set<LedgerKey>()
        let rows = try await client.query(
            """
            SELECT l.workflow_id, l.customer_id, l.occurrence
            FROM unnest(\(keys.map(\.workflowID)), \(keys.map(\.customerID)), \(keys.map(\.occurrence))) AS k(w, c, o)
            JOIN ledger l ON l.workflow_id = k.w AND l.customer_id = k.c AND l.occurrence = k.o
            """, logger: logger)
        for try await (workflow, customer, occurrence) in rows.decode((String, String, String).self) {
            hits.insert(LedgerKey(workflowID: workflow, customerID: customer, occurrence: occurrence))
        }
        return hits
    }

    public func visitCounts(customerIDs: [String], since: [Date]) async throws -> [String: [Int]] {
        guard !customerIDs.isEmpty, let earliest = since.min() else { return [:] }
        let instants = since.map(StoredInstant.millis)
        var counts: [String: [Int]] = [:]
        let rows = try await client.query(
            """
            SELECT v.customer_id, array_agg(v.visited_at)
            FROM visit v WHERE v.customer_id = ANY(\(Array(Set(customerIDs)))) AND v.visited_at > \(StoredInstant.millis(earliest))
            GROUP BY v.customer_id
            """, logger: logger)
        for try await (id, visits) in rows.decode((String, [Int64]).self) {
            counts[id] = instants.map { instant in visits.filter { $0 > instant }.count }
        }
        return counts
    }

    public func customer(id: String) async throws -> CustomerState? {
        let rows = try await client.query(
            "SELECT \(unescaped: Self.customerColumns) FROM customer_state WHERE id = \(id)", logger: logger)
        for try await row in rows { return try Self.customer(row.makeRandomAccess()) }
        return nil
    }

    public func customerPage(after: String?, limit: Int) async throws -> [CustomerState] {
        let rows = try await client.query(
            """
            SELECT \(unescaped: Self.customerColumns) FROM customer_state WHERE id > \(after ?? "") ORDER BY id
            LIMIT \(limit)
            """, logger: logger)
        var customers: [CustomerState] = []
        for try await row in rows { customers.append(try Self.customer(row.makeRandomAccess())) }
        return customers
    }

    /// From `customer_activity`, which holds a row, with the zone, for each customer with visits.
    public func visitorZones(after: String?, limit: Int) async throws -> [(id: String, zone: String?)] {
        let rows = try await client.query(
            """
            SELECT customer_id, timezone FROM customer_activity WHERE customer_id > \(after ?? "") ORDER BY customer_id
            LIMIT \(limit)
            """, logger: logger)
        var zones: [(id: String, zone: String?)] = []
        for try await (id, zone) in rows.decode((String, String?).self) { zones.append((id, zone)) }
        return zones
    }

    public func storedNumbers(_ column: StoredNumber) async throws -> [Int] {
        // Customers without visits have no activity row: theirs is 0, as SQLite stores it.
        let rows = try await client.query(
            """
            SELECT coalesce(a.\(unescaped: column.rawValue), 0)
            FROM customer c LEFT JOIN customer_activity a ON a.customer_id = c.id
            """, logger: logger)
        var numbers: [Int] = []
        for try await number in rows.decode(Int.self) { numbers.append(number) }
        return numbers
    }

    public func visitCounts(since: [Date]) async throws -> [String: [Int]] {
        guard let earliest = since.min() else { return [:] }
        // Whole numbers written into the SQL: the instants of the windows.
        let columns = since.map { "count(*) FILTER (WHERE visited_at > \(StoredInstant.millis($0)))" }.joined(separator: ", ")
        let rows = try await client.query(
            """
            SELECT customer_id, ARRAY[\(unescaped: columns)] FROM visit
            WHERE visited_at > \(StoredInstant.millis(earliest)) GROUP BY customer_id
            """, logger: logger)
        var counts: [String: [Int]] = [:]
        for try await (id, row) in rows.decode((String, [Int64]).self) { counts[id] = row.map(Int.init) }
        return counts
    }

    /// One row of three arrays rather than a row per visit: a sweep reads every visit, and decoding a row costs
    /// the client far more than an element of an array (a fit of 1M customers read its 3M visits in 13 s as rows,
    /// in 6 s as arrays).
    public func visits(after: String?, through: String) async throws -> [VisitRecord] {
        let rows = try await client.query(
            """
            SELECT array_agg(customer_id), array_agg(visited_at), array_agg(coalesce(amount_cents, \(Self.noAmount)))
            FROM (SELECT customer_id, visited_at, amount_cents FROM visit WHERE customer_id > \(after ?? "")
              AND customer_id <= \(through) ORDER BY customer_id, visited_at) v
            """, logger: logger)
        var visits: [VisitRecord] = []
        for try await (ids, instants, amounts) in rows.decode(([String]?, [Int64]?, [Int64]?).self) {
            guard let ids, let instants, let amounts else { continue }
            visits.reserveCapacity(ids.count)
            for i in ids.indices {
                visits.append(
                    VisitRecord(
                        customerID: ids[i], visitedAt: StoredInstant.date(instants[i]),
                        amountCents: amounts[i] == Self.noAmount ? nil : Int(amounts[i])))
            }
        }
        // The three arrays come in the subquery's order (the primary key's), which the aggregates keep in practice
        // but SQL does not promise (a parallel plan could interleave them): sorting input that is in order already
        // costs one comparison per visit (the sort finds it is one run), and makes the order certain.
        // By the ids' bytes, as the page's `COLLATE "C"` order (String's `<` compares canonical equivalents).
        visits.sort { a, b in
            a.customerID.utf8.elementsEqual(b.customerID.utf8)
                ? a.visitedAt < b.visitedAt : a.customerID.utf8.lexicographicallyPrecedes(b.customerID.utf8)
        }
        return visits
    }

    /// What stands for a visit without an amount in an array of amounts.
    static let noAmount = Int64.min

    public func visits(customerIDs: [String]) async throws -> [VisitRecord] {
        guard !customerIDs.isEmpty else { return [] }
        return try await visits(
            """
            SELECT customer_id, visited_at, amount_cents FROM visit WHERE customer_id = ANY(\(customerIDs))
            ORDER BY customer_id, visited_at
            """)
    }

    func visits(_ query: PostgresQuery) async throws -> [VisitRecord] {
        var visits: [VisitRecord] = []
        for try await (id, at, amount) in try await client.query(query, logger: logger).decode((String, Int64, Int64?).self) {
            visits.append(VisitRecord(customerID: id, visitedAt: StoredInstant.date(at), amountCents: amount.map(Int.init)))
        }
        return visits
    }

    public func messageResponses(customerIDs: [String], since: Date) async throws -> [String: MessageResponse] {
        guard !customerIDs.isEmpty else { return [:] }
        let after = StoredInstant.millis(since)
        var responses: [String: MessageResponse] = [:]
        let rows = try await client.query(
            """
            SELECT o.customer_id, count(*)::BIGINT,
              count(*) FILTER (WHERE EXISTS (SELECT 1 FROM delivery_event e WHERE e.outbox_id = o.id
                AND e.kind IN ('opened', 'clicked')))::BIGINT,
              count(*) FILTER (WHERE EXISTS (SELECT 1 FROM delivery_event e WHERE e.outbox_id = o.id
                AND e.kind = 'clicked'))::BIGINT
            FROM outbox o
            WHERE o.customer_id = ANY(\(customerIDs)) AND o.status = 'delivered' AND o.delivered_at > \(after)
            GROUP BY o.customer_id
            """, logger: logger)
        for try await (id, delivered, opened, clicked) in rows.decode((String, Int64, Int64, Int64).self) {
            responses[id] = MessageResponse(delivered: Int(delivered), opened: Int(opened), clicked: Int(clicked))
        }
        let optedOut = try await client.query(
            """
            SELECT DISTINCT customer_id FROM consent_change
            WHERE customer_id = ANY(\(customerIDs)) AND NOT opt_in AND at > \(after)
            """, logger: logger)
        for try await id in optedOut.decode(String.self) { responses[id, default: MessageResponse()].optedOut = true }
        return responses
    }

    public func progress(customerIDs: [String]) async throws -> [String: [ProgressState]] {
        guard !customerIDs.isEmpty else { return [:] }
        var cards: [String: [ProgressState]] = [:]
        let rows = try await client.query(
            """
            SELECT p.offer_id, o.name, o.stamps_required, p.stamps, p.rewards_earned, p.updated_at, p.customer_id
            FROM progress p JOIN offer o ON o.id = p.offer_id
            WHERE p.customer_id = ANY(\(customerIDs)) ORDER BY p.customer_id, p.offer_id
            """, logger: logger)
        for try await row in rows {
            let random = row.makeRandomAccess()
            cards[try random[6].decode(String.self), default: []].append(try Self.progress(random))
        }
        return cards
    }

    public func latestModelFit() async throws -> ModelFitRecord? {
        let rows = try await client.query(
            """
            SELECT fitted_at, customers, repeat_customers, r, alpha, a, b, bgnbd_log_likelihood, p, q, v,
              gamma_gamma_log_likelihood, details
            FROM model_fit ORDER BY id DESC LIMIT 1
            """, logger: logger)
        for try await row in rows {
            let (fittedAt, customers, repeatCustomers, r, alpha, a, b, bgnbd, p, q, v, gammaGamma, details) = try row.decode(
                (Int64, Int, Int, Double, Double, Double, Double, Double, Double?, Double?, Double?, Double?, String).self)
            return ModelFitRecord(
                fittedAt: StoredInstant.date(fittedAt), customers: customers, repeatCustomers: repeatCustomers, r: r,
                alpha: alpha, a: a, b: b, bgnbdLogLikelihood: bgnbd, p: p, q: q, v: v, gammaGammaLogLikelihood: gammaGamma,
                details: details)
        }
        return nil
    }

    public func saveModelFit(_ fit: ModelFitRecord) async throws {
        try await client.query(
            """
            INSERT INTO model_fit (fitted_at, customers, repeat_customers, r, alpha, a, b, bgnbd_log_likelihood,
              p, q, v, gamma_gamma_log_likelihood, details)
            VALUES (\(StoredInstant.millis(fit.fittedAt)), \(fit.customers), \(fit.repeatCustomers), \(fit.r), \(fit.alpha),
              \(fit.a), \(fit.b), \(fit.bgnbdLogLikelihood), \(fit.p), \(fit.q), \(fit.v), \(fit.gammaGammaLogLikelihood),
              \(fit.details))
            """, logger: logger)
    }

    public func segmentEntries(segment: String) async throws -> [String: String] {
        let rows = try await client.query(
            "SELECT customer_id, entered_on FROM segment_entry WHERE segment = \(segment)", logger: logger)
        var entries: [String: String] = [:]
        for try await (id, date) in rows.decode((String, String).self) { entries[id] = date }
        return entries
    }

    public func recordSegmentEntries(segment: String, entries: [String: String]) async throws {
        let ids = Array(entries.keys)
        let dates = ids.map { entries[$0]! }
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query("DELETE FROM segment_entry WHERE segment = \(segment)", logger: logger)
            try await connection.query(
                """
                INSERT INTO segment_entry (segment, customer_id, entered_on)
                SELECT \(segment), c, d FROM unnest(\(ids)::text[], \(dates)::text[]) AS e(c, d)
                """, logger: logger)
        }
    }

    public func progress(customerID: String, offer: String?) async throws -> [ProgressState] {
        let base = """
            SELECT p.offer_id, o.name, o.stamps_required, p.stamps, p.rewards_earned, p.updated_at
            FROM progress p JOIN offer o ON o.id = p.offer_id WHERE p.customer_id = 
            """
        let sql: PostgresQuery =
            offer.map { "\(unescaped: base)\(customerID) AND p.offer_id = \($0) ORDER BY p.offer_id" }
            ?? "\(unescaped: base)\(customerID) ORDER BY p.offer_id"
        var cards: [ProgressState] = []
        for try await row in try await client.query(sql, logger: logger) { cards.append(try Self.progress(row.makeRandomAccess())) }
        return cards
    }

    public func capCounted(customerIDs: [String], after: Date) async throws -> [String: [CountedMessage]] {
        guard !customerIDs.isEmpty else { return [:] }
        let rows = try await client.query(
            """
            SELECT customer_id, channel, at FROM (
              SELECT customer_id, channel, CASE status WHEN 'delivered' THEN delivered_at ELSE next_attempt_at END AS at
              FROM outbox
              WHERE customer_id = ANY(\(customerIDs)) AND status IN ('delivered', 'pending')
                AND coalesce(category, 'marketing') = 'marketing') AS m
            WHERE at > \(StoredInstant.millis(after)) ORDER BY customer_id, at
            """, logger: logger)
        var counted: [String: [CountedMessage]] = [:]
        for try await (customer, channel, at) in rows.decode((String, String?, Int64).self) {
            counted[customer, default: []].append(CountedMessage(channel: channel, at: StoredInstant.date(at)))
        }
        return counted
    }

    public func notifiedTimes(customerIDs: [String], channel: NudgeCore.Channel, platform: String?, after: Date) async throws
        -> [String: [Date]]
    {
        guard !customerIDs.isEmpty else { return [:] }
        let rows = try await client.query(
            """
            SELECT customer_id, at FROM (
              SELECT customer_id, CASE status WHEN 'delivered' THEN delivered_at ELSE next_attempt_at END AS at
              FROM outbox
              WHERE customer_id = ANY(\(customerIDs)) AND status IN ('delivered', 'pending')
                AND channel = \(channel.rawValue) AND (\(platform)::text IS NULL OR platform = \(platform))) AS m
            WHERE at > \(StoredInstant.millis(after)) ORDER BY customer_id, at
            """, logger: logger)
        var times: [String: [Date]] = [:]
        for try await (customer, at) in rows.decode((String, Int64).self) {
            times[customer, default: []].append(StoredInstant.date(at))
        }
        return times
    }

    public func walletPointsToSync(platform: String?, offer: String?) async throws -> [WalletPoints] {
        var bindings = PostgresBindings()
        bindings.append(platform)
        bindings.append(platform)
        if let offer { bindings.append(offer) }
        let rows = try await client.query(
            PostgresQuery(unsafeSQL: WalletSyncSQL.due(offer: offer != nil, placeholder: { "$\($0)" }), binds: bindings),
            logger: logger)
        var due: [WalletPoints] = []
        for try await (customer, pass, label, stamps) in rows.decode((String, String, String, Int64).self) {
            due.append(WalletPoints(customerID: customer, passID: pass, label: label, stamps: Int(stamps)))
        }
        return due
    }

    public func recordWalletPoints(_ points: [WalletPoints], at: Date) async throws {
        guard !points.isEmpty else { return }
        try await client.withTransaction(logger: logger) { connection in
            for point in points {
                var bindings = PostgresBindings()
                bindings.append(point.passID)
                bindings.append(point.customerID)
                bindings.append(point.label)
                bindings.append(Int64(point.stamps))
                bindings.append(StoredInstant.millis(at))
                try await connection.query(
                    PostgresQuery(unsafeSQL: WalletSyncSQL.record(placeholder: { "$\($0)" }), binds: bindings), logger: logger)
            }
        }
    }

    public func journeySteps(workflowID: String, step: Int, dueAfter: Date, dueThrough: Date) async throws -> [JourneyStep] {
        let rows = try await client.query(
            """
            SELECT l.occurrence, l.due_at, l.variant, \(unescaped: CustomerState.columns(of: "c"))
            FROM ledger l JOIN customer_state c ON c.id = l.customer_id
            WHERE l.workflow_id = \(workflowID) AND l.step = \(Int64(step)) AND l.due_at > \(StoredInstant.millis(dueAfter))
              AND l.due_at <= \(StoredInstant.millis(dueThrough))
            ORDER BY l.customer_id, l.occurrence
            """, logger: logger)
        var steps: [JourneyStep] = []
        for try await row in rows {
            let random = row.makeRandomAccess()
            steps.append(
                JourneyStep(
                    customer: try Self.customer(random, offset: 3), occurrence: try random[0].decode(String.self),
                    due: StoredInstant.date(try random[1].decode(Int64.self)), variant: try random[2].decode(String?.self)))
        }
        return steps
    }

    public func stepsSent(since: Date) async throws -> [StepSent] {
        let rows = try await client.query(
            """
            SELECT workflow_id, step, template, max(created_at) FROM outbox
            WHERE created_at > \(StoredInstant.millis(since)) AND template <> ''
            GROUP BY workflow_id, step, template ORDER BY workflow_id, step, template
            """, logger: logger)
        var sent: [StepSent] = []
        for try await (workflow, step, template, at) in rows.decode((String, Int64, String, Int64).self) {
            sent.append(StepSent(workflowID: workflow, step: Int(step), template: template, lastAt: StoredInstant.date(at)))
        }
        return sent
    }

    public func publishedOffers(after: Date, through: Date) async throws -> [OfferState] {
        let rows = try await client.query(
            """
            SELECT id, name, stamps_required, published_at, category FROM offer
            WHERE published_at > \(StoredInstant.millis(after)) AND published_at <= \(StoredInstant.millis(through))
            ORDER BY published_at, id
            """, logger: logger)
        var offers: [OfferState] = []
        for try await row in rows {
            let random = row.makeRandomAccess()
            offers.append(
                OfferState(
                    id: try random[0].decode(String.self), name: try random[1].decode(String?.self),
                    stampsRequired: Int(try random[2].decode(Int64.self)),
                    publishedAt: StoredInstant.date(try random[3].decode(Int64.self)),
                    category: try random[4].decode(String?.self)))
        }
        return offers
    }

    /// A session advisory lock held on one pooled connection while `body` plans and commits on others.
    public func withPlanningLock<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        try await client.withConnection { connection in
            try await connection.query("SELECT pg_advisory_lock(\(Self.planningLock))", logger: logger)
            do {
                let result = try await body()
                try await connection.query("SELECT pg_advisory_unlock(\(Self.planningLock))", logger: logger)
                return result
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(Self.planningLock))", logger: logger)
                throw error
            }
        }
    }

    public func commit(_ messages: [OutboxMessage]) async throws -> Set<String> {
        guard !messages.isEmpty else { return [] }
        var keys: [LedgerKey] = []
        var committedAt: [Int64] = []
        var variants: [String] = []  // "" for none: a variant has a name
        var dueAt: [Int64] = []
        var steps: [Int64] = []
        var seen = Set<LedgerKey>()
        for message in messages where seen.insert(message.ledgerKey).inserted {
            keys.append(message.ledgerKey)
            committedAt.append(message.createdAt)
            variants.append(message.variant ?? "")
            dueAt.append(message.dueAt)
            steps.append(Int64(message.step))
        }
        return try await client.withTransaction(logger: logger) { connection in
            var won = Set<LedgerKey>()
            let rows = try await connection.query(
                """
                INSERT INTO ledger (workflow_id, customer_id, occurrence, committed_at, variant, due_at, step)
                SELECT w, c, o, t, NULLIF(v, ''), d, s
                FROM unnest(
                  \(keys.map(\.workflowID)), \(keys.map(\.customerID)), \(keys.map(\.occurrence)), \(committedAt), \(variants),
                  \(dueAt), \(steps)) AS u(w, c, o, t, v, d, s)
                ON CONFLICT DO NOTHING
                RETURNING workflow_id, customer_id, occurrence
                """, logger: logger)
            for try await (workflow, customer, occurrence) in rows.decode((String, String, String).self) {
                won.insert(LedgerKey(workflowID: workflow, customerID: customer, occurrence: occurrence))
            }
            guard !won.isEmpty else { return [] }
            // The rows go in 1 MiB pieces, made as they are sent: a broadcast's hundred thousand messages are not
            // copied into one buffer first.
            var committed = Set<String>()
            try await connection.copyFrom(
                table: "outbox",
                columns: [
                    "id", "workflow_id", "customer_id", "occurrence", "action_index", "channel", "recipient", "template",
                    "heading_key", "heading", "body", "text_body", "due_at", "created_at", "status", "reason",
                    "next_attempt_at", "variant", "category", "step", "platform",
                ], logger: logger
            ) { writer in
                var text = CopyText()
                for message in messages where won.contains(message.ledgerKey) {
                    text.row([
                        message.id, message.workflowId, message.customerId, message.occurrence, String(message.actionIndex),
                        message.channel, message.recipient, message.template, message.headingKey, message.heading,
                        message.body, message.textBody, String(message.dueAt), String(message.createdAt),
                        message.status.rawValue, message.reason, String(message.nextAttemptAt), message.variant,
                        message.category, String(message.step), message.platform,
                    ])
                    committed.insert(message.id)
                    if text.isFull {
                        try await writer.write(text.buffer)
                        text = CopyText()
                    }
                }
                if text.rows > 0 { try await writer.write(text.buffer) }
            }
            return committed
        }
    }
}
