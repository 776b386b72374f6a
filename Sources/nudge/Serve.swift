import ArgumentParser
import Foundation
import Hummingbird
import NudgeEngine
import NudgeLanguage
import NudgeProviders
import NudgeServer
import NudgeStore
import UnixSignals

extension NudgeCommand {
    /// `nudge serve`: receives delivery events, SMS opt-outs and unsubscribes until SIGTERM/SIGINT.
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "serve",
            abstract: "Receive delivery events, SMS opt-outs and unsubscribe clicks, and serve Apple Wallet pass updates, over HTTP.",
            discussion: """
                Routes: \(Providers.webhookPaths.joined(separator: ", ")): the providers' webhooks (POST; each \
                verifies its provider's signature with a key named in nudge.yaml and read from the environment) and \
                Apple's PassKit web service for apple_wallet passes (each request about a pass carries the pass's \
                token); each answers 503 without its keys. GET and POST /unsubscribe/TOKEN, GET /healthz. Binds the loopback address unless --host says otherwise; put it behind a TLS proxy \
                at serve.public_url. SIGTERM or SIGINT finishes the requests in flight and exits 0.
                """
        )

        @OptionGroup var global: GlobalOptions

        @Option(help: "The port to listen on (0: any free port).")
        var port = 8025

        @Option(help: "The address to bind; 0.0.0.0 or :: to accept connections from other machines.")
        var host = "127.0.0.1"

        func validate() throws {
            guard (0...65535).contains(port) else { throw ValidationError("'--port \(port)' must be 0 to 65535") }
            guard !host.isEmpty else { throw ValidationError("'--host' must be an address such as 127.0.0.1") }
        }

        func run() async throws {
            let project = try loadProject(global)
            let logger = global.makeLogger()
            let settings: ServerSettings
            do {
                settings = try Providers.serverSettings(
                    project.config, environment: ProcessInfo.processInfo.environment, resolve: { project.resolve($0) })
            } catch {
                Console.error(error.description)
                throw ExitCode(1)
            }
            let routes = settings.routes.map { route in
                ["\(route.method) \(route.path)", route.problem.map { "off (503): \($0)" } ?? "live"]
            }
            for line in tableLines(routes) { Console.error("  " + line) }
            let shownHost = host.contains(":") ? "[\(host)]" : host
            try await withStore(project.databasePath(override: global.db), config: project.config, global: global) { store in
                let app = buildApplication(
                    settings: settings, database: store, passes: store,
                    configuration: ApplicationConfiguration(address: .hostname(host, port: port)), now: { Date() },
                    logger: logger, onListening: { port in Console.error("listening on http://\(shownHost):\(port)") })
                try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
            }
            Console.error("stopped")
        }
    }
}
