import Foundation
public import Mustache
public import NudgeLanguage
public import NudgeCore

/// A variable reference inside a template, with its place.
public struct TemplateVariable: Sendable, Hashable {
    /// The name as written (`customer.first_name`, `.`).
    public var name: String
    /// Where the tag starts.
    public var location: SourceLocation
    /// Whether it opens a section (`{{#…}}` or `{{^…}}`).
    public var isSection: Bool
    /// The names of the enclosing sections, outermost first.
    public var sections: [String]
}

/// A parsed `Templates/<name>.<channel>.mustache` file: front matter and body.
public struct MessageTemplate: Sendable {
    /// The template name (file name without channel and extension).
    public var name: String
    /// The channel it renders for.
    public var channel: Channel
    /// The file, relative to the project.
    public var file: String
    /// The front-matter heading (`subject`, `title` or `header`) and its template, if the channel has one.
    public var heading: (key: String, template: MustacheTemplate)?
    /// The body template.
    public var body: MustacheTemplate
    /// Every variable the heading and body read.
    public var variables: [TemplateVariable]
    /// The heading's own variables (also in `variables`).
    public var headingVariables: [TemplateVariable]
    /// The body's variables as paths when the body has no sections, so that `RenderMemo` may remember it.
    var bodyPaths: [[String]]? = nil

    /// Parses a template file, reporting front-matter and Mustache syntax problems.
    public static func parse(
        _ text: String, name: String, channel: Channel, file: String, diagnostics: inout Diagnostics
    ) -> MessageTemplate? {
        parseDraft(text, name: name, channel: channel, file: file, diagnostics: &diagnostics).template
    }

    /// Parses as far as it can: the variables found are returned even when the template has errors.
    public static func parseDraft(
        _ text: String, name: String, channel: Channel, file: String, diagnostics: inout Diagnostics
    ) -> (template: MessageTemplate?, variables: [TemplateVariable]) {
        var local = Diagnostics()
        defer { diagnostics.append(contentsOf: local.all) }
        let normalized = text.replacingOccurrences(of: "\r\n", with: "\n")
        var lines = normalized.split(separator: "\n", omittingEmptySubsequences: false)
        var bodyStartLine = 1
        var headingText: (key: String, text: String, location: SourceLocation)?
        var variables: [TemplateVariable] = []
        var headingVariables: [TemplateVariable] = []
        if lines.first.map(trimmingSpaces) == "---" {
            guard let end = lines.dropFirst().firstIndex(where: { trimmingSpaces($0) == "---" }) else {
                local.error(
                    "the front matter that starts here has no closing '---' line", at: SourceLocation(file: file, line: 1, column: 1))
                return (nil, [])
            }
            let allowed = channel.headingKey.map { [$0] } ?? []
            // Front matter is read as `key: value` lines, not as YAML, so that a value may start with `{{`.
            for index in 1..<end {
                let line = String(lines[index])
                let trimmed = trimmingSpaces(line)
                let lineNumber = index + 1
                if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
                guard let colon = line.firstIndex(of: ":") else {
                    local.error(
                        "front matter lines must be 'key: value'", at: SourceLocation(file: file, line: lineNumber, column: 1))
                    continue
                }
                let key = trimmingSpaces(line[..<colon])
                let keyColumn = line.distance(from: line.startIndex, to: line.firstIndex { !$0.isWhitespace }!) + 1
                guard allowed.contains(key) else {
                    let expected =
                        allowed.isEmpty
                        ? "\(channel.rawValue) templates have no front matter keys"
                        : Suggestion.didYouMean(key, in: allowed)
                    local.error(
                        "unknown key '\(key)' in the front matter of \(channel.withArticle) template",
                        at: SourceLocation(file: file, line: lineNumber, column: keyColumn), suggestion: expected)
                    continue
                }
                var value = trimmingSpaces(line[line.index(after: colon)...])
                let valueColumn = line.distance(from: line.startIndex, to: colon) + 2
                    + (line[line.index(after: colon)...].prefix { $0 == " " || $0 == "\t" }.count)
                var offset = 0
                if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
                    value = String(value.dropFirst().dropLast())
                    offset = 1
                }
                if headingText != nil {
                    local.error(
                        "'\(key)' is given twice", at: SourceLocation(file: file, line: lineNumber, column: keyColumn))
                }
                headingText = (key, value, SourceLocation(file: file, line: lineNumber, column: valueColumn + offset))
            }
            bodyStartLine = end + 2
            lines = Array(lines[(end + 1)...])
        }
        if let key = channel.headingKey, headingText == nil {
            local.error(
                "\(channel.withArticle) template needs '\(key):' in a front-matter block at its top",
                at: SourceLocation(file: file, line: 1, column: 1),
                suggestion: "start the file with ---, \(key): …, ---")
        }
        let bodyText = lines.joined(separator: "\n")
        var heading: (key: String, template: MustacheTemplate)?
        if let headingText {
            if let template = compile(headingText.text, contentType: "TEXT", origin: headingText.location, diagnostics: &local) {
                heading = (headingText.key, template)
            }
            headingVariables = TemplateScanner.scan(headingText.text, origin: headingText.location, diagnostics: &local)
            variables += headingVariables
        }
        let bodyOrigin = SourceLocation(file: file, line: bodyStartLine, column: 1)
        let body = compile(
            bodyText, contentType: channel == .email ? "HTML" : "TEXT", origin: bodyOrigin, diagnostics: &local)
        let bodyVariables = TemplateScanner.scan(bodyText, origin: bodyOrigin, diagnostics: &local)
        variables += bodyVariables
        if trimmingWhiteSpace(bodyText).isEmpty {
            local.error("the template body is empty", at: bodyOrigin)
        }
        guard let body, !local.hasErrors else { return (nil, variables) }
        let template = MessageTemplate(
            name: name, channel: channel, file: file, heading: heading, body: body, variables: variables,
            headingVariables: headingVariables, bodyPaths: memoPaths(bodyVariables))
        return (template, variables)
    }

    static func compile(
        _ text: String, contentType: String, origin: SourceLocation, diagnostics: inout Diagnostics
    ) -> MustacheTemplate? {
        let pragma = "{{% CONTENT_TYPE: \(contentType)}}"
        do {
            return try MustacheTemplate(string: pragma + text)
        } catch let error as MustacheTemplate.ParserError {
            let line = origin.line + error.context.lineNumber - 1
            var column = error.context.columnNumber
            // The first line starts with the pragma, which is not in the file.
            if error.context.lineNumber == 1 { column = max(1, column - pragma.count) + origin.column - 1 }
            diagnostics.error(
                "invalid Mustache: \(describe(error.error))", at: SourceLocation(file: origin.file, line: line, column: column))
            return nil
        } catch {
            diagnostics.error("invalid Mustache: \(error)", at: origin)
            return nil
        }
    }

    static func describe(_ error: any Error) -> String {
        guard let error = error as? MustacheTemplate.Error else {
            // swift-mustache's internal parser error when the text ends inside a tag.
            if "\(error)" == "overflow" { return "the template ends inside a tag: a '{{' is not closed with '}}'" }
            return "\(error)"
        }
        switch error {
        case .sectionCloseNameIncorrect: return "a section is closed with a different name than it was opened"
        case .unfinishedName: return "a tag is not closed with }}"
        case .expectedSectionEnd: return "a section is opened but never closed"
        case .invalidSetDelimiter: return "invalid delimiter change"
        default: return "\(error)"
        }
    }
}

/// Renders a template from explicit context values.
public struct RenderedMessage: Sendable, Hashable, Codable {
    /// The heading by key (`subject`, `title`, `header`), if the channel has one.
    public var heading: (key: String, value: String)? {
        get { headingKey.map { ($0, headingValue ?? "") } }
        set {
            headingKey = newValue?.key
            headingValue = newValue?.value
        }
    }
    var headingKey: String?
    var headingValue: String?
    /// The rendered body.
    public var body: String
    /// An email's plain-text alternative, from `<template>.email.text.mustache` when the project has one.
    public var text: String?

    /// Creates a rendered message.
    public init(heading: (key: String, value: String)?, body: String, text: String? = nil) {
        self.headingKey = heading?.key
        self.headingValue = heading?.value
        self.body = body
        self.text = text
    }

    public static func == (lhs: RenderedMessage, rhs: RenderedMessage) -> Bool {
        lhs.headingKey == rhs.headingKey && lhs.headingValue == rhs.headingValue && lhs.body == rhs.body
            && lhs.text == rhs.text
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(headingKey)
        hasher.combine(headingValue)
        hasher.combine(body)
        hasher.combine(text)
    }
}

extension MessageTemplate {
    /// Renders with `context`: nested dictionaries or a `LazyContext` of the fields of design §4. `renderedHeading` is
    /// the heading already rendered, when it is the same for every message (`headingReadsOnly(groups:)`).
    public func render(_ context: Any, renderedHeading: String? = nil) -> RenderedMessage {
        let headingValue = heading.map {
            (key: $0.key, value: renderedHeading ?? renderHeading($0.template, context))
        }
        return RenderedMessage(heading: headingValue, body: body.render(context))
    }

    /// `render(_:renderedHeading:)`, the body from `memo` when it rendered the same values before.
    public func render(_ context: LazyContext, renderedHeading: String? = nil, memo: RenderMemo) -> RenderedMessage {
        let headingValue = heading.map {
            (key: $0.key, value: renderedHeading ?? renderHeading($0.template, context))
        }
        return RenderedMessage(heading: headingValue, body: memo.body(of: self, context: context))
    }

    /// The heading rendered with `context`, without white space around it; nil when the template has none.
    public func renderHeading(_ context: Any) -> String? {
        heading.map { renderHeading($0.template, context) }
    }

    func renderHeading(_ template: MustacheTemplate, _ context: Any) -> String {
        Self.trimmingWhiteSpace(template.render(context))
    }

    /// Whether the heading reads only fields of these groups (`business`), outside any section: then it is the
    /// same for every message a project renders, and a plan renders it once (a broadcast's subject usually is).
    public func headingReadsOnly(groups: Set<String>) -> Bool {
        heading != nil
            && headingVariables.allSatisfy { variable in
                guard !variable.isSection, variable.sections.isEmpty, let dot = variable.name.firstIndex(of: ".") else {
                    return false
                }
                return groups.contains(String(variable.name[..<dot]))
            }
    }

    /// `text` without leading and trailing white space: the characters of Foundation's `whitespacesAndNewlines`
    /// (Unicode's White_Space property, and the zero-width space), found without bridging to `NSString` (a heading
    /// is trimmed per message).
    static func trimmingWhiteSpace(_ text: String) -> String {
        trimming(text) { $0.properties.isWhitespace || $0 == "\u{200B}" }
    }

    /// `text` without leading and trailing spaces and tabs: Foundation's `whitespaces` (tab and the Unicode space
    /// separators), without bridging to `NSString`, which took a tenth of loading a project's templates.
    static func trimmingSpaces(_ text: some StringProtocol) -> String {
        trimming(text) { $0 == "\t" || $0.properties.generalCategory == .spaceSeparator }
    }

    static func trimming(_ text: some StringProtocol, where isSpace: (Unicode.Scalar) -> Bool) -> String {
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !isSpace($0) }) else { return "" }
        let last = scalars.lastIndex(where: { !isSpace($0) })!
        // Nothing to trim: the text itself (no copy of a String).
        if first == scalars.startIndex && last == scalars.index(before: scalars.endIndex) { return String(text) }
        return String(String.UnicodeScalarView(scalars[first...last]))
    }
}

extension Channel {
    /// The channel's name with its indefinite article, for messages: "an email", "a push".
    var withArticle: String {
        switch self {
        case .email, .sms: return "an \(rawValue)"
        case .push, .wallet: return "a \(rawValue)"
        }
    }
}
