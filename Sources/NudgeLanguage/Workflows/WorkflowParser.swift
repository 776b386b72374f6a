public import NudgeCore
/// Parses one workflow file into a checked `Workflow`, collecting every problem.
public enum WorkflowParser {
    // The keys each part of a workflow takes: the parser's and the JSON Schema's (`NudgeSchema`).
    static let topKeys = [
        "id", "name", "enabled", "trigger", "when", "actions", "catch_up", "send_at", "description", "category", "priority",
        "on_cap", "max_defer", "exit_when",
    ]
    static let actionKinds = ["send", "split", "wait", "when"]
    static let sendKeys = ["channel", "template"]
    static let variantKeys = ["weight", "then"]

    /// The parameters a trigger takes.
    static func parameters(of kind: TriggerKind) -> [String] {
        switch kind {
        case .birthday: return ["days_before"]
        case .inactivity: return ["days"]
        case .milestone: return ["offer", "percent"]
        case .signup: return ["days_after"]
        case .segment: return ["enter"]
        case .reward: return ["offer"]
        case .visit: return ["delay"]
        case .once: return ["at"]
        case .schedule: return ["cron"]
        case .new_offer: return []
        }
    }

    /// Parses `text` from `file`. `channels` are the channels configured in nudge.yaml; `segments` the segment
    /// names a condition or a `segment` trigger may name (nil: not checked).
    public static func parse(
        _ text: String, file: String, channels: Set<Channel>, segments: Set<String>? = nil, diagnostics: inout Diagnostics
    ) -> Workflow? {
        parseDraft(text, file: file, channels: channels, segments: segments, diagnostics: &diagnostics)?.workflow
    }

    /// Parses `text` as far as it can: the draft carries what cross-file checks need (id, trigger kind,
    /// actions) even when the file has errors; its `workflow` is set only when it has none.
    public static func parseDraft(
        _ text: String, file: String, channels: Set<Channel>, segments: Set<String>? = nil, diagnostics: inout Diagnostics
    ) -> WorkflowDraft? {
        var local = Diagnostics()
        defer { diagnostics.append(contentsOf: local.all) }
        let (parsed, yamlDiagnostics) = YAMLReader.parse(text, file: file)
        local.append(contentsOf: yamlDiagnostics)
        guard let node = parsed, let root = MappingReader(node, context: "a workflow", allowed: topKeys, diagnostics: &local)
        else { return nil }

        var id = ""
        var idLocation = node.location
        if let idNode = root.required("id", context: "the workflow", diagnostics: &local) {
            if let text = idNode.scalar, !text.isEmpty,
                text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
            {
                id = text
                idLocation = idNode.location
            } else {
                local.error(
                    "'id' must be letters, digits, '-' and '_', such as birthday-treat", at: idNode.location)
            }
        }
        let name = root.string("name", diagnostics: &local)?.0 ?? id
        let isEnabled = root.bool("enabled", diagnostics: &local) ?? true

        var trigger: Trigger?
        var triggerKind: TriggerKind?
        if let triggerNode = root.required("trigger", context: "the workflow", diagnostics: &local) {
            trigger = parseTrigger(triggerNode, segments: segments, diagnostics: &local)
            triggerKind =
                trigger?.kind ?? (triggerNode.mapping?.first?.key.scalar ?? triggerNode.scalar).flatMap(TriggerKind.init(rawValue:))
        }

        var conditions: [Condition] = []
        if let kind = trigger?.kind, kind.isBroadcast, root["when"].map(\.isNull) ?? true, let triggerNode = root["trigger"] {
            // Not an error (a small shop may mean everyone), but the one line that keeps a broadcast to its audience.
            local.warning(
                "a \(kind.rawValue) workflow without 'when' is sent to every customer", at: triggerNode.location,
                suggestion: "pick its audience, e.g. when: '\"regulars\" in customer.segments', or when: 'true' for everyone")
        }
        let catalog = FieldCatalog(trigger: triggerKind, segments: segments)
        if let whenNode = root["when"], !whenNode.isNull {
            conditions = compileConditions(whenNode, key: "when", catalog: catalog, diagnostics: &local)
        }
        var exitConditions: [Condition] = []
        if let exitNode = root["exit_when"], !exitNode.isNull {
            exitConditions = compileConditions(exitNode, key: "exit_when", catalog: catalog, diagnostics: &local)
        }

        var actions: [SendAction] = []
        var split: Split?
        var journey: [Step]?
        if let actionsNode = root.required("actions", context: "the workflow", diagnostics: &local) {
            if let items = actionsNode.sequence {
                if items.isEmpty { local.error("'actions' is empty: a workflow needs at least one send", at: actionsNode.location) }
                if let pair = items.lazy.compactMap({ $0.mapping?.first }).first(where: { $0.key.scalar == "split" }) {
                    if items.count > 1 {
                        local.error(
                            "a workflow with a split sends only through its variants", at: pair.key.location,
                            suggestion: "put each send, wait and when under a variant's 'then', and keep one split")
                    } else {
                        split = parseSplit(
                            pair.value, at: pair.key.location, catalog: catalog, channels: channels, into: &actions,
                            diagnostics: &local)
                    }
                } else if !items.isEmpty {
                    let before = local.errorCount
                    let steps = parseSteps(items, catalog: catalog, channels: channels, into: &actions, diagnostics: &local)
                    journey = steps.count > 1 || steps.first?.conditions.isEmpty == false ? steps : nil
                    if actions.isEmpty, local.errorCount == before {
                        local.error("'actions' has no send: a workflow needs at least one", at: actionsNode.location)
                    }
                }
            } else if actionsNode.isNull {
                local.error("'actions' is empty: a workflow needs at least one send", at: actionsNode.location)
            } else {
                local.error(
                    "'actions' must be a list such as '- send: { channel: email, template: welcome }'",
                    at: actionsNode.location)
            }
        }

        var catchUp = DurationSpec(seconds: 86_400, text: "1d")
        if let (text, node) = root.string("catch_up", diagnostics: &local) {
            if let duration = DurationSpec(parsing: text), duration.seconds > 0 {
                catchUp = duration
            } else {
                local.error(
                    "'catch_up' must be a positive duration such as 30m, 12h, 1d or 2w, not '\(text)'", at: node.location)
            }
        }
        var sendAt: TimeOfDay?
        if let (text, node) = root.string("send_at", diagnostics: &local) {
            if let time = TimeOfDay(parsing: text) {
                sendAt = time
            } else {
                local.error("'send_at' must be a time of day as \"HH:MM\", not '\(text)'", at: node.location)
            }
        }

        let category = root.choice("category", as: MessageCategory.self, diagnostics: &local) ?? .marketing
        let priority = root.integer("priority", in: 0...1_000_000, diagnostics: &local) ?? 100
        let onCap = root.choice("on_cap", as: CapAction.self, diagnostics: &local) ?? .drop
        let maxDefer =
            root["max_defer"].flatMap {
                MappingReader.duration($0, name: "max_defer", examples: "12h or 3d", diagnostics: &local)
            } ?? DurationSpec(seconds: 3 * 86_400, text: "3d")

        var draft = WorkflowDraft(id: id.isEmpty ? nil : id, idLocation: idLocation, triggerKind: triggerKind, actions: actions)
        if !local.hasErrors, let trigger {
            draft.workflow = Workflow(
                id: id, name: name, isEnabled: isEnabled, trigger: trigger, conditions: conditions, actions: actions,
                split: split, journey: journey, exitConditions: exitConditions, catchUp: catchUp, sendAt: sendAt,
                category: category, priority: priority, onCap: onCap,
                maxDefer: maxDefer, file: file, idLocation: idLocation)
        }
        return draft
    }

    static func parseTrigger(_ node: YAMLNode, segments: Set<String>?, diagnostics: inout Diagnostics) -> Trigger? {
        let kinds = TriggerKind.allCases.map(\.rawValue)
        guard let pairs = node.mapping else {
            if let name = node.scalar, let kind = TriggerKind(rawValue: name) {
                // `trigger: birthday` is the trigger with no parameters; report missing ones at the name.
                return parseTriggerBody(
                    kind, YAMLNode(.mapping([]), at: node.location), segments: segments, diagnostics: &diagnostics)
            }
            diagnostics.error(
                "'trigger' must be a mapping with one trigger such as 'birthday: { days_before: 0 }'", at: node.location,
                suggestion: node.scalar.flatMap { Suggestion.didYouMean($0, in: kinds) })
            return nil
        }
        guard !pairs.isEmpty else {
            diagnostics.error("'trigger' is empty", at: node.location, suggestion: "expected one of: " + kinds.joined(separator: ", "))
            return nil
        }
        if pairs.count > 1 {
            diagnostics.error(
                "a workflow has exactly one trigger, but this one has \(pairs.count): "
                    + pairs.map { $0.key.description }.joined(separator: ", "),
                at: pairs[1].key.location, suggestion: "split it into one workflow per trigger")
        }
        let (key, value) = pairs[0]
        guard let name = key.scalar, let kind = TriggerKind(rawValue: name) else {
            diagnostics.error(
                "unknown trigger '\(key)'", at: key.location, suggestion: Suggestion.didYouMean(key.description, in: kinds))
            return nil
        }
        let trigger = parseTriggerBody(kind, value, segments: segments, diagnostics: &diagnostics)
        return pairs.count > 1 ? nil : trigger
    }

    static func parseTriggerBody(
        _ kind: TriggerKind, _ node: YAMLNode?, segments: Set<String>?, diagnostics: inout Diagnostics
    ) -> Trigger? {
        let allowed = parameters(of: kind)
        let context = "the \(kind.rawValue) trigger"
        let empty = YAMLNode(.mapping([]), at: node?.location ?? SourceLocation(file: ""))
        let body = node.map { $0.isNull ? YAMLNode(.mapping([]), at: $0.location) : $0 } ?? empty
        if kind == .new_offer, let first = body.mapping?.first {
            diagnostics.error(
                "the new_offer trigger takes no parameters, but this one has '\(first.key)'", at: first.key.location,
                suggestion: "write new_offer: {} and pick the offers with 'when', e.g. offer.category in customer.preferences")
            return nil
        }
        guard let reader = MappingReader(body, context: context, allowed: allowed, diagnostics: &diagnostics) else {
            return nil
        }
        switch kind {
        case .birthday:
            var days = 0
            if let value = reader["days_before"] {
                guard let n = MappingReader.integer(value, name: "days_before", in: 0...365, diagnostics: &diagnostics)
                else { return nil }
                days = n
            }
            return .birthday(daysBefore: days)
        case .signup:
            var days = 0
            if let value = reader["days_after"] {
                guard let n = MappingReader.integer(value, name: "days_after", in: 0...3650, diagnostics: &diagnostics)
                else { return nil }
                days = n
            }
            return .signup(daysAfter: days)
        case .inactivity:
            guard let value = reader.required("days", context: context, diagnostics: &diagnostics),
                let days = MappingReader.integers(value, name: "days", in: 0...3650, diagnostics: &diagnostics)
            else { return nil }
            return .inactivity(days: days)
        case .segment:
            guard let value = reader.required("enter", context: context, diagnostics: &diagnostics) else { return nil }
            guard let name = value.scalar, !name.isEmpty else {
                diagnostics.error("'enter' must be a segment name such as vip", at: value.location)
                return nil
            }
            if let segments, !segments.contains(name) {
                diagnostics.error(
                    "unknown segment '\(name)'", at: value.location,
                    suggestion: Suggestion.didYouMean(name, in: segments.sorted())
                        ?? "segments are defined under 'segments:' in nudge.yaml")
                return nil
            }
            return .segment(enter: name)
        case .milestone:
            // Check both parameters before giving up, so that every problem is reported at once.
            let offerNode = reader.required("offer", context: context, diagnostics: &diagnostics)
            let percentNode = reader.required("percent", context: context, diagnostics: &diagnostics)
            var offer: String?
            if let offerNode {
                if let text = offerNode.scalar, !text.isEmpty {
                    offer = text
                } else {
                    diagnostics.error("'offer' must be an offer id or \"*\" for any offer", at: offerNode.location)
                }
            }
            let percents = percentNode.flatMap {
                MappingReader.integers($0, name: "percent", in: 0...100, diagnostics: &diagnostics)
            }
            guard let offer, let percents else { return nil }
            return .milestone(offer: offer == "*" ? nil : offer, percents: percents)
        case .reward:
            guard let value = reader.required("offer", context: context, diagnostics: &diagnostics) else { return nil }
            guard let offer = value.scalar, !offer.isEmpty else {
                diagnostics.error("'offer' must be an offer id or \"*\" for any offer", at: value.location)
                return nil
            }
            return .reward(offer: offer == "*" ? nil : offer)
        case .visit:
            var delay = 0
            if let value = reader["delay"] {
                guard
                    let duration = MappingReader.duration(
                        value, name: "delay", kind: "a duration", examples: "0m, 2h or 1d", allowsZero: true,
                        diagnostics: &diagnostics)
                else { return nil }
                delay = duration.seconds
            }
            return .visit(delaySeconds: delay)
        case .once:
            guard let value = reader.required("at", context: context, diagnostics: &diagnostics) else { return nil }
            guard let text = value.scalar, ISO8601.parts(text) != nil else {
                diagnostics.error(
                    "'at' must be an ISO 8601 time such as \"2026-12-20T10:00\" (the business's zone) or "
                        + "\"2026-12-20T10:00:00Z\", not '\(value)'", at: value.location)
                return nil
            }
            return .once(at: text)
        case .new_offer:
            return .newOffer
        case .schedule:
            guard let value = reader.required("cron", context: context, diagnostics: &diagnostics) else { return nil }
            guard let text = value.scalar else {
                diagnostics.error("'cron' must be a cron expression such as \"0 10 * * 1\"", at: value.location)
                return nil
            }
            do {
                return .schedule(try Cron(parsing: text))
            } catch {
                diagnostics.error("invalid 'cron': \(error.description)", at: value.location)
                return nil
            }
        }
    }

    static func parseAction(_ node: YAMLNode, channels: Set<Channel>, diagnostics: inout Diagnostics) -> SendAction? {
        guard let pairs = node.mapping, pairs.count == 1, let kind = pairs[0].key.scalar else {
            diagnostics.error(
                "each action must be one 'send: { channel: …, template: … }'", at: node.location)
            return nil
        }
        guard kind == "send" else {
            diagnostics.error(
                "unknown action '\(kind)'", at: pairs[0].key.location,
                suggestion: Suggestion.didYouMean(kind, in: actionKinds))
            return nil
        }
        let body = pairs[0].value
        guard let reader = MappingReader(body, context: "send", allowed: sendKeys, diagnostics: &diagnostics)
        else { return nil }
        var chosen: [Channel] = []
        var ok = true
        if let channelNode = reader.required("channel", context: "send", diagnostics: &diagnostics) {
            let items = channelNode.sequence ?? [channelNode]
            if items.isEmpty {
                diagnostics.error("'channel' needs at least one channel", at: channelNode.location)
                ok = false
            }
            for item in items {
                guard let name = item.scalar, let channel = Channel(rawValue: name) else {
                    diagnostics.error(
                        "unknown channel '\(item)'", at: item.location,
                        suggestion: Suggestion.didYouMean(item.description, in: Channel.allCases.map(\.rawValue)))
                    ok = false
                    continue
                }
                guard channels.contains(channel) else {
                    diagnostics.error(
                        "channel '\(name)' is not configured in nudge.yaml", at: item.location,
                        suggestion: "add it under 'channels:', e.g. \(name): { provider: file, path: outbox/\(name).jsonl }"
                    )
                    ok = false
                    continue
                }
                if chosen.contains(channel) {
                    diagnostics.error("channel '\(name)' is listed twice", at: item.location)
                    ok = false
                }
                chosen.append(channel)
            }
        } else {
            ok = false
        }
        var template = ""
        if let templateNode = reader.required("template", context: "send", diagnostics: &diagnostics) {
            if let name = templateNode.scalar, !name.isEmpty, !name.contains("/") {
                template = name
            } else {
                diagnostics.error("'template' must be a template name such as birthday", at: templateNode.location)
                ok = false
            }
        } else {
            ok = false
        }
        guard ok else { return nil }
        return SendAction(channels: chosen, template: template, location: reader.values["template"]!.value.location)
    }
}

extension WorkflowParser {
    /// Parses `split:`'s variants (`NAME: { weight: N, then: [sends] }`), appending their sends to `actions`.
    static func parseSplit(
        _ node: YAMLNode, at location: SourceLocation, catalog: FieldCatalog, channels: Set<Channel>,
        into actions: inout [SendAction], diagnostics: inout Diagnostics
    ) -> Split? {
        let example = "such as 'pastry: { weight: 45, then: [ { send: { channel: email, template: pastry } } ] }'"
        guard let pairs = node.mapping, pairs.count >= 2 else {
            diagnostics.error(
                "a split needs at least two variants, each 'NAME: { weight: N, then: [sends] }'", at: node.location,
                suggestion: "e.g. a variant and a holdout: 'control: { weight: 10 }'")
            return nil
        }
        var variants: [Split.Variant] = []
        var ok = true
        var names = Set<String>()
        for (key, value) in pairs {
            guard let name = key.scalar, !name.isEmpty,
                name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
            else {
                diagnostics.error("a variant's name must be letters, digits, '-' and '_', such as control", at: key.location)
                ok = false
                continue
            }
            if !names.insert(name).inserted {
                diagnostics.error("variant '\(name)' is named twice", at: key.location)
                ok = false
            }
            guard value.mapping != nil else {
                diagnostics.error("variant '\(name)' must be a mapping \(example)", at: value.location)
                ok = false
                continue
            }
            guard
                let reader = MappingReader(
                    value, context: "variant '\(name)'", allowed: variantKeys, diagnostics: &diagnostics)
            else {
                ok = false
                continue
            }
            var weight = 0
            if let weightNode = reader.required("weight", context: "variant '\(name)'", diagnostics: &diagnostics) {
                if let n = MappingReader.integer(weightNode, name: "weight", in: 1...1_000_000, diagnostics: &diagnostics) {
                    weight = n
                } else {
                    ok = false
                }
            } else {
                ok = false
            }
            let first = actions.count
            var steps: [Step] = []
            if let thenNode = reader["then"], !thenNode.isNull {
                guard let items = thenNode.sequence else {
                    diagnostics.error(
                        "'then' must be a list of sends such as '- send: { channel: email, template: pastry }'",
                        at: thenNode.location)
                    ok = false
                    continue
                }
                let before = diagnostics.errorCount
                steps = parseSteps(items, catalog: catalog, channels: channels, into: &actions, diagnostics: &diagnostics)
                if diagnostics.errorCount > before { ok = false }
            }
            variants.append(Split.Variant(name: name, weight: weight, actions: first..<actions.count, steps: steps))
        }
        if ok, variants.allSatisfy(\.isHoldout) {
            diagnostics.error(
                "every variant of this split is a holdout: nothing would ever be sent", at: location,
                suggestion: "give at least one variant sends under 'then'")
            ok = false
        }
        return ok ? Split(variants: variants, location: location) : nil
    }
}

extension WorkflowParser {
    /// Compiles a `when` or `exit_when`: one expression, or a list of them.
    static func compileConditions(
        _ node: YAMLNode, key: String, catalog: FieldCatalog, diagnostics: inout Diagnostics
    ) -> [Condition] {
        var conditions: [Condition] = []
        for item in node.sequence ?? [node] {
            guard let expression = item.scalar else {
                diagnostics.error(
                    "each '\(key)' entry must be an expression such as customer.visits_total >= 1, not \(item.kindName)",
                    at: item.location,
                    suggestion: item.mapping != nil ? "quote an expression that contains ': '" : nil)
                continue
            }
            switch Condition.compile(expression, catalog: catalog) {
            case .success(let condition):
                conditions.append(condition)
                // Lint: a `when` that can never hold stops everything after it.
                if key == "when", let reason = condition.neverHoldsReason {
                    diagnostics.warning(
                        "this condition can never hold (\(reason)): nothing after it is ever sent", at: item.location,
                        suggestion: expression.contains("null") ? "test for a missing value with has(PATH) or not has(PATH)" : "fix or remove it")
                }
            case .failure(let error):
                for problem in error.problems {
                    diagnostics.error(problem.message, at: item.location(ofOffset: problem.offset), suggestion: problem.suggestion)
                }
            }
        }
        return conditions
    }

    /// Reads a journey: sends, `wait: DURATION` between steps and `when:` entries for the step they stand in,
    /// appending the sends to `actions`. Each `wait` ends a step (which needs a send) and starts the next.
    static func parseSteps(
        _ items: [YAMLNode], catalog: FieldCatalog, channels: Set<Channel>, into actions: inout [SendAction],
        diagnostics: inout Diagnostics
    ) -> [Step] {
        var steps: [Step] = []
        var (index, offset, conditions, first) = (0, 0, [Condition](), actions.count)
        var lastWait: SourceLocation?
        // Whether the step has a send, even one with errors (reported already: "sends nothing" would be one more).
        var hasSend = false
        for item in items {
            guard let pair = item.mapping?.first, item.mapping?.count == 1, let kind = pair.key.scalar,
                kind == "wait" || kind == "when" || kind == "split"
            else {
                hasSend = true
                if let action = parseAction(item, channels: channels, diagnostics: &diagnostics) { actions.append(action) }
                continue
            }
            switch kind {
            case "wait":
                if !hasSend {
                    diagnostics.error(
                        "a wait must come after a send: step \(index) sends nothing", at: pair.key.location,
                        suggestion: "put a '- send: …' before this wait")
                }
                steps.append(Step(index: index, offset: offset, conditions: conditions, actions: first..<actions.count))
                if let duration = MappingReader.duration(
                    pair.value, name: "wait", examples: "2h, 3d or 1w", diagnostics: &diagnostics)
                {
                    offset += duration.seconds
                }
                (index, conditions, first, hasSend) = (index + 1, [], actions.count, false)
                lastWait = pair.key.location
            case "when":
                conditions += compileConditions(pair.value, key: "when", catalog: catalog, diagnostics: &diagnostics)
            default:
                diagnostics.error(
                    "a split cannot stand inside a journey or another split", at: pair.key.location,
                    suggestion: "make the split the workflow's only action, with the journeys under its variants' 'then'")
            }
        }
        if actions.count > first {
            steps.append(Step(index: index, offset: offset, conditions: conditions, actions: first..<actions.count))
        } else if let lastWait, !hasSend {
            diagnostics.error(
                "a wait must be followed by a send: step \(index) sends nothing", at: lastWait,
                suggestion: "add a '- send: …' after it, or remove the wait")
        } else if !conditions.isEmpty {
            steps.append(Step(index: 0, offset: 0, conditions: conditions, actions: first..<first))
        }
        return steps
    }
}

/// What a workflow file yields even when it has errors, for checks across files.
public struct WorkflowDraft: Sendable {
    /// The id, when valid.
    public var id: String?
    /// Where the id is written.
    public var idLocation: SourceLocation
    /// The trigger kind, when recognisable.
    public var triggerKind: TriggerKind?
    /// The actions that parsed.
    public var actions: [SendAction]
    /// The checked workflow; nil when the file has errors.
    public var workflow: Workflow?
}
