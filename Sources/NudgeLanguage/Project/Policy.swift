public import NudgeCore

/// `policy:` in nudge.yaml: frequency caps and quiet hours for every marketing message of every workflow, applied
/// after consent.
public struct Policy: Sendable {
    /// One frequency cap: at most `max` messages (on `channel`, or on all channels together) in any trailing `per`.
    public struct Cap: Sendable, Hashable, CustomStringConvertible {
        public var channel: Channel?
        public var max: Int
        public var per: DurationSpec

        public init(channel: Channel? = nil, max: Int, per: DurationSpec) {
            self.channel = channel
            self.max = max
            self.per = per
        }

        /// As a suppression reason names it: `2 per 7d`, `1 sms per 7d`.
        public var description: String { "\(max) " + (channel.map { "\($0.rawValue) " } ?? "") + "per \(per.text)" }
    }

    /// `quiet_hours`: no marketing message goes out from `from` to `to`, local time in the customer's zone.
    public struct QuietHours: Sendable, Hashable {
        public var from: TimeOfDay
        public var to: TimeOfDay

        public init(from: TimeOfDay, to: TimeOfDay) {
            self.from = from
            self.to = to
        }

        /// Whether the local time `seconds` after midnight is quiet (the window may run over midnight).
        public func contains(secondsIntoDay seconds: Int) -> Bool {
            let (start, end) = (from.secondsIntoDay, to.secondsIntoDay)
            return start < end ? start <= seconds && seconds < end : seconds >= start || seconds < end
        }
    }

    public var caps: [Cap] = []
    public var quietHours: QuietHours?

    public init(caps: [Cap] = [], quietHours: QuietHours? = nil) {
        self.caps = caps
        self.quietHours = quietHours
    }

    /// Whether the policy holds anything back.
    public var isEmpty: Bool { caps.isEmpty && quietHours == nil }

    static let keys = ["caps", "quiet_hours"]
    static let capKeys = ["channel", "max", "per"]
    static let quietHoursKeys = ["from", "to"]

    static func parse(_ node: YAMLNode, diagnostics: inout Diagnostics) -> Policy {
        var policy = Policy()
        guard let reader = MappingReader(node, context: "policy", allowed: keys, diagnostics: &diagnostics)
        else { return policy }
        if let capsNode = reader["caps"], !capsNode.isNull {
            guard let items = capsNode.sequence else {
                diagnostics.error("'caps' must be a list such as '- { max: 2, per: 7d }'", at: capsNode.location)
                return policy
            }
            for item in items {
                guard item.mapping != nil,
                    let cap = MappingReader(item, context: "a cap", allowed: capKeys, diagnostics: &diagnostics)
                else {
                    if item.mapping == nil {
                        diagnostics.error(
                            "each cap must be a mapping such as { max: 2, per: 7d } or { channel: sms, max: 1, per: 7d }",
                            at: item.location)
                    }
                    continue
                }
                var channel: Channel?
                var ok = true
                if let (name, value) = cap.string("channel", diagnostics: &diagnostics) {
                    channel = Channel(rawValue: name)
                    if channel == nil {
                        diagnostics.error(
                            "unknown channel '\(name)'", at: value.location,
                            suggestion: Suggestion.didYouMean(name, in: Channel.allCases.map(\.rawValue)))
                        ok = false
                    }
                }
                let max = cap.required("max", context: "a cap", diagnostics: &diagnostics).flatMap {
                    MappingReader.integer($0, name: "max", in: 1...1000, diagnostics: &diagnostics)
                }
                let per = cap.required("per", context: "a cap", diagnostics: &diagnostics).flatMap {
                    MappingReader.duration($0, name: "per", kind: "a duration", examples: "1d or 7d", diagnostics: &diagnostics)
                }
                if ok, let max, let per { policy.caps.append(Cap(channel: channel, max: max, per: per)) }
            }
        }
        if let quietNode = reader["quiet_hours"], !quietNode.isNull,
            let quiet = MappingReader(quietNode, context: "quiet_hours", allowed: quietHoursKeys, diagnostics: &diagnostics)
        {
            var times: [TimeOfDay] = []
            for key in ["from", "to"] {
                guard let value = quiet.required(key, context: "quiet_hours", diagnostics: &diagnostics) else { continue }
                if let text = value.scalar, let time = TimeOfDay(parsing: text) {
                    times.append(time)
                } else {
                    diagnostics.error("'\(key)' must be a time of day as \"HH:MM\", not '\(value)'", at: value.location)
                }
            }
            if times.count == 2 {
                if times[0] == times[1] {
                    diagnostics.error(
                        "quiet hours from \(times[0]) to \(times[1]) are empty", at: quietNode.location,
                        suggestion: "e.g. quiet_hours: { from: \"21:00\", to: \"08:00\" }")
                } else {
                    policy.quietHours = QuietHours(from: times[0], to: times[1])
                }
            }
        }
        return policy
    }
}
