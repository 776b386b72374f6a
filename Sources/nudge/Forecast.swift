import ArgumentParser
import Foundation
import NudgeCore
import NudgeEngine
import NudgeLanguage
import NudgeStore

/// The output formats of `nudge forecast`.
enum ForecastFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json, html
}

extension NudgeCommand {
    /// `nudge forecast`: what the next days will send, and cost.
    struct ForecastCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "forecast",
            abstract: "Forecast the messages of the next days per workflow and channel, and their cost.",
            discussion: """
                Simulates a run every hour for --days days from --now, each run committed as 'nudge run' commits it \
                but in memory (the database is only read), so that the ledger, the policy's caps and consent carry \
                from run to run. No new visits, sign-ups or stamps are assumed: the state stays as it is \
                now. Costs come from 'pricing:' in nudge.yaml (an SMS is priced per segment).
                """
        )

        @OptionGroup var global: GlobalOptions

        @Option(help: "How many days to simulate (1 to 366).")
        var days = 30

        @OptionGroup var now: NowOption

        @Option(help: "table (default), json (JSON Lines on stdout, the summary on stderr) or html (a page on stdout).")
        var format: ForecastFormat = .table

        @Option(help: "Also write a page with a stacked bar chart (SVG, no network) to this file.")
        var html: String?

        func validate() throws {
            guard (1...366).contains(days) else { throw ValidationError("'--days' must be between 1 and 366") }
        }

        func run() async throws {
            let project = try loadProject(global)
            let instant = try now.instant(in: project.config.timeZone)
            let forecast = try await withStore(
                project.databasePath(override: global.db), config: project.config, global: global, reading: true
            ) { store in
                try await Forecast.simulate(
                    project: project, store: store, now: instant, days: days, environment: ProcessInfo.processInfo.environment)
            }
            let report = ForecastReport(forecast: forecast, config: project.config)
            switch format {
            case .table: Console.out(report.table)
            case .json:
                if !forecast.rows.isEmpty { Console.out(report.jsonLines) }
                Console.error(report.summary)
            case .html: Console.out(report.page)
            }
            if let html {
                do {
                    try Data(report.page.utf8).write(to: URL(fileURLWithPath: html), options: .atomic)
                } catch {
                    Console.error("\(html): error: cannot write the page: \(error.localizedDescription)")
                    throw ExitCode(1)
                }
                Console.error("wrote \(html)")
            }
        }
    }
}

/// A forecast as a table, JSON Lines or an HTML page.
struct ForecastReport {
    var forecast: Forecast
    var config: ProjectConfig

    var assumption: String {
        "a run every hour for \(forecast.days) day\(forecast.days == 1 ? "" : "s") from "
            + "\(ISO8601.format(forecast.from, in: config.timeZone)); no new visits, sign-ups or stamps assumed"
    }

    func money(_ value: Double?) -> String {
        value.map { String(format: "%.4f", $0) } ?? "-"
    }

    var pricing: String {
        guard !config.pricing.isEmpty else { return "no pricing: in nudge.yaml, so no costs" }
        return "pricing: " + Channel.allCases.compactMap { channel in
            config.pricing[channel].map { "\(channel.rawValue) " + String(format: "%g", $0) + (channel == .sms ? " a segment" : "") }
        }.joined(separator: ", ")
    }

    var summary: String {
        "\(forecast.totalMessages) messages, cost \(money(forecast.totalCost)); \(forecast.suppressed) suppressed "
            + "(consent, caps); \(assumption); \(pricing)"
    }

    var table: String {
        var rows = [["DAY", "WORKFLOW", "CHANNEL", "MESSAGES", "SEGMENTS", "COST"]]
        for row in forecast.rows {
            rows.append([
                row.day.description, row.workflowID, row.channel.rawValue, String(row.messages),
                row.channel == .sms ? String(row.segments) : "", money(row.cost),
            ])
        }
        var lines = ["forecast: \(assumption)"]
        lines.append(forecast.rows.isEmpty ? "nothing would be sent" : formatTable(rows))
        let byWorkflow = Dictionary(grouping: forecast.rows, by: \.workflowID).sorted { $0.key < $1.key }
        if !byWorkflow.isEmpty {
            lines.append("")
            var totals = [["WORKFLOW", "MESSAGES", "COST"]]
            for (workflow, rows) in byWorkflow {
                let cost = rows.contains { $0.cost != nil } ? rows.reduce(0) { $0 + ($1.cost ?? 0) } : nil
                totals.append([workflow, String(rows.reduce(0) { $0 + $1.messages }), money(cost)])
            }
            lines.append(formatTable(totals))
        }
        lines.append("total: " + summary)
        return lines.joined(separator: "\n")
    }

    var jsonLines: String {
        forecast.rows.map { row in
            JSONText.object([
                ("day", row.day.description), ("workflow", row.workflowID), ("channel", row.channel.rawValue),
                ("messages", row.messages), ("segments", row.channel == .sms ? row.segments : nil), ("cost", row.cost.map { JSONText.Raw(Self.decimal($0)) }),
            ])
        }.joined(separator: "\n")
    }

    /// A page with one stacked bar a day (a colour a workflow), its legend and the table; nothing loaded from the network.
    var page: String {
        let days = forecast.dayList
        let workflows = Array(Set(forecast.rows.map(\.workflowID))).sorted()
        let palette = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"]
        var perDay: [LocalDate: [String: Int]] = [:]
        for row in forecast.rows { perDay[row.day, default: [:]][row.workflowID, default: 0] += row.messages }
        let highest = max(1, perDay.values.map { $0.values.reduce(0, +) }.max() ?? 1)
        let (barWidth, gap, height, left, top) = (18, 6, 240, 48, 16)
        let width = left + days.count * (barWidth + gap) + 16
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height + top + 60)\" role=\"img\" aria-label=\"Messages per day\">"
        svg += "<line x1=\"\(left)\" y1=\"\(top + height)\" x2=\"\(width - 8)\" y2=\"\(top + height)\" stroke=\"#999\"/>"
        svg += "<text x=\"\(left - 6)\" y=\"\(top + 10)\" text-anchor=\"end\" font-size=\"11\">\(highest)</text>"
        svg += "<text x=\"\(left - 6)\" y=\"\(top + height)\" text-anchor=\"end\" font-size=\"11\">0</text>"
        for (index, day) in days.enumerated() {
            let x = left + index * (barWidth + gap)
            var y = top + height
            for (w, workflow) in workflows.enumerated() {
                let count = perDay[day]?[workflow] ?? 0
                guard count > 0 else { continue }
                let barHeight = max(1, count * height / highest)
                y -= barHeight
                svg += "<rect x=\"\(x)\" y=\"\(y)\" width=\"\(barWidth)\" height=\"\(barHeight)\" fill=\"\(palette[w % palette.count])\">"
                svg += "<title>\(Self.escape(day.description)) \(Self.escape(workflow)): \(count)</title></rect>"
            }
            svg += "<text x=\"\(x + barWidth / 2)\" y=\"\(top + height + 14)\" font-size=\"9\" text-anchor=\"end\" transform=\"rotate(-60 \(x + barWidth / 2) \(top + height + 14))\">\(String(day.description.suffix(5)))</text>"
        }
        svg += "</svg>"
        var legend = ""
        for (w, workflow) in workflows.enumerated() {
            legend += "<li><span style=\"background:\(palette[w % palette.count])\"></span>\(Self.escape(workflow))</li>"
        }
        var rows = ""
        for row in forecast.rows {
            rows += "<tr><td>\(row.day)</td><td>\(Self.escape(row.workflowID))</td><td>\(row.channel.rawValue)</td>"
                + "<td class=\"n\">\(row.messages)</td><td class=\"n\">\(row.channel == .sms ? String(row.segments) : "")</td>"
                + "<td class=\"n\">\(money(row.cost))</td></tr>"
        }
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>\(Self.escape(config.businessName)): forecast</title>
            <style>body{font-family:system-ui,sans-serif;margin:2rem;color:#222}ul{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:1rem}
            li span{display:inline-block;width:.9rem;height:.9rem;margin-right:.3rem;vertical-align:middle}
            table{border-collapse:collapse}td,th{padding:.2rem .6rem;border-bottom:1px solid #ddd;text-align:left}.n{text-align:right}</style>
            </head><body>
            <h1>\(Self.escape(config.businessName)): the next \(forecast.days) days</h1>
            <p>\(Self.escape(assumption)).</p>
            <p><strong>\(forecast.totalMessages) messages, cost \(money(forecast.totalCost))</strong>; \(forecast.suppressed) suppressed (consent, caps). \(Self.escape(pricing)).</p>
            \(svg)
            <ul>\(legend)</ul>
            <table><thead><tr><th>Day</th><th>Workflow</th><th>Channel</th><th class="n">Messages</th><th class="n">Segments</th><th class="n">Cost</th></tr></thead>
            <tbody>\(rows)</tbody></table>
            </body></html>
            """
    }

    /// A cost in JSON with up to six decimals (prices are fractions of a cent).
    static func decimal(_ value: Double) -> String {
        var text = String(format: "%.6f", value)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
