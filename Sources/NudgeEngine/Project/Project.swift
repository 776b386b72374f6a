public import Foundation
public import NudgeLanguage
public import NudgeRender
public import NudgeCore

/// Identifies a template file: name and channel.
public struct TemplateKey: Sendable, Hashable, CustomStringConvertible {
    public var name: String
    public var channel: Channel

    public init(name: String, channel: Channel) {
        self.name = name
        self.channel = channel
    }

    /// `Templates/<name>.<channel>.mustache`.
    public var description: String { "Templates/\(name).\(channel.rawValue).mustache" }
}

/// A loaded and checked project: nudge.yaml, the workflows and the templates (design §3).
public struct Project: Sendable {
    /// The project folder.
    public var directory: URL
    /// How paths are shown in messages (the `--project` argument as given, or empty for the current folder).
    public var displayPrefix: String
    /// The settings of nudge.yaml.
    public var config: ProjectConfig
    /// The workflows, sorted by id.
    public var workflows: [Workflow]
    /// The templates by name and channel.
    public var templates: [TemplateKey: MessageTemplate]
    /// Plain-text alternatives of email templates (`<template>.email.text.mustache`), by template name.
    public var textTemplates: [String: MessageTemplate] = [:]
    /// Warnings found while loading (errors prevent loading).
    public var warnings: [Diagnostic]

    /// The database path or PostgreSQL URL: `override`, else `database:` of nudge.yaml, else `nudge.sqlite`, relative to the project.
    public func databasePath(override: String? = nil) -> String {
        if let override { return override }
        let database = config.database ?? "nudge.sqlite"
        return DatabaseURL.looksLikeURL(database) ? database : resolve(database)
    }

    /// A path from nudge.yaml, resolved against the project folder.
    public func resolve(_ path: String) -> String {
        path.hasPrefix("/") ? path : directory.appendingPathComponent(path).path
    }

    /// The workflow with `id`.
    public func workflow(id: String) -> Workflow? {
        workflows.first { $0.id == id }
    }

    /// Loads and checks the project in `directory`, collecting every diagnostic.
    ///
    /// Returns the project when there are no errors; the diagnostics (sorted) in both cases. `providers` are the
    /// providers `channels:` may name (the registry of NudgeProviders).
    public static func load(
        directory: String, displayPrefix: String? = nil, providers: ProviderCatalog
    ) -> (project: Project?, diagnostics: [Diagnostic]) {
        let root = URL(fileURLWithPath: directory).standardizedFileURL
        let prefix = displayPrefix ?? (directory == "." ? "" : directory)
        let display: @Sendable (String) -> String = { relative in
            prefix.isEmpty ? relative : (prefix.hasSuffix("/") || prefix.hasSuffix(":") ? prefix + relative : prefix + "/" + relative)
        }
        var diagnostics = Diagnostics()

        // The templates are read on a second core while nudge.yaml and the workflows are read on this one: every
        // command loads the project, and these two halves are most of a command's fixed cost.
        let (loaded, (config, drafts, firstDiagnostics)) = bothAtOnce(
            { loadTemplates(in: root, display: display) },
            { loadSettingsAndWorkflows(in: root, directory: directory, display: display, providers: providers) })
        diagnostics.append(contentsOf: firstDiagnostics.all)
        diagnostics.append(contentsOf: loaded.diagnostics.all)
        let (templates, templateFiles, templateVariables) = (loaded.templates, loaded.files, loaded.variables)
        let (textTemplates, textVariables) = (loaded.textTemplates, loaded.textVariables)

        // Email to people's inboxes needs working unsubscribe links; each provider adds its own warnings.
        if let email = config.channels[.email], providers.sendsEmailToInboxes(email) {
            if config.serve?.publicURL == nil {
                diagnostics.warning(
                    "emails sent through \(email.provider) will carry no unsubscribe link", at: email.location,
                    suggestion: "add serve: { public_url: …, unsubscribe_secret_env: … } and run 'nudge serve' there")
            } else if let serve = config.serve, serve.unsubscribeSecretEnv == nil {
                diagnostics.warning(
                    "unsubscribe links will be unsigned, and 'nudge serve' cannot honour them", at: serve.location,
                    suggestion: "add unsubscribe_secret_env: NAME (an environment variable holding a random secret)")
            }
        }
        for (_, channel) in config.channels.sorted(by: { $0.key < $1.key }) {
            for (_, route) in channel.routes {
                diagnostics.append(contentsOf: providers[route.provider]?.warnings?(route, config) ?? [])
                diagnostics.append(contentsOf: providers[route.provider]?.fileCheck?(route, root) ?? [])
            }
        }

        // Cross-checks, also for workflows with errors: unique ids, templates for every channel, template variables.
        var firstByID: [String: WorkflowDraft] = [:]
        for draft in drafts {
            guard let id = draft.id else { continue }
            if let first = firstByID[id] {
                diagnostics.error(
                    "duplicate workflow id '\(id)' (also in \(first.idLocation))", at: draft.idLocation,
                    suggestion: "workflow ids must be unique across the project")
            } else {
                firstByID[id] = draft
            }
        }
        var checkedVariables = Set<String>()
        for draft in drafts {
            let catalog = FieldCatalog(trigger: draft.triggerKind)
            for action in draft.actions {
                for channel in action.channels {
                    let key = TemplateKey(name: action.template, channel: channel)
                    guard templateFiles[key] != nil else {
                        let sameChannel = templateFiles.keys.filter { $0.channel == channel }.map(\.name)
                        let hint = Suggestion.closest(to: action.template, in: sameChannel).map { "did you mean '\($0)'?" }
                        diagnostics.error(
                            "template '\(action.template)' has no \(channel.rawValue) version: \(display(key.description)) does not exist",
                            at: action.location, suggestion: hint ?? "create \(display(key.description))")
                        continue
                    }
                    for variable in templateVariables[key] ?? [] {
                        guard
                            let (message, suggestion) = variable.check(
                                against: catalog, extraNames: channel == .email ? [UnsubscribeLinks.variable] : [])
                        else { continue }
                        let isTriggerSpecific = message.contains("only available") || message.contains("not a parameter")
                        let text =
                            isTriggerSpecific ? message + " (template used by workflow '\(draft.id ?? "?")')" : message
                        guard checkedVariables.insert("\(variable.location)|\(text)").inserted else { continue }
                        diagnostics.error(text, at: variable.location, suggestion: suggestion)
                    }
                }
            }
        }
        for (name, (file, variables)) in textVariables.sorted(by: { $0.key < $1.key }) {
            if templateFiles[TemplateKey(name: name, channel: .email)] == nil {
                diagnostics.warning(
                    "plain-text part of an email template that does not exist: Templates/\(name).email.mustache",
                    at: SourceLocation(file: file, line: 1, column: 1))
            }
            for variable in variables {
                if let (message, suggestion) = variable.check(
                    against: FieldCatalog(trigger: nil), extraNames: [UnsubscribeLinks.variable])
                {
                    diagnostics.error(message, at: variable.location, suggestion: suggestion)
                }
            }
        }
        // Templates no workflow uses are still checked against every field, and named (lint).
        let used = Set(drafts.flatMap { w in w.actions.flatMap { a in a.channels.map { TemplateKey(name: a.template, channel: $0) } } })
        for (key, file) in templateFiles.sorted(by: { $0.value < $1.value }) where !used.contains(key) {
            diagnostics.warning(
                "no workflow sends this template (\(key.channel.rawValue) '\(key.name)')", at: SourceLocation(file: file, line: 1, column: 1),
                suggestion: "delete it, or send it from a workflow")
        }
        for (key, variables) in templateVariables where !used.contains(key) {
            for variable in variables {
                if let (message, suggestion) = variable.check(
                    against: FieldCatalog(trigger: nil), extraNames: key.channel == .email ? [UnsubscribeLinks.variable] : [])
                {
                    diagnostics.error(message, at: variable.location, suggestion: suggestion)
                }
            }
        }

        let workflows = drafts.compactMap(\.workflow)
        // Two enabled workflows with the same trigger, a channel in common and conditions that do not rule each other
        // out can both reach a customer on the same day (lint).
        let enabled = workflows.filter(\.isEnabled).sorted { $0.idLocation < $1.idLocation }
        for (index, first) in enabled.enumerated() {
            for second in enabled[(index + 1)...] where second.trigger == first.trigger {
                let shared = Set(first.actions.flatMap(\.channels)).intersection(second.actions.flatMap(\.channels))
                guard !shared.isEmpty, !Condition.exclude(first.conditions, second.conditions) else { continue }
                diagnostics.warning(
                    "workflows '\(first.id)' and '\(second.id)' have the same trigger (\(first.trigger.summary)) and conditions "
                        + "that do not rule each other out: a customer can get both on the same day by "
                        + shared.sorted().map(\.rawValue).joined(separator: " and "),
                    at: second.idLocation,
                    suggestion: "merge them, or give one a condition the other excludes (\(first.idLocation))")
            }
        }
        let sorted = diagnostics.sorted
        guard !diagnostics.hasErrors else { return (nil, sorted) }
        var project = Project(
            directory: root, displayPrefix: prefix, config: config, workflows: workflows.sorted { $0.id < $1.id },
            templates: templates, warnings: sorted)
        project.textTemplates = textTemplates
        return (project, sorted)
    }
}

/// The templates of a project as read from `Templates/`, with what their reading found.
struct LoadedTemplates: Sendable {
    var templates: [TemplateKey: MessageTemplate] = [:]
    /// Each template's file as shown in messages.
    var files: [TemplateKey: String] = [:]
    var variables: [TemplateKey: [TemplateVariable]] = [:]
    var textTemplates: [String: MessageTemplate] = [:]
    var textVariables: [String: (file: String, variables: [TemplateVariable])] = [:]
    var diagnostics = Diagnostics()
}

extension Project {
    /// Reads and checks nudge.yaml, then the workflows (which name its channels and segments).
    static func loadSettingsAndWorkflows(
        in root: URL, directory: String, display: (String) -> String, providers: ProviderCatalog
    ) -> (config: ProjectConfig, drafts: [WorkflowDraft], diagnostics: Diagnostics) {
        var diagnostics = Diagnostics()
        // nudge.yaml
        let configPath = root.appendingPathComponent("nudge.yaml").path
        var config = ProjectConfig()
        if let text = try? String(contentsOfFile: configPath, encoding: .utf8) {
            config = ProjectConfig.parse(text, file: display("nudge.yaml"), providers: providers, diagnostics: &diagnostics)
        } else {
            diagnostics.error(
                "no nudge.yaml in \(directory)", at: SourceLocation(file: display("nudge.yaml")),
                suggestion: "run 'nudge init DIR' to create a project, or pass --project DIR")
        }
        let channels = Set(config.channels.keys)
        let segmentNames = Set(config.segments.map(\.name))

        // Workflows
        var drafts: [WorkflowDraft] = []
        let workflowsDirectory = root.appendingPathComponent("Workflows")
        let workflowNames = ((try? FileManager.default.contentsOfDirectory(atPath: workflowsDirectory.path)) ?? []).sorted()
        if !FileManager.default.fileExists(atPath: workflowsDirectory.path) {
            diagnostics.warning("no Workflows folder: nothing will be sent", at: SourceLocation(file: display("Workflows")))
        }
        // `*.test.yaml` files are workflow tests, run by `nudge test`.
        for fileName in workflowNames
        where (fileName.hasSuffix(".yaml") || fileName.hasSuffix(".yml")) && !WorkflowTestFile.isTestFile(fileName) {
            let relative = display("Workflows/\(fileName)")
            guard let text = try? String(contentsOf: workflowsDirectory.appendingPathComponent(fileName), encoding: .utf8)
            else {
                diagnostics.error("cannot read the workflow (is it UTF-8 text?)", at: SourceLocation(file: relative))
                continue
            }
            if let draft = WorkflowParser.parseDraft(
                text, file: relative, channels: channels, segments: segmentNames, diagnostics: &diagnostics) {
                drafts.append(draft)
            }
        }
        return (config, drafts, diagnostics)
    }

    /// Reads and checks every template in `root`/Templates; `display` shows a project-relative path.
    static func loadTemplates(in root: URL, display: (String) -> String) -> LoadedTemplates {
        var loaded = LoadedTemplates()
        let templatesDirectory = root.appendingPathComponent("Templates")
        let templateNames = ((try? FileManager.default.contentsOfDirectory(atPath: templatesDirectory.path)) ?? []).sorted()
        for fileName in templateNames where fileName.hasSuffix(".mustache") {
            let relative = "Templates/\(fileName)"
            let stem = String(fileName.dropLast(".mustache".count))
            if stem.hasSuffix(".email.text") {
                // The plain-text part of an email, rendered like an SMS (no HTML escaping, no front matter).
                let name = String(stem.dropLast(".email.text".count))
                guard let text = try? String(contentsOf: templatesDirectory.appendingPathComponent(fileName), encoding: .utf8)
                else {
                    loaded.diagnostics.error("cannot read the template (is it UTF-8 text?)", at: SourceLocation(file: display(relative)))
                    continue
                }
                let (template, variables) = MessageTemplate.parseDraft(
                    text, name: name, channel: .sms, file: display(relative), diagnostics: &loaded.diagnostics)
                loaded.textTemplates[name] = template
                loaded.textVariables[name] = (display(relative), variables)
                continue
            }
            guard let dot = stem.lastIndex(of: "."), let channel = Channel(rawValue: String(stem[stem.index(after: dot)...]))
            else {
                loaded.diagnostics.warning(
                    "template file name should be <template>.<channel>.mustache with a channel of "
                        + Channel.allCases.map(\.rawValue).joined(separator: ", "),
                    at: SourceLocation(file: display(relative)))
                continue
            }
            let key = TemplateKey(name: String(stem[..<dot]), channel: channel)
            loaded.files[key] = display(relative)
            guard let text = try? String(contentsOf: templatesDirectory.appendingPathComponent(fileName), encoding: .utf8)
            else {
                loaded.diagnostics.error("cannot read the template (is it UTF-8 text?)", at: SourceLocation(file: display(relative)))
                continue
            }
            let (template, variables) = MessageTemplate.parseDraft(
                text, name: key.name, channel: channel, file: display(relative), diagnostics: &loaded.diagnostics)
            loaded.templates[key] = template
            loaded.variables[key] = variables
            let place = SourceLocation(file: display(relative), line: 1, column: 1)
            if channel == .email, !variables.contains(where: { $0.name == UnsubscribeLinks.variable }) {
                loaded.diagnostics.warning(
                    "this email has no unsubscribe link", at: place,
                    suggestion: "add <a href=\"{{unsubscribe_url}}\">Unsubscribe</a> to the body")
            }
            if channel == .sms, let template {
                // The text that is there whatever the customer: every variable rendered empty.
                let fixed = SMSSegments(template.render(LazyContext { _ in nil }).body)
                if fixed.count > 1 {
                    loaded.diagnostics.warning(
                        "the fixed text of this SMS alone takes \(fixed); every message will cost at least \(fixed.count)",
                        at: place,
                        suggestion: fixed.encoding == .ucs2
                            ? "a single character outside GSM-7 (an emoji, curly quotes) makes the whole SMS UCS-2 (70 per segment)"
                            : "keep SMS text within 160 GSM-7 characters")
                }
            }
        }
        return loaded
    }
}

/// Runs `first` and `second` at once (on two cores when there are two) and returns both results.
func bothAtOnce<A: Sendable, B: Sendable>(_ first: @Sendable () -> A, _ second: @Sendable () -> B) -> (A, B) {
    // Each iteration writes its own slot only.
    nonisolated(unsafe) var a: A?
    nonisolated(unsafe) var b: B?
    DispatchQueue.concurrentPerform(iterations: 2) { part in
        if part == 0 { a = first() } else { b = second() }
    }
    return (a!, b!)
}
