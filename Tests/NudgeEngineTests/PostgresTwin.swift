import Foundation
import NudgeEngine
import NudgeLanguage
import NudgePostgres
import NudgeStore
import NudgeTestSupport
import Testing

/// Every plan the engine tests make on SQLite is made again on PostgreSQL from the same rows, when the tests have a
/// PostgreSQL server (`NUDGE_TEST_POSTGRES_URL`; `.ci/run` starts one): the two plans must be the same, message
/// for message and count for count. So every trigger, condition and policy test runs on both stores.
enum PostgresTwin {
    /// Whether the second store is used; says once why not.
    static let isEnabled = PostgresServer.isUsed("engine tests plan")

    /// Plans on a fresh PostgreSQL database holding the rows of `source` and expects `plan`.
    static func expectSamePlan(
        _ plan: Plan, project: Project, source: AppDatabase, now: Date, workflows: Set<String>? = nil, render: Bool,
        sourceLocation: Testing.SourceLocation = #_sourceLocation
    ) async throws {
        guard isEnabled else { return }
        try await withCopy(of: source) { store in
            let twin = try await Planner(project: project, store: store).plan(now: now, workflowIDs: workflows, render: render)
            let expected: [String] = plan.messages.map { $0.jsonLine(includeRendered: true) }
            let planned: [String] = twin.messages.map { $0.jsonLine(includeRendered: true) }
            #expect(planned == expected, "PostgreSQL plans other messages", sourceLocation: sourceLocation)
            let counts: [Int] = [twin.candidates, twin.alreadySent, twin.filteredOut]
            #expect(
                counts == [plan.candidates, plan.alreadySent, plan.filteredOut], "PostgreSQL counts otherwise",
                sourceLocation: sourceLocation)
        }
    }

    /// Runs `body` on a fresh PostgreSQL database holding the rows of `source` (its outbox too), then drops it.
    static func withCopy(of source: AppDatabase, _ body: (PostgresStore) async throws -> Void) async throws {
        let (store, url) = try await PostgresServer.freshStore()
        do {
            try await store.replaceContents(from: source, messages: true)
            try await body(store)
        } catch {
            // PSQLError's description hides the server's message; the log of a failed run needs it.
            print("PostgreSQL twin failed: \(String(reflecting: error))")
            await store.close()
            try? await PostgresServer.drop(url)
            throw error
        }
        await store.close()
        try await PostgresServer.drop(url)
    }

    /// Makes `nudge workflows`' overview again on a PostgreSQL copy of `source` (its outbox too) and expects `lines`.
    static func expectSameOverview(
        _ lines: [WorkflowOverview], project: Project, source: AppDatabase, now: Date,
        sourceLocation: Testing.SourceLocation = #_sourceLocation
    ) async throws {
        guard isEnabled else { return }
        func shown(_ lines: [WorkflowOverview]) -> [String] {
            lines.map { "\($0.workflow.id) \($0.status) \($0.delivered7d) \($0.delivered30d) \(String(describing: $0.nextDue))" }
        }
        try await withCopy(of: source) { store in
            let delivered = try await store.deliveredCounts(
                after: [now.addingTimeInterval(-7 * 86_400), now.addingTimeInterval(-30 * 86_400)], through: now)
            let twin = try await Planner(project: project, store: store).workflowOverview(now: now, delivered: delivered)
            #expect(shown(twin) == shown(lines), "PostgreSQL shows other workflows", sourceLocation: sourceLocation)
        }
    }
}
