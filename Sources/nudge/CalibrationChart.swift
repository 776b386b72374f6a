import Foundation
import NudgeEngine
import NudgeCore

/// The page `nudge model show --html` writes: the tracking plot of Fader, Hardie & Lee (expected and actual
/// cumulative repeat visits, week by week) and the distribution of P(alive), as inline SVG with no script.
struct CalibrationChart {
    let fit: ModelFitRecord
    let calibration: Calibration
    let business: String

    var html: String {
        """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>Customer model · \(escape(business))</title>
        <style>body{font:14px system-ui,sans-serif;margin:2em;color:#222}h1{font-size:20px}h2{font-size:16px;margin-top:2em}
        svg{background:#fafafa;border:1px solid #ddd}.actual{stroke:#1f6feb}.expected{stroke:#d9480f;stroke-dasharray:6 4}
        td,th{padding:2px 10px;text-align:left}</style></head><body>
        <h1>Customer model of \(escape(business))</h1>
        <p>Fitted at \(ISO8601.format(fit.fittedAt)) on \(fit.customers) customers with visits (\(fit.repeatCustomers) came back).</p>
        <table><tr><th>BG/NBD</th><td>r = \(f(fit.r))</td><td>α = \(f(fit.alpha))</td><td>a = \(f(fit.a))</td><td>b = \(f(fit.b))</td><td>log-likelihood \(String(format: "%.2f", fit.bgnbdLogLikelihood))</td></tr>
        \(fit.p.map { p in "<tr><th>Gamma-Gamma</th><td>p = \(f(p))</td><td>q = \(f(fit.q ?? 0))</td><td>v = \(f(fit.v ?? 0))</td><td></td><td>log-likelihood \(String(format: "%.2f", fit.gammaGammaLogLikelihood ?? 0))</td></tr>" } ?? "")
        </table>
        <h2>Cumulative repeat visits: actual and expected</h2>
        <p>Week by week since \(ISO8601.format(calibration.origin)): the line the model expects from when each customer first came, against the repeat visits recorded. Close lines mean the model describes these customers well.</p>
        \(tracking)
        <h2>How likely customers are still active (P(alive))</h2>
        \(histogram)
        </body></html>

        """
    }

    func f(_ value: Double) -> String { String(format: "%.4f", value) }

    func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    var tracking: String {
        let (width, height, margin) = (720.0, 320.0, 50.0)
        let top = max(1, Double(calibration.actual.max() ?? 0), calibration.expected.max() ?? 0)
        let count = max(1, calibration.actual.count - 1)
        func point(_ i: Int, _ value: Double) -> String {
            let x = margin + (width - 2 * margin) * Double(i) / Double(count)
            let y = height - margin - (height - 2 * margin) * value / top
            return String(format: "%.1f,%.1f", x, y)
        }
        let actual = calibration.actual.enumerated().map { point($0.offset, Double($0.element)) }.joined(separator: " ")
        let expected = calibration.expected.enumerated().map { point($0.offset, $0.element) }.joined(separator: " ")
        let weeks = calibration.actual.count * calibration.stepWeeks
        return """
            <svg width="\(Int(width))" height="\(Int(height))" role="img" aria-label="tracking plot">
            <polyline class="actual" fill="none" stroke-width="2" points="\(actual)"/>
            <polyline class="expected" fill="none" stroke-width="2" points="\(expected)"/>
            <text x="\(margin)" y="20">\(Int(top)) repeat visits</text>
            <text x="\(width - margin - 60)" y="\(height - 15)">week \(weeks)</text>
            <text x="\(margin)" y="\(height - 15)">week 0</text>
            <text x="\(width - 260)" y="20" fill="#1f6feb">— actual</text><text x="\(width - 170)" y="20" fill="#d9480f">- - expected</text>
            </svg>
            """
    }

    var histogram: String {
        let (width, height, margin) = (720.0, 240.0, 40.0)
        let top = Double(max(1, calibration.pAlive.max() ?? 0))
        let bar = (width - 2 * margin) / Double(max(1, calibration.pAlive.count))
        let bars = calibration.pAlive.enumerated().map { index, count in
            let h = (height - 2 * margin) * Double(count) / top
            return String(
                format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#1f6feb\"><title>%d customers</title></rect>"
                    + "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\">%.1f</text>",
                margin + bar * Double(index) + 2, height - margin - h, bar - 4, h, count,
                margin + bar * Double(index) + 2, height - margin + 15, Double(index) / 10)
        }.joined()
        return """
            <svg width="\(Int(width))" height="\(Int(height))" role="img" aria-label="P(alive) distribution">\(bars)
            <text x="\(margin)" y="20">\(Int(top)) customers</text></svg>
            """
    }
}
