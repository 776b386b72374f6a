import Foundation
import NudgeCore

/// JSON Schemas (draft 2020-12) for workflow files and nudge.yaml (`nudge schema`), for editors: completion, and
/// a red line under an unknown key or a value of the wrong shape.
///
/// The keys come from the lists the parsers read with (`WorkflowParser.topKeys`, `parameters(of:)`,
/// `ProjectConfig.topKeys`, the providers' settings…), so that the schema and `nudge check` accept the same keys.
/// The schema cannot say everything `check` does (expressions, templates, secrets): `check` stays the judge.
public enum NudgeSchema {
    /// The two documents `nudge schema` prints.
    public enum Kind: String, Sendable, CaseIterable {
        case workflow, config

        /// The file name `nudge init` writes the schema to, under `.nudge/`.
        public var fileName: String { "\(rawValue).schema.json" }
    }

    /// The schema as pretty-printed JSON with sorted keys (stable from version to version).
    public static func json(_ kind: Kind, providers: ProviderCatalog) -> String {
        let schema = kind == .workflow ? workflow() : config(providers: providers)
        let data = try! JSONSerialization.data(withJSONObject: schema, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    static let draft = "https://json-schema.org/draft/2020-12/schema"

    // MARK: Workflows

    static func workflow() -> [String: Any] {
        var triggers: [String: Any] = [:]
        for kind in TriggerKind.allCases {
            let parameters = WorkflowParser.parameters(of: kind)
            var properties: [String: Any] = [:]
            for name in parameters { properties[name] = triggerParameter(kind, name) }
            var body: [String: Any] = [
                "type": ["object", "null"], "additionalProperties": false, "properties": properties,
                "description": triggerDescription(kind),
            ]
            let required = parameters.filter { requiredParameter(kind, $0) }
            if !required.isEmpty { body["required"] = required }
            triggers[kind.rawValue] = body
        }
        var properties: [String: Any] = [:]
        for key in WorkflowParser.topKeys {
            switch key {
            case "id":
                properties[key] = [
                    "type": "string", "pattern": "^[A-Za-z0-9_-]+$", "description": "Unique across the project, e.g. birthday-treat.",
                ]
            case "name", "description": properties[key] = ["type": "string"]
            case "enabled": properties[key] = ["type": "boolean", "description": "false pauses the workflow (default true)."]
            case "trigger":
                properties[key] = [
                    "type": "object", "minProperties": 1, "maxProperties": 1, "additionalProperties": false,
                    "properties": triggers, "description": "Exactly one trigger.",
                ]
            case "when", "exit_when": properties[key] = ["$ref": "#/$defs/conditions"]
            case "actions":
                properties[key] = ["type": "array", "minItems": 1, "items": ["$ref": "#/$defs/action"]]
            case "catch_up", "max_defer": properties[key] = ["$ref": "#/$defs/duration"]
            case "send_at": properties[key] = ["$ref": "#/$defs/time_of_day"]
            case "category": properties[key] = ["enum": MessageCategory.allCases.map(\.rawValue)]
            case "priority": properties[key] = ["type": "integer", "minimum": 0, "maximum": 1_000_000]
            case "on_cap": properties[key] = ["enum": CapAction.allCases.map(\.rawValue)]
            default: properties[key] = [:]
            }
        }
        var action: [String: Any] = [:]
        for kind in WorkflowParser.actionKinds {
            switch kind {
            case "send": action[kind] = ["$ref": "#/$defs/send"]
            case "wait": action[kind] = ["$ref": "#/$defs/duration"]
            case "when": action[kind] = ["$ref": "#/$defs/conditions"]
            default:
                action[kind] = [
                    "type": "object", "minProperties": 2, "propertyNames": ["pattern": "^[A-Za-z0-9_-]+$"],
                    "additionalProperties": ["$ref": "#/$defs/variant"],
                    "description": "Variants by name, each { weight: N, then: [actions] }; a variant without then is a holdout.",
                ]
            }
        }
        var variant: [String: Any] = [:]
        for key in WorkflowParser.variantKeys {
            variant[key] =
                key == "weight"
                ? ["type": "integer", "minimum": 1, "maximum": 1_000_000] as [String: Any]
                : ["type": ["array", "null"], "items": ["$ref": "#/$defs/action"]]
        }
        var send: [String: Any] = [:]
        for key in WorkflowParser.sendKeys {
            send[key] =
                key == "channel"
                ? [
                    "oneOf": [
                        ["$ref": "#/$defs/channel"],
                        ["type": "array", "minItems": 1, "uniqueItems": true, "items": ["$ref": "#/$defs/channel"]],
                    ], "description": "A channel, or a list: the first the customer can receive.",
                ] as [String: Any]
                : ["type": "string", "pattern": "^[^/]+$", "description": "Templates/<template>.<channel>.mustache"]
        }
        return [
            "$schema": draft, "$id": "urn:nudge:schema:workflow", "title": "Nudge workflow (Workflows/*.yaml)",
            "type": "object", "additionalProperties": false, "required": ["id", "trigger", "actions"],
            "properties": properties,
            "$defs": [
                "duration": durationSchema,
                "time_of_day": ["type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$", "description": "HH:MM"],
                "conditions": [
                    "oneOf": [
                        expressionSchema, ["type": "array", "items": expressionSchema],
                    ]
                ],
                "channel": ["enum": Channel.allCases.map(\.rawValue)],
                "action": [
                    "type": "object", "minProperties": 1, "maxProperties": 1, "additionalProperties": false,
                    "properties": action,
                ],
                "send": [
                    "type": "object", "additionalProperties": false, "required": WorkflowParser.sendKeys, "properties": send,
                ],
                "variant": [
                    "type": "object", "additionalProperties": false, "required": ["weight"], "properties": variant,
                ],
            ],
        ]
    }

    static var durationSchema: [String: Any] { [
        "type": "string", "pattern": "^[0-9]+(m|h|d|w)$", "description": "An integer and a unit: 30m, 12h, 1d, 2w.",
    ] }
    /// An expression: text (`customer.visits_total >= 1`), or a bare `true`/`false`.
    static var expressionSchema: [String: Any] { ["type": ["string", "boolean"]] }

    static func triggerParameter(_ kind: TriggerKind, _ name: String) -> [String: Any] {
        func integers(_ range: ClosedRange<Int>) -> [String: Any] {
            let one: [String: Any] = ["type": "integer", "minimum": range.lowerBound, "maximum": range.upperBound]
            return ["oneOf": [one, ["type": "array", "minItems": 1, "uniqueItems": true, "items": one]]]
        }
        switch (kind, name) {
        case (.birthday, _): return ["type": "integer", "minimum": 0, "maximum": 365]
        case (.signup, _): return ["type": "integer", "minimum": 0, "maximum": 3650]
        case (.inactivity, _): return integers(0...3650)
        case (.milestone, "percent"): return integers(0...100)
        case (.milestone, _), (.reward, _):
            return ["type": "string", "minLength": 1, "description": "An offer id, or \"*\" for any offer."]
        case (.segment, _): return ["type": "string", "minLength": 1, "description": "A segment name."]
        case (.visit, _): return ["type": "string", "pattern": "^[0-9]+(m|h|d|w)$"]
        case (.once, _): return ["type": "string", "description": "ISO 8601; without an offset, the business's zone."]
        case (.schedule, _): return ["type": "string", "description": "A cron expression: minute hour day-of-month month day-of-week."]
        case (.new_offer, _): return [:]
        }
    }

    static func requiredParameter(_ kind: TriggerKind, _ name: String) -> Bool {
        switch kind {
        case .inactivity, .milestone, .segment, .reward, .once, .schedule: return true
        case .birthday, .signup, .visit, .new_offer: return false
        }
    }

    static func triggerDescription(_ kind: TriggerKind) -> String {
        switch kind {
        case .birthday: return "On the local birthday (minus days_before) at send_at; key birthday:YYYY."
        case .inactivity: return "days after the last activity, at send_at; key inactivity:LOCALDATE:N."
        case .milestone: return "When a stamp card passes a percent; key milestone:OFFER:REWARDS:P."
        case .signup: return "days_after × 24 h after signup; key signup."
        case .segment: return "When a customer enters a segment; key segment:NAME:DATE."
        case .reward: return "When a stamp card earns a reward; key reward:OFFER:N."
        case .visit: return "delay after each visit; key visit:VISITED_AT."
        case .once: return "Once, at an instant, to every customer whose when holds; key once."
        case .schedule: return "At each time of a cron schedule (business zone); key schedule:LOCALTIME."
        case .new_offer: return "When an offer is published; key new_offer:OFFER. Takes no parameters."
        }
    }

    // MARK: nudge.yaml

    static func config(providers: ProviderCatalog) -> [String: Any] {
        var properties: [String: Any] = [:]
        let text: [String: Any] = ["type": "string"]
        let variable: [String: Any] = ["type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$", "description": "An environment variable's name."]
        for key in ProjectConfig.topKeys {
            switch key {
            case "business":
                var business: [String: Any] = [:]
                for field in ProjectConfig.businessKeys {
                    business[field] = field == "timezone" ? ["type": "string", "description": "IANA, e.g. America/New_York."] : text
                }
                properties[key] = ["type": "object", "additionalProperties": false, "properties": business]
            case "database": properties[key] = ["type": "string", "description": "A SQLite path or a postgres:// URL."]
            case "database_password_env": properties[key] = variable
            case "send_at": properties[key] = ["$ref": "#/$defs/time_of_day"]
            case "channels":
                var channels: [String: Any] = [:]
                for channel in Channel.allCases { channels[channel.rawValue] = channelSchema(channel, providers: providers) }
                properties[key] = ["type": "object", "additionalProperties": false, "properties": channels]
            case "serve":
                var serve: [String: Any] = [:]
                for field in ServeConfig.keys { serve[field] = field.hasSuffix("_env") ? variable : text }
                properties[key] = ["type": "object", "additionalProperties": false, "properties": serve]
            case "delivery":
                properties[key] = [
                    "type": "object", "additionalProperties": false,
                    "properties": Dictionary(uniqueKeysWithValues: ProjectConfig.deliveryKeys.map { ($0, text) }),
                ]
            case "segments":
                var segment: [String: Any] = [:]
                for field in Segment.keys { segment[field] = field == "when" ? ["$ref": "#/$defs/conditions"] : text }
                properties[key] = [
                    "type": "object",
                    "additionalProperties": ["type": "object", "additionalProperties": false, "required": ["when"], "properties": segment],
                ]
            case "intelligence":
                var intelligence: [String: Any] = [:]
                for field in IntelligenceConfig.keys {
                    switch field {
                    case "refit": intelligence[field] = ["$ref": "#/$defs/duration"]
                    case "clv_months": intelligence[field] = ["type": "integer", "minimum": 1, "maximum": 120]
                    default: intelligence[field] = ["type": ["number", "string"]]
                    }
                }
                properties[key] = ["type": "object", "additionalProperties": false, "properties": intelligence]
            case "policy":
                var cap: [String: Any] = [:]
                for field in Policy.capKeys {
                    switch field {
                    case "channel": cap[field] = ["enum": Channel.allCases.map(\.rawValue)]
                    case "max": cap[field] = ["type": "integer", "minimum": 1]
                    default: cap[field] = ["$ref": "#/$defs/duration"]
                    }
                }
                var policy: [String: Any] = [:]
                for field in Policy.keys {
                    policy[field] =
                        field == "caps"
                        ? [
                            "type": "array",
                            "items": ["type": "object", "additionalProperties": false, "required": ["max", "per"], "properties": cap],
                        ] as [String: Any]
                        : [
                            "type": "object", "additionalProperties": false, "required": Policy.quietHoursKeys,
                            "properties": Dictionary(uniqueKeysWithValues: Policy.quietHoursKeys.map { ($0, ["$ref": "#/$defs/time_of_day"]) }),
                        ]
                }
                properties[key] = ["type": ["object", "null"], "additionalProperties": false, "properties": policy]
            case "pricing":
                properties[key] = [
                    "type": ["object", "null"], "additionalProperties": false,
                    "description": "What one message costs on each channel (an SMS: one segment), for nudge forecast.",
                    "properties": Dictionary(
                        uniqueKeysWithValues: Channel.allCases.map { ($0.rawValue, ["type": "number", "minimum": 0] as [String: Any]) }),
                ]
            default: properties[key] = [:]
            }
        }
        return [
            "$schema": draft, "$id": "urn:nudge:schema:config", "title": "Nudge project settings (nudge.yaml)",
            "type": "object", "additionalProperties": false, "required": ["business"], "properties": properties,
            "$defs": [
                "duration": durationSchema,
                "time_of_day": ["type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$", "description": "HH:MM"],
                "conditions": ["oneOf": [expressionSchema, ["type": "array", "items": expressionSchema]]],
            ],
        ]
    }

    /// A channel's block: one provider, or (push, wallet) one provider per platform.
    static func channelSchema(_ channel: Channel, providers: ProviderCatalog) -> [String: Any] {
        let single = providerBlock(providers.specs.filter { $0.channels.contains(channel) })
        guard !channel.platforms.isEmpty else { return single }
        var platforms: [String: Any] = [:]
        for platform in channel.platforms {
            platforms[platform] = providerBlock(
                providers.specs.filter { $0.channels.contains(channel) && ($0.platforms?.contains(platform) ?? true) })
        }
        return [
            "oneOf": [
                single,
                ["type": "object", "minProperties": 1, "additionalProperties": false, "properties": platforms],
            ]
        ]
    }

    /// `{ provider: NAME, settings… }` for one of `specs`: each provider's own settings, required ones required.
    static func providerBlock(_ specs: [ProviderSpec]) -> [String: Any] {
        let names = specs.map(\.name).sorted()
        let setting: [String: Any] = ["type": ["string", "number", "boolean"]]
        let cases: [[String: Any]] = specs.sorted { $0.name < $1.name }.map { spec in
            var properties: [String: Any] = ["provider": ["const": spec.name]]
            for key in spec.required + spec.optional { properties[key] = setting }
            return [
                "if": ["properties": ["provider": ["const": spec.name]], "required": ["provider"]],
                "then": ["additionalProperties": false, "required": ["provider"] + spec.required, "properties": properties],
            ]
        }
        return [
            "type": "object", "required": ["provider"], "properties": ["provider": ["enum": names]], "allOf": cases,
        ]
    }
}
