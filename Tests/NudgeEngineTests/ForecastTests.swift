import Foundation
import GRDB
import NudgeCore
import NudgeEngine
import NudgeStore
import Testing

@Suite("Forecast (nudge forecast)")
struct ForecastTests {
    @Test("runs on the hour in memory: each occurrence once, caps carried, SMS priced per segment, the store untouched; PostgreSQL alike")
    func simulate() async throws {
        let config = Fixture.defaultConfig + """

            policy:
              caps:
                - { channel: sms, max: 1, per: 7d }
            pricing: { email: 0.001, sms: 0.01 }
            """
        let fixture = try Fixture(
            config: config,
            workflows: [
                "w.yaml": """
                    id: w
                    trigger:
                      inactivity: { days: [30, 31] }
                    actions:
                      - send: { channel: [email, sms], template: t }
                    catch_up: 2d
                    """
            ])
        // Ana by email on both days; Bo by SMS, the second capped; Cy quiet until day 40.
        try fixture.add("ana", visits: ["2026-09-20T14:00:00Z"])
        try fixture.add("bo", emailOptIn: false, phone: "+15555550101", visits: ["2026-09-20T14:00:00Z"])
        try fixture.add("cy", visits: ["2026-10-10T14:00:00Z"])
        let project = try fixture.project()
        let now = try #require(ISO8601.parse("2026-10-20T00:00:00-04:00", zone: .gmt))
        let forecast = try await Forecast.simulate(
            project: project, store: fixture.database, now: now, days: 3, environment: [:])
        #expect(forecast.runs == 72)
        let rows = forecast.rows.map { "\($0.day) \($0.workflowID) \($0.channel.rawValue) \($0.messages) \($0.segments)" }
        #expect(
            rows == [
                "2026-10-20 w email 1 0", "2026-10-20 w sms 1 1",
                "2026-10-21 w email 1 0",
            ], "\(rows)")
        #expect(forecast.suppressed == 1)
        #expect(forecast.totalMessages == 3)
        let cost = try #require(forecast.totalCost)
        #expect(abs(cost - (0.001 * 2 + 0.01)) < 1e-9)
        #expect(forecast.dayList.map(\.description) == ["2026-10-20", "2026-10-21"])
        // The simulation committed in memory only.
        let ledger = try await fixture.database.writer.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM ledger") }
        #expect(ledger == 0)
        // The same forecast on a PostgreSQL copy of the rows.
        guard PostgresTwin.isEnabled else { return }
        try await PostgresTwin.withCopy(of: fixture.database) { store in
            let twin = try await Forecast.simulate(project: project, store: store, now: now, days: 3, environment: [:])
            #expect(twin.rows == forecast.rows && twin.suppressed == forecast.suppressed)
        }
    }

    @Test("a journey's later steps follow from the simulated ledger")
    func journey() async throws {
        let fixture = try Fixture(workflow: """
            trigger:
              inactivity: { days: [30] }
            actions:
              - send: { channel: email, template: t }
              - wait: 7d
              - send: { channel: email, template: t }
            """)
        try fixture.add("ana", visits: ["2026-09-20T14:00:00Z"])
        let now = try #require(ISO8601.parse("2026-10-20T00:00:00-04:00", zone: .gmt))
        let forecast = try await Forecast.simulate(
            project: try fixture.project(), store: fixture.database, now: now, days: 10, environment: [:])
        #expect(forecast.rows.map { "\($0.day) \($0.messages)" } == ["2026-10-20 1", "2026-10-27 1"])
    }
}
