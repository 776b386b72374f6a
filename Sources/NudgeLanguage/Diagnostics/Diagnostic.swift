/// A place in a source file: 1-based line and column (0 when unknown).
public struct SourceLocation: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The file's path as the user gave it (relative to the project where possible).
    public var file: String
    /// 1-based line; 0 when only the file is known.
    public var line: Int
    /// 1-based column; 0 when only the line is known.
    public var column: Int

    /// Creates a location.
    public init(file: String, line: Int = 0, column: Int = 0) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// The location `offset` columns to the right on the same line.
    public func advanced(by offset: Int) -> SourceLocation {
        SourceLocation(file: file, line: line, column: column + offset)
    }

    /// `FILE:LINE:COL`, leaving out what is unknown.
    public var description: String {
        guard line > 0 else { return file }
        guard column > 0 else { return "\(file):\(line)" }
        return "\(file):\(line):\(column)"
    }

    public static func < (lhs: SourceLocation, rhs: SourceLocation) -> Bool {
        (lhs.file, lhs.line, lhs.column) < (rhs.file, rhs.line, rhs.column)
    }
}

/// One finding of `nudge check`, printed compiler-style.
public struct Diagnostic: Sendable, Hashable, Comparable, CustomStringConvertible, Codable {
    /// How bad a finding is.
    public enum Severity: String, Sendable, Hashable, Codable {
        case error
        case warning
    }

    /// Error or warning.
    public var severity: Severity
    /// What is wrong, without customer data.
    public var message: String
    /// Where it is.
    public var location: SourceLocation
    /// How to fix it, when one fits (for example a did-you-mean).
    public var suggestion: String?

    /// Creates a diagnostic.
    public init(_ severity: Severity, _ message: String, at location: SourceLocation, suggestion: String? = nil) {
        self.severity = severity
        self.message = message
        self.location = location
        self.suggestion = suggestion
    }

    /// An error at `location`.
    public static func error(_ message: String, at location: SourceLocation, suggestion: String? = nil) -> Diagnostic {
        Diagnostic(.error, message, at: location, suggestion: suggestion)
    }

    /// A warning at `location`.
    public static func warning(_ message: String, at location: SourceLocation, suggestion: String? = nil) -> Diagnostic
    {
        Diagnostic(.warning, message, at: location, suggestion: suggestion)
    }

    /// `PATH:LINE:COL: error: message (suggestion)`.
    public var description: String {
        var text = "\(location): \(severity.rawValue): \(message)"
        if let suggestion { text += " (\(suggestion))" }
        return text
    }

    public static func < (lhs: Diagnostic, rhs: Diagnostic) -> Bool {
        if lhs.location != rhs.location { return lhs.location < rhs.location }
        return lhs.message < rhs.message
    }

    enum CodingKeys: String, CodingKey {
        case severity, message, file, line, column, suggestion
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        severity = try container.decode(Severity.self, forKey: .severity)
        message = try container.decode(String.self, forKey: .message)
        location = SourceLocation(
            file: try container.decode(String.self, forKey: .file),
            line: try container.decode(Int.self, forKey: .line),
            column: try container.decode(Int.self, forKey: .column)
        )
        suggestion = try container.decodeIfPresent(String.self, forKey: .suggestion)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(severity, forKey: .severity)
        try container.encode(message, forKey: .message)
        try container.encode(location.file, forKey: .file)
        try container.encode(location.line, forKey: .line)
        try container.encode(location.column, forKey: .column)
        try container.encodeIfPresent(suggestion, forKey: .suggestion)
    }
}

/// Diagnostics collected across a whole project, so that `check` reports every problem at once.
public struct Diagnostics: Sendable {
    /// Everything found so far, in the order found.
    public private(set) var all: [Diagnostic] = []

    /// An empty collection.
    public init() {}

    /// Adds one diagnostic.
    public mutating func append(_ diagnostic: Diagnostic) {
        all.append(diagnostic)
    }

    /// Adds many.
    public mutating func append(contentsOf diagnostics: some Sequence<Diagnostic>) {
        all.append(contentsOf: diagnostics)
    }

    /// Records an error.
    public mutating func error(_ message: String, at location: SourceLocation, suggestion: String? = nil) {
        append(.error(message, at: location, suggestion: suggestion))
    }

    /// Records a warning.
    public mutating func warning(_ message: String, at location: SourceLocation, suggestion: String? = nil) {
        append(.warning(message, at: location, suggestion: suggestion))
    }

    /// Whether any error (not warning) was found.
    public var hasErrors: Bool { all.contains { $0.severity == .error } }
    /// How many errors there are.
    public var errorCount: Int { all.count { $0.severity == .error } }

    /// Sorted by file, line, column; duplicates removed.
    public var sorted: [Diagnostic] {
        var seen = Set<Diagnostic>()
        return all.sorted().filter { seen.insert($0).inserted }
    }
}

/// Thrown when a project has errors; carries every diagnostic found.
public struct ProjectError: Error, Sendable, CustomStringConvertible {
    /// The sorted diagnostics, warnings included.
    public var diagnostics: [Diagnostic]

    /// Creates the error.
    public init(diagnostics: [Diagnostic]) {
        self.diagnostics = diagnostics
    }

    public var description: String {
        diagnostics.map(\.description).joined(separator: "\n")
    }
}
