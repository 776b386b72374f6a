import ArgumentParser
import AsyncHTTPClient
import Foundation
import GRDB
import Logging
import NudgeDelivery
import NudgeEngine
import NudgeLanguage
import NudgeProviders
import NudgeStore
import ServiceLifecycle
import UnixSignals
import NudgeCore

extension NudgeCommand {
    /// `nudge run`: evaluates, commits the plan, delivers; `--every` repeats until SIGTERM/SIGINT.
    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "run",
            abstract: "Commit today's plan and deliver it; with --every, keep doing so on a timer.",
            discussion: """
                The ledger and outbox rows of the plan are committed in one transaction, then delivered. A run \
                killed at any point and started again delivers every committed message exactly once to the file \
                provider, and at least once with the same webhook-id to webhooks. Overlapping runs never plan the \
                same occurrence twice. With --every, SIGTERM or SIGINT finishes the deliveries in flight and exits 0.
                """
        )

        @OptionGroup var global: GlobalOptions

        @Option(help: "Evaluate at this instant (ISO 8601; default: now). Not with --every.")
        var now: String?

        @Option(help: "Repeat on a timer, e.g. 15m; a run that overruns delays the next one.")
        var every: String?

        @Option(help: .hidden)
        var batchSize = 1000

        @Option(help: .hidden)
        var leaseSeconds = 300.0

        func validate() throws {
            try validateNow(now)
            if let every {
                guard let duration = DurationSpec(parsing: every), duration.seconds > 0 else {
                    throw ValidationError("'--every \(every)' must be a duration such as 30m, 1h or 1d")
                }
                if now != nil { throw ValidationError("'--now' and '--every' cannot be combined") }
            }
            guard batchSize > 0 else { throw ValidationError("'--batch-size' must be at least 1") }
        }

        func run() async throws {
            let project = try loadProject(global)
            let logger = global.makeLogger()
            let environment = ProcessInfo.processInfo.environment
            try requireSecrets(project.config, environment: environment)
            try await withStore(project.databasePath(override: global.db), config: project.config, global: global) { store in
                let box = HTTPClientBox()
                defer { box.shutdown() }
                let adapters: [NudgeCore.Channel: any ChannelAdapter]
                do {
                    adapters = try Providers.makeAdapters(
                        project.config, environment: environment, httpClient: { box.client },
                        resolve: { project.resolve($0) }, passes: store)
                } catch let error as Adapters.ConfigurationError {
                    Console.error("nudge.yaml: error: \(error)")
                    throw ExitCode(1)
                }
                var dispatcher = Dispatcher(
                    outbox: store, adapters: adapters, owner: .current(nonce: Runner.randomID()),
                    leaseSeconds: leaseSeconds, batchSize: batchSize, logger: logger)
                dispatcher.policies = Adapters.retryPolicies(project.config)
                dispatcher.mask = SecretMask(config: project.config, environment: environment)
                let runner = Runner(
                    planner: try Planner(project: project, store: store, logger: logger, environment: environment),
                    dispatcher: dispatcher,
                    logger: logger, newID: { [ids = OutboxIDs()] in ids.next() },
                    drainWindow: every == nil ? project.config.drainWindow : 0)

                if let every, let interval = DurationSpec(parsing: every) {
                    let service = RepeatingRun(runner: runner, interval: TimeInterval(interval.seconds), logger: logger)
                    let group = ServiceGroup(
                        configuration: .init(
                            services: [.init(service: service, successTerminationBehavior: .gracefullyShutdownGroup)],
                            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
                    Console.error("running every \(every); stop with SIGTERM or Ctrl-C")
                    try await group.run()
                    Console.error("stopped")
                    return
                }
                guard let instant = parseNow(now, zone: project.config.timeZone) else {
                    throw ValidationError("'--now' is not an ISO 8601 instant")
                }
                let dispatched = try await runOnce(runner, now: instant)
                if dispatched.failed > 0 { Console.error("some messages failed: see 'nudge status' and 'nudge history CUSTOMER'") }
            }
        }
    }
}

/// One run with its summary on stderr, then the customer model's refit when it is due and the plan did not wait
/// for it; errors are reported plainly.
@discardableResult
func runOnce(_ runner: Runner, now: Date) async throws -> DispatchSummary {
    let dispatched = try await deliverOnce(runner, now: now)
    // The run's report (its plan's rendered messages) is gone by now: the fit reuses that memory.
    if let seconds = await runner.refitIfDue(now: now) {
        Console.error(String(format: "refitted the customer model in %.2f s", seconds))
    }
    return dispatched
}

/// Plans, commits and delivers once, with the summary on stderr.
func deliverOnce(_ runner: Runner, now: Date) async throws -> DispatchSummary {
    do {
        let report = try await runner.once(now: now)
        let plan = report.committed.plan
        let sent = report.dispatched
        var line =
            "run at \(ISO8601.format(now)): planned \(report.committed.pendingIDs.count) to send, "
            + "\(report.committed.suppressed) suppressed (\(plan.alreadySent) already sent); "
            + "delivered \(sent.delivered), retrying \(sent.retrying), failed \(sent.failed)"
        if sent.recovered > 0 { line += " (\(sent.recovered) found already written after an interruption)" }
        line += String(format: "; planned in %.3f s, delivered in %.3f s", report.commitSeconds, report.deliverySeconds)
        if sent.delivered > 0 {
            line += String(format: " (%.0f messages/s)", Double(sent.delivered) / max(report.deliverySeconds, 1e-9))
        }
        Console.error(line)
        for done in report.afterRun where done.updated + done.failed > 0 {
            Console.error("updated \(done.updated) \(done.what)" + (done.failed > 0 ? ", \(done.failed) failed (see the log)" : ""))
        }
        return sent
    } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED {
        // The plan commits in one transaction, and delivery records batch by batch: what was committed stays.
        Console.error(
            "error: the database is locked by another process (waited 10 s); what this run committed stays, and the next run delivers what is left: try again")
        throw ExitCode(1)
    } catch let error as DatabaseError where error.resultCode == .SQLITE_FULL {
        Console.error("error: the disk is full; what this run committed stays, and the next run delivers what is left")
        throw ExitCode(1)
    }
}

/// `--every`: runs, then sleeps until the next run or the next retry, whichever comes first. A run that
/// overruns the interval delays the next one; a graceful shutdown lets the run in flight finish.
struct RepeatingRun: Service {
    var runner: Runner
    var interval: TimeInterval
    var logger: Logger

    func run() async throws {
        var nextRun = Date()
        while !Task.isShuttingDownGracefully {
            let now = Date()
            do {
                if now >= nextRun {
                    try await runOnce(runner, now: now)
                    nextRun = max(now.addingTimeInterval(interval), Date())
                } else {
                    let summary = try await runner.dispatcher.drain()
                    if summary.delivered + summary.failed + summary.retrying > 0 {
                        Console.error("retries: delivered \(summary.delivered), retrying \(summary.retrying), failed \(summary.failed)")
                    }
                }
            } catch {
                logger.error("run failed: \(error)")
                nextRun = max(nextRun, Date().addingTimeInterval(min(interval, 60)))
            }
            let retryAt = (try? await runner.dispatcher.outbox.nextPendingAttempt()) ?? nil
            let wake = min(nextRun, max(retryAt ?? nextRun, Date().addingTimeInterval(0.5)))
            let seconds = max(0, wake.timeIntervalSinceNow)
            try? await cancelWhenGracefulShutdown {
                try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
            }
        }
    }
}

/// Creates the HTTP client only when a webhook needs it, and shuts it down.
final class HTTPClientBox: @unchecked Sendable {
    private var created: HTTPClient?
    private let lock = NSLock()

    var client: HTTPClient {
        lock.withLock {
            if let created { return created }
            let client = Adapters.makeHTTPClient()
            created = client
            return client
        }
    }

    func shutdown() {
        lock.withLock {
            try? created?.syncShutdown()
            created = nil
        }
    }
}
