import ArgumentParser
import Foundation
import NudgeEngine
import NudgeLanguage
import NudgeStore
import NudgeCore

extension NudgeCommand {
    /// `nudge model fit` and `nudge model show`: the customer model (BG/NBD and Gamma-Gamma).
    struct Model: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "model",
            abstract: "Fit the customer model on the visits, or show the stored fit.",
            discussion: """
                BG/NBD (visit frequency and churn) and Gamma-Gamma (spend per visit), fitted by maximum likelihood \
                on every customer's visits up to --now. Their fields (p_alive, churn_risk, expected_visits_90d, \
                avg_spend, clv) use the stored fit; 'nudge run' refits when it is older than intelligence.refit.
                """,
            subcommands: [Fit.self, Show.self]
        )

        struct Fit: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "fit", abstract: "Fit both models on the visits up to --now and store the fit.")

            @OptionGroup var global: GlobalOptions

            @OptionGroup var now: NowOption

            func run() async throws {
                let settings = try loadSettings(global)
                let instant = try now.instant(in: settings.config.timeZone)
                let started = Date()
                let fit = try await withStore(settings.databasePath, config: settings.config, global: global) { store in
                    try await ModelFitter(store: store, config: settings.config, logger: global.makeLogger()).fit(now: instant)
                }
                guard let fit else {
                    Console.error("error: no customer has visits up to \(ISO8601.format(instant)): nothing to fit")
                    throw ExitCode(1)
                }
                Console.out(Show.table(fit))
                Console.error(String(format: "fitted in %.2f s", Date().timeIntervalSince(started)))
            }
        }

        struct Show: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "show", abstract: "The stored fit: parameters, log-likelihoods, what it was fitted on.")

            @OptionGroup var global: GlobalOptions

            @Option(help: "table (default) or json.")
            var format: PlanFormat = .table

            @Option(help: "Also write the calibration chart (expected and actual repeat visits, P(alive)) to this HTML file.")
            var html: String?

            func run() async throws {
                let settings = try loadSettings(global)
                let fit = try await withStore(settings.databasePath, config: settings.config, global: global, reading: true) {
                    try await $0.latestModelFit()
                }
                guard let fit else {
                    Console.error("error: no customer model fitted yet; run 'nudge model fit'")
                    throw ExitCode(1)
                }
                switch format {
                case .json: Console.out(Self.json(fit))
                case .table: Console.out(Self.table(fit))
                }
                if let html {
                    guard let calibration = Calibration(stored: fit) else {
                        Console.error("error: the stored fit has no calibration data; run 'nudge model fit' again")
                        throw ExitCode(1)
                    }
                    do {
                        try CalibrationChart(fit: fit, calibration: calibration, business: settings.config.businessName).html
                            .write(toFile: html, atomically: true, encoding: .utf8)
                    } catch {
                        Console.error("error: cannot write \(html): \(error.localizedDescription)")
                        throw ExitCode(1)
                    }
                    Console.error("wrote \(html)")
                }
            }

            /// A number in full (JSON and the table show the fitted values, not rounded ones).
            static func number(_ value: Double) -> JSONText.Raw { JSONText.Raw(value.isFinite ? "\(value)" : "null") }

            static func json(_ fit: ModelFitRecord) -> String {
                var gammaGamma: Any? = nil
                if let p = fit.p, let q = fit.q, let v = fit.v {
                    gammaGamma = JSONText.Raw(
                        JSONText.object([
                            ("p", number(p)), ("q", number(q)), ("v", number(v)),
                            ("log_likelihood", fit.gammaGammaLogLikelihood.map(number)),
                        ]))
                }
                return JSONText.object([
                    (
                        "bgnbd",
                        JSONText.Raw(
                            JSONText.object([
                                ("r", number(fit.r)), ("alpha", number(fit.alpha)), ("a", number(fit.a)), ("b", number(fit.b)),
                                ("log_likelihood", number(fit.bgnbdLogLikelihood)),
                            ]))
                    ),
                    ("gamma_gamma", gammaGamma), ("customers", fit.customers), ("repeat_customers", fit.repeatCustomers),
                    ("fitted_at", ISO8601.format(fit.fittedAt)),
                ])
            }

            static func table(_ fit: ModelFitRecord) -> String {
                func f(_ value: Double) -> String { String(format: "%.4f", value) }
                var rows = [
                    ["MODEL", "PARAMETERS", "LOG-LIKELIHOOD"],
                    [
                        "BG/NBD (visits, churn)", "r \(f(fit.r))  alpha \(f(fit.alpha))  a \(f(fit.a))  b \(f(fit.b))",
                        String(format: "%.2f", fit.bgnbdLogLikelihood),
                    ],
                ]
                if let p = fit.p, let q = fit.q, let v = fit.v, let ll = fit.gammaGammaLogLikelihood {
                    rows.append(["Gamma-Gamma (spend)", "p \(f(p))  q \(f(q))  v \(f(v))", String(format: "%.2f", ll)])
                } else {
                    rows.append(["Gamma-Gamma (spend)", "not fitted: no repeat customer spent anything", ""])
                }
                return formatTable(rows)
                    + "\nfitted at \(ISO8601.format(fit.fittedAt)) on \(fit.customers) customers with visits "
                    + "(\(fit.repeatCustomers) came back)"
            }
        }
    }
}
