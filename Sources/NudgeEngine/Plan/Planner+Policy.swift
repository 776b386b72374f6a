import Foundation
import NudgeCore
import NudgeLanguage
import NudgeStore

extension Planner {
    /// The policy stage (nudge.yaml `policy:`), after consent and channel choice, for the marketing messages that go
    /// out: a message that would go out in the customer's quiet hours gets a `send_after` at the window's end (in
    /// the customer's zone, by the wall clock on DST days too); then each customer's messages take their places
    /// under the frequency caps, by priority (lower first; ties by workflow id, due time, occurrence and action). A
    /// cap counts the customer's marketing messages delivered or scheduled in its trailing window, with those
    /// placed before in this plan. Over a cap, a message is dropped (suppressed, the cap named in its reason) or,
    /// with `on_cap: defer`, moved to the first instant every cap allows, unless that is more than `max_defer`
    /// away. Transactional messages are exempt and not counted.
    func applyPolicy(_ parts: inout [[PlannedMessage]], now: Date) async throws {
        let policy = project.config.policy
        guard !policy.isEmpty else { return }
        // Workflows by id, as positions in the project: a workflow copied out of a dictionary per message retains
        // every string in it (as would a copy of a message: messages are read and changed in place).
        let workflows = project.workflows
        let workflowIndex = Dictionary(workflows.indices.map { (workflows[$0].id, $0) }) { first, _ in first }
        let marketing = Set(workflows.filter { $0.category == .marketing }.map(\.id))
        // The positions of the marketing messages that go out, customer by customer.
        var held: [String: [(part: Int, index: Int)]] = [:]
        for part in parts.indices {
            for index in parts[part].indices
            where parts[part][index].status == .send && marketing.contains(parts[part][index].workflowID) {
                held[parts[part][index].customerID, default: []].append((part, index))
            }
        }
        guard !held.isEmpty else { return }
        let longest = policy.caps.map(\.per.seconds).max() ?? 0
        let counted =
            longest > 0
            ? try await store.capCounted(customerIDs: held.keys.sorted(), after: now.addingTimeInterval(-Double(longest))) : [:]
        for (customer, positions) in held {
            let order =
                positions.count == 1
                ? positions
                : positions.sorted { a, b in
                    let (px, py) = (
                        workflowIndex[parts[a.part][a.index].workflowID].map { workflows[$0].priority } ?? 100,
                        workflowIndex[parts[b.part][b.index].workflowID].map { workflows[$0].priority } ?? 100
                    )
                    if px != py { return px < py }
                    return Self.precedes(parts[a.part][a.index], parts[b.part][b.index])
                }
            var times = counted[customer] ?? []
            for (part, index) in order {
                guard let position = workflowIndex[parts[part][index].workflowID] else { continue }
                let zone = TriggerScan.zone(named: parts[part][index].timeZone, config: project.config)
                let channel = parts[part][index].channel
                switch Self.place(
                    channel: channel, at: now, zone: zone, policy: policy, counted: times, workflow: workflows[position])
                {
                case .at(let instant):
                    if instant > now { parts[part][index].sendAfter = instant }
                    times.append(CountedMessage(channel: channel?.rawValue, at: instant))
                case .capped(let cap):
                    parts[part][index].suppress(because: "frequency cap: \(cap)")
                case .tooLate(let cap, let instant):
                    parts[part][index].suppress(
                        because:
                            "frequency cap: \(cap) (the caps allow it at \(ISO8601.format(instant)), beyond max_defer \(workflows[position].maxDefer.text))"
                    )
                }
            }
        }
    }

    /// Providers that reach only the devices registered for a recipient (`apple_wallet`: the devices that registered
    /// the customer's pass with the PassKit web service): a message to a recipient without one is suppressed, with
    /// that reason.
    func applyRegisteredDevices(_ parts: inout [[PlannedMessage]]) async throws {
        for (channel, channelConfig) in project.config.channels.sorted(by: { $0.key < $1.key }) {
            for (platform, route) in channelConfig.routes where route.needsRegisteredDevice {
                let passType = route.settings["pass_type_id"] ?? ""
                var held: [(part: Int, index: Int)] = []
                for part in parts.indices {
                    for index in parts[part].indices {
                        let message = parts[part][index]
                        guard message.status == .send, message.channel == channel, message.platform == platform else { continue }
                        held.append((part, index))
                    }
                }
                guard !held.isEmpty else { continue }
                let devices = try await store.passDevices(
                    passTypeID: passType, serials: held.compactMap { parts[$0.part][$0.index].recipient })
                for position in held {
                    var message = parts[position.part][position.index]
                    guard devices[message.recipient ?? ""]?.isEmpty ?? true else { continue }
                    message.suppress(because: "no device has registered the customer's Apple Wallet pass (\(passType))")
                    parts[position.part][position.index] = message
                }
            }
        }
    }

    /// Providers' limits per recipient (`RecipientWindow`: Google Wallet notifies a pass at most 3 times in 24 h),
    /// after the policy, for every message that goes out on such a provider whatever its category: counting the
    /// customer's messages on that channel (and platform) delivered or waiting (also those waiting for later), and
    /// those placed before in this plan, a message goes out at the first instant from its own at which no window
    /// it falls in holds the limit already (`send_after`, the limit named in its `reason`). A marketing message moved
    /// so stays out of the quiet hours; `max_defer` does not apply (the message is never dropped: the provider
    /// would refuse it, or drop it quietly).
    func applyRecipientWindows(_ parts: inout [[PlannedMessage]], now: Date) async throws {
        let workflows = Dictionary(project.workflows.map { ($0.id, $0) }) { first, _ in first }
        let quiet = project.config.policy.quietHours
        for (channel, channelConfig) in project.config.channels.sorted(by: { $0.key < $1.key }) {
            for (platform, route) in channelConfig.routes {
                guard let window = route.recipientWindow else { continue }
                var held: [String: [(part: Int, index: Int)]] = [:]
                for part in parts.indices {
                    for index in parts[part].indices {
                        let message = parts[part][index]
                        guard message.status == .send, message.channel == channel, message.platform == platform else { continue }
                        held[message.customerID, default: []].append((part, index))
                    }
                }
                guard !held.isEmpty else { continue }
                let counted = try await store.notifiedTimes(
                    customerIDs: held.keys.sorted(), channel: channel, platform: platform,
                    after: now.addingTimeInterval(-Double(window.seconds)))
                for (customer, positions) in held {
                    var times = counted[customer] ?? []
                    let order = positions.sorted { a, b in
                        let (x, y) = (parts[a.part][a.index], parts[b.part][b.index])
                        let (tx, ty) = (x.sendAfter ?? now, y.sendAfter ?? now)
                        return tx != ty ? tx < ty : Self.precedes(x, y)
                    }
                    for position in order {
                        var message = parts[position.part][position.index]
                        let zone = TriggerScan.zone(named: message.timeZone, config: project.config)
                        let outOfQuietHours: (Date) -> Date =
                            if let quiet, workflows[message.workflowID]?.category == .marketing {
                                { Self.quietEnd(of: $0, quiet, in: zone) }
                            } else {
                                { $0 }
                            }
                        let instant = Self.place(
                            at: message.sendAfter ?? now, counted: times, window: window, adjust: outOfQuietHours)
                        if instant > (message.sendAfter ?? now) {
                            message.sendAfter = instant
                            message.reason = window.reason
                        }
                        times.append(instant)
                        times.sort()
                        parts[position.part][position.index] = message
                    }
                }
            }
        }
    }

    /// The first instant from `start` (each candidate passed through `adjust`, which only moves it later) at which
    /// a message joins no window of `window.seconds` already holding `window.max` of `counted`: neither the one ending
    /// at it nor one ending at a counted message after it.
    static func place(
        at start: Date, counted: [Date], window: RecipientWindow, adjust: (Date) -> Date = { $0 }
    ) -> Date {
        let length = Double(window.seconds)
        let sorted = counted.sorted()
        func held(endingAt end: Date) -> [Date] { sorted.filter { $0 > end.addingTimeInterval(-length) && $0 <= end } }
        var instant = adjust(start)
        // Each pass moves the instant past a counted message (or out of quiet hours): it only grows, and stops.
        for _ in 0...(2 * sorted.count + 2) {
            let before = held(endingAt: instant)
            if before.count >= window.max {
                instant = adjust(before[before.count - window.max].addingTimeInterval(length))
                continue
            }
            // A later message whose window would then hold one too many: go once that window has passed it.
            if let later = sorted.first(where: {
                $0 > instant && $0 < instant.addingTimeInterval(length) && held(endingAt: $0).count >= window.max
            }) {
                instant = adjust(later)
                continue
            }
            return instant
        }
        return instant
    }

    /// Where the policy puts one message.
    enum Placement: Equatable {
        /// Sent at this instant (`now`, or a `send_after`).
        case at(Date)
        /// Dropped by this cap.
        case capped(Policy.Cap)
        /// Deferred by this cap past `max_defer`, to this instant.
        case tooLate(Policy.Cap, Date)
    }

    /// Places a message on `channel` that would go out at `now`, given the customer's `counted` messages.
    static func place(
        channel: Channel?, at now: Date, zone: TimeZone, policy: Policy, counted: [CountedMessage], workflow: Workflow
    ) -> Placement {
        var instant = policy.quietHours.map { quietEnd(of: now, $0, in: zone) } ?? now
        // Each pass moves the instant past a cap's oldest counted messages (or out of quiet hours); an instant only
        // grows, and each pass either stops or passes at least one counted message.
        for _ in 0...(counted.count + 2) {
            var next = instant
            var limiting: Policy.Cap?
            for cap in policy.caps where cap.channel == nil || cap.channel == channel {
                let start = instant.addingTimeInterval(-Double(cap.per.seconds))
                let inWindow = counted.filter { item in
                    (cap.channel == nil || item.channel == cap.channel?.rawValue) && item.at > start && item.at <= instant
                }.map(\.at).sorted()
                guard inWindow.count >= cap.max else { continue }
                if workflow.onCap == .drop { return .capped(cap) }
                // The cap allows one more once the oldest (count − max + 1) have left the window.
                let free = inWindow[inWindow.count - cap.max].addingTimeInterval(Double(cap.per.seconds))
                if free > next {
                    next = free
                    limiting = cap
                }
            }
            guard let limiting else { return .at(instant) }
            instant = policy.quietHours.map { quietEnd(of: next, $0, in: zone) } ?? next
            if instant.timeIntervalSince(now) > Double(workflow.maxDefer.seconds) { return .tooLate(limiting, instant) }
        }
        return .at(instant)
    }

    /// `instant` when it is outside the quiet hours in `zone`, else the end of the quiet window it falls in: the
    /// first local `to` time after it (on a DST day, the wall clock's `to`; a `to` the change skips is the same
    /// distance after the change).
    static func quietEnd(of instant: Date, _ quiet: Policy.QuietHours, in zone: TimeZone) -> Date {
        let local = Int(instant.timeIntervalSince1970.rounded(.down)) + zone.secondsFromGMT(for: instant)
        let seconds = ((local % 86_400) + 86_400) % 86_400
        guard quiet.contains(secondsIntoDay: seconds) else { return instant }
        var date = zone.localDate(of: instant)
        for _ in 0..<3 {
            let end = zone.instant(at: date, secondsIntoDay: quiet.to.secondsIntoDay)
            if end > instant { return end }
            date = date.adding(days: 1)
        }
        return instant
    }
}
