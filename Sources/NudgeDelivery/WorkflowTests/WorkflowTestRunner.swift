import Foundation
public import Logging
public import NudgeEngine
public import NudgeLanguage
import NudgeStore
import NudgeCore

/// What one workflow test came to.
public struct WorkflowTestResult: Sendable {
    public enum Outcome: Sendable {
        case passed
        /// A step planned other messages than it expected: the report names the step and both sides.
        case failed(String)
        /// The test could not run: bad rows, or a store error.
        case error(String)
    }

    public var file: String
    public var name: String
    public var location: SourceLocation
    public var outcome: Outcome
    /// How many `at` steps ran.
    public var steps: Int
    public var seconds: Double

    public var passed: Bool {
        if case .passed = outcome { return true }
        return false
    }
}

/// Runs workflow tests (`nudge test`): each test on a fresh in-memory database holding its file's rows, each `at`
/// step a whole run at that instant (plan, commit, delivery to an adapter that accepts everything), with the
/// project's policy and consent rules and the ledger carried from step to step.
public struct WorkflowTestRunner: Sendable {
    public var project: Project
    /// The environment the planner reads (unsubscribe link secret, erasure key), as `run` does.
    public var environment: [String: String]
    public var logger: Logger

    public init(project: Project, environment: [String: String], logger: Logger) {
        self.project = project
        self.environment = environment
        self.logger = logger
    }

    /// Runs the tests of `file` whose names `include` accepts, in order.
    public func run(_ file: WorkflowTestFile, include: (String) -> Bool = { _ in true }) async -> [WorkflowTestResult] {
        var results: [WorkflowTestResult] = []
        for test in file.tests where include(test.name) {
            let started = ContinuousClock.now
            var steps = 0
            let outcome: WorkflowTestResult.Outcome
            do {
                outcome = try await run(test, of: file, steps: &steps)
            } catch let rejected as TestDataRejected {
                outcome = .error(rejected.description)
            } catch {
                outcome = .error("\(test.location): test '\(test.name)': \(error)")
            }
            let duration = started.duration(to: .now)
            results.append(
                WorkflowTestResult(
                    file: file.file, name: test.name, location: test.location, outcome: outcome, steps: steps,
                    seconds: Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18))
        }
        return results
    }

    private func run(_ test: WorkflowTest, of file: WorkflowTestFile, steps count: inout Int) async throws -> WorkflowTestResult.Outcome {
        let database = try AppDatabase.inMemory()
        let instants = test.steps.compactMap { $0.at?.instant }
        let loader = TestDataLoader(database: database, file: file.file, zone: project.config.timeZone)
        try loader.load(file.data, now: instants.first ?? Date(timeIntervalSince1970: 0))

        let clock = TestClock()
        var dispatcher = Dispatcher(
            outbox: database, adapters: Dictionary(uniqueKeysWithValues: Channel.allCases.map { ($0, AcceptingAdapter() as any ChannelAdapter) }),
            owner: .current(nonce: Runner.randomID()), logger: logger, clock: { clock.now }, jitter: { 0.5 })
        dispatcher.policies = [:]
        let runner = Runner(
            planner: try Planner(project: project, store: database, logger: logger, environment: environment),
            dispatcher: dispatcher, logger: logger, newID: { [ids = OutboxIDs(startedAt: Date(timeIntervalSince1970: 0))] in ids.next() })

        var nextInstant = 0
        for step in test.steps {
            if !step.data.isEmpty {
                // Rows without their own time (a stamp card's updated_at) are stamped at this step's run, else the
                // next run, else the last.
                let stamp = step.at?.instant ?? (nextInstant < instants.count ? instants[nextInstant] : instants.last!)
                try loader.load(step.data, now: stamp)
            }
            guard let at = step.at else { continue }
            nextInstant += 1
            count += 1
            clock.now = at.instant
            let report = try await runner.once(now: at.instant)
            let planned = report.committed.plan.messages.map { PlannedLine(message: $0) }
            if let failure = compare(step, planned: planned, test: test) { return .failed(failure) }
        }
        return .passed
    }

    /// The step's report when its plan does not match, nil when it does.
    func compare(_ step: TestStep, planned: [PlannedLine], test: WorkflowTest) -> String? {
        let zone = project.config.timeZone
        let matches = step.expect.map { expected in planned.map { $0.mismatches(expected, zone: zone).isEmpty } }
        let pairing = Self.pairing(matches, right: planned.count)
        let missing = step.expect.indices.filter { pairing[$0] == nil }
        let taken = Set(pairing.compactMap { $0 })
        let unexpected = step.partial ? [] : planned.indices.filter { !taken.contains($0) }
        guard !missing.isEmpty || !unexpected.isEmpty else { return nil }

        let at = step.at!
        func count(_ n: Int) -> String { "\(n) message\(n == 1 ? "" : "s")" }
        var lines = [
            "\(at.location.file):\(at.location.line): test '\(test.name)', step at \(at.text): expected "
                + (step.partial ? "at least " : "") + "\(count(step.expect.count)), got \(count(planned.count))"
        ]
        for index in missing {
            let expected = step.expect[index]
            lines.append("  not planned (line \(expected.location.line)): \(Self.describe(expected))")
            // The planned message that comes closest, and how it differs.
            let free = planned.indices.filter { !taken.contains($0) }
            let candidates = free.isEmpty ? Array(planned.indices) : free
            if let closest = candidates.min(by: {
                planned[$0].mismatches(expected, zone: zone).count < planned[$1].mismatches(expected, zone: zone).count
            }) {
                let differences = planned[closest].mismatches(expected, zone: zone)
                if differences.count < expected.keys.count {
                    lines.append("    closest: \(planned[closest].summary): \(differences.joined(separator: "; "))")
                }
            }
        }
        for index in unexpected {
            lines.append("  not expected: \(planned[index].summary)")
        }
        lines.append(planned.isEmpty ? "  planned: nothing" : "  planned:")
        for line in planned { lines.append("    \(line.summary)") }
        return lines.joined(separator: "\n")
    }

    /// A largest pairing of expectations (left) with planned messages (right), `matches[l][r]` telling which may
    /// pair: each expectation's planned message, or nil. (Kuhn's augmenting paths; a step plans a handful.)
    static func pairing(_ matches: [[Bool]], right: Int) -> [Int?] {
        var owner = [Int?](repeating: nil, count: right)
        func augment(_ left: Int, _ seen: inout [Bool]) -> Bool {
            for r in 0..<right where matches[left][r] && !seen[r] {
                seen[r] = true
                if owner[r] == nil || augment(owner[r]!, &seen) {
                    owner[r] = left
                    return true
                }
            }
            return false
        }
        for left in matches.indices {
            var seen = [Bool](repeating: false, count: right)
            _ = augment(left, &seen)
        }
        var result = [Int?](repeating: nil, count: matches.count)
        for (r, left) in owner.enumerated() { if let left { result[left] = r } }
        return result
    }

    static func describe(_ expected: Expectation) -> String {
        "{ " + expected.keys.map { "\($0.key): \($0.value.map { "\"\($0)\"" } ?? "null")" }.joined(separator: ", ") + " }"
    }
}

/// A planned message as its dry-run JSON line reads: what expectations match against.
struct PlannedLine {
    var fields: [String: Any]

    init(message: PlannedMessage) {
        var out: [UInt8] = []
        message.writeJSONLine(includeRendered: true, to: &out)
        fields = (try? JSONSerialization.jsonObject(with: Data(out))) as? [String: Any] ?? [:]
    }

    func text(_ key: String) -> String? {
        switch fields[key] {
        case let text as String: return text
        case let number as NSNumber: return number.stringValue
        default: return nil
        }
    }

    /// How the message differs from `expected`, one phrase per key that does not match.
    func mismatches(_ expected: Expectation, zone: TimeZone) -> [String] {
        var found: [String] = []
        for (key, value, _) in expected.keys {
            if key.hasSuffix("_contains") {
                let field = String(key.dropLast("_contains".count))
                let actual = text(field)
                if let value, actual?.contains(value) != true {
                    found.append(
                        actual.map { "\(field) \(Self.quoted($0)) does not contain \(Self.quoted(value))" } ?? "no \(field)"
                            + (field == "text" ? " (only an email with a plain-text part has one: a message's words are in body)" : ""))
                }
                continue
            }
            let actual = text(key)
            guard let value else {
                if let actual { found.append("\(key) is \(Self.quoted(actual)), not null") }
                continue
            }
            guard let actual else {
                found.append("\(key) is null, not \(Self.quoted(value))")
                continue
            }
            let same: Bool
            if key == "due" || key == "send_after", let a = ISO8601.parse(actual, zone: zone), let b = ISO8601.parse(value, zone: zone) {
                same = a == b
            } else if key == "segments", let a = Int(actual), let b = Int(value) {
                same = a == b
            } else {
                same = actual == value
            }
            if !same { found.append("\(key) is \(Self.quoted(actual)), not \(Self.quoted(value))") }
        }
        return found
    }

    /// One line: workflow, customer, channel, status, occurrence, and the reason or the send_after.
    var summary: String {
        var parts = [text("workflow") ?? "?", text("customer") ?? "?", text("channel") ?? "-", text("status") ?? "?", text("occurrence") ?? "?"]
        if let variant = text("variant") { parts.append("variant \(variant)") }
        if let sendAfter = text("send_after") { parts.append("send_after \(sendAfter)") }
        if let reason = text("reason") { parts.append("(\(reason))") }
        if let heading = text("subject") ?? text("title") ?? text("header") { parts.append(Self.quoted(heading)) }
        return parts.joined(separator: "  ")
    }

    static func quoted(_ text: String) -> String {
        let short = text.count > 80 ? String(text.prefix(77)) + "…" : text
        return "\"" + short.replacingOccurrences(of: "\n", with: "\\n") + "\""
    }
}

/// The instant the test's dispatcher reads as "now": the step's.
final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var value = Date(timeIntervalSince1970: 0)

    var now: Date {
        get { lock.withLock { value } }
        set { lock.withLock { value = newValue } }
    }
}

/// Takes every message: a test checks what was planned, and delivery only moves the outbox along.
struct AcceptingAdapter: ChannelAdapter {
    func deliver(_ message: OutboundMessage) async throws -> DeliveryReceipt { DeliveryReceipt() }
}
