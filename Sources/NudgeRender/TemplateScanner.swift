import Foundation
public import NudgeLanguage

/// Finds the variables a Mustache template reads, with their places, so `check` can verify every one
/// (swift-mustache renders a missing key as an empty string).
enum TemplateScanner {
    static func scan(_ text: String, origin: SourceLocation, diagnostics: inout Diagnostics) -> [TemplateVariable] {
        let scalars = Array(text.unicodeScalars)
        var variables: [TemplateVariable] = []
        var sections: [String] = []
        var line = origin.line
        var column = origin.column
        var i = 0
        func advance(_ n: Int) {
            for _ in 0..<n where i < scalars.count {
                if scalars[i] == "\n" {
                    line += 1
                    column = 1
                } else {
                    column += 1
                }
                i += 1
            }
        }
        while i < scalars.count {
            guard scalars[i] == "{", i + 1 < scalars.count, scalars[i + 1] == "{" else {
                advance(1)
                continue
            }
            let location = SourceLocation(file: origin.file, line: line, column: column)
            var triple = false
            var start = i + 2
            if start < scalars.count, scalars[start] == "{" {
                triple = true
                start += 1
            }
            let closing: [Unicode.Scalar] = triple ? ["}", "}", "}"] : ["}", "}"]
            var end = start
            var found = false
            while end + closing.count <= scalars.count {
                if Array(scalars[end..<(end + closing.count)]) == closing {
                    found = true
                    break
                }
                end += 1
            }
            guard found else { return variables }
            let inner = MessageTemplate.trimmingSpaces(String(String.UnicodeScalarView(scalars[start..<end])))
            advance(end + closing.count - i)
            guard let sigil = inner.unicodeScalars.first else { continue }
            var name = inner
            var kind = "var"
            switch sigil {
            case "!", "%": continue
            case "=":
                diagnostics.error("changing Mustache delimiters is not supported in templates", at: location)
                return variables
            case ">", "<", "$":
                diagnostics.error("partials and blocks are not supported in templates", at: location)
                continue
            case "#", "^":
                kind = "open"
                name = MessageTemplate.trimmingSpaces(inner.dropFirst())
            case "/":
                name = MessageTemplate.trimmingSpaces(inner.dropFirst())
                if !sections.isEmpty { sections.removeLast() }
                continue
            case "&":
                name = MessageTemplate.trimmingSpaces(inner.dropFirst())
            default:
                break
            }
            // swift-mustache transforms: `name(inner)`.
            if let open = name.firstIndex(of: "("), name.hasSuffix(")") {
                name = String(name[name.index(after: open)..<name.index(before: name.endIndex)])
            }
            variables.append(TemplateVariable(name: name, location: location, isSection: kind == "open", sections: sections))
            if kind == "open" { sections.append(name) }
        }
        return variables
    }
}

extension TemplateVariable {
    /// The groups of the rendering context.
    static let groups: Set<String> = ["customer", "offer", "progress", "trigger", "business", "workflow"]

    /// Whether the variable names a field for `catalog`, directly or relative to an enclosing group section.
    /// Returns a diagnostic message and suggestion when it does not.
    public func check(against catalog: FieldCatalog, extraNames: Set<String> = []) -> (String, String?)? {
        if name == "." { return sections.isEmpty ? ("'.' is only meaningful inside a section", nil) : nil }
        if extraNames.contains(name) { return nil }
        if TemplateVariable.groups.contains(name) {
            if !isSection { return ("'\(name)' is a group of fields; name one, such as '\(name).\(catalog.allPaths.first { $0.hasPrefix(name + ".") }?.split(separator: ".").last ?? "id")'", nil) }
            if let trigger = catalog.trigger, !trigger.readsOffer, name == "offer" {
                return ("'offer' is only available in milestone, reward and new_offer workflows", nil)
            }
            if let trigger = catalog.trigger, !trigger.readsStampCard, name == "progress" {
                return ("'progress' is only available in milestone and reward workflows", nil)
            }
            return nil
        }
        // Try the name as written, then relative to each enclosing group section, innermost first.
        var failures: [FieldCatalog.Failure] = []
        for prefix in [""] + sections.reversed().filter({ TemplateVariable.groups.contains($0) || $0 == "customer.attributes" }).map({ $0 + "." }) {
            switch catalog.resolve(prefix + name) {
            case .success: return nil
            case .failure(let failure): failures.append(failure)
            }
        }
        if name == "customer.attributes" { return nil }
        // A field that exists but not for this trigger says more than "unknown".
        for case .unavailable(let message) in failures { return (message, nil) }
        // The innermost section's suggestion fits a relative name best; the name as written comes last.
        var suggestion: String?
        for failure in failures.dropFirst() + failures.prefix(1) {
            if case .unknown(let text?) = failure {
                suggestion = text
                break
            }
        }
        if !name.contains(".") {
            let match = catalog.allPaths.first { $0.hasSuffix("." + name) }
            return ("unknown template variable '\(name)'", match.map { "did you mean '\($0)'?" } ?? suggestion)
        }
        return ("unknown template variable '\(name)'", suggestion)
    }
}
