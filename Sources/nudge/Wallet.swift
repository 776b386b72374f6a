import ArgumentParser
import Foundation
import NudgeDelivery
import NudgeEngine
import NudgeLanguage
import NudgeProviders
import NudgeStore
import NudgeCore

extension NudgeCommand {
    /// `nudge wallet link`: passes for customers who have none yet.
    struct Wallet: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "wallet",
            abstract: "Issue wallet passes: a Save to Google Wallet link, a signed Apple Wallet pass.",
            subcommands: [Link.self, Pass.self]
        )

        /// The project, the environment, and `route(provider…)` in them.
        static func setUp(_ provider: String, command: String, _ global: GlobalOptions) throws
            -> (project: Project, environment: [String: String], route: ChannelConfig, config: ProjectConfig)
        {
            let project = try loadProject(global)
            let environment = ProcessInfo.processInfo.environment
            let (route, config) = try route(provider, in: project.config, command: command, environment: environment)
            return (project, environment, route, config)
        }

        /// The wallet's block of `provider` in nudge.yaml (the channel's, or one platform's), and the configuration
        /// with only that block, so that only its secrets are needed; exits naming what is missing.
        static func route(
            _ provider: String, in config: ProjectConfig, command: String, environment: [String: String]
        ) throws -> (route: ChannelConfig, config: ProjectConfig) {
            guard let wallet = config.channels[.wallet],
                let (platform, route) = wallet.routes.first(where: { $0.config.provider == provider })
            else {
                let platform = provider == GoogleWalletProvider.name ? "google" : "apple"
                Console.error(
                    "nudge.yaml: error: '\(command)' needs a \(provider) provider under channels.wallet "
                        + "(wallet: { provider: \(provider), … } or wallet: { \(platform): { provider: \(provider), … } })")
                throw ExitCode(1)
            }
            let only = config.keeping(.wallet, platform: platform)
            try requireSecrets(only, environment: environment)
            return (route, only)
        }

        /// The customer, their pass id (a new one when they have none, not stored yet) and their card the pass shows
        /// (of `offer`, else the one updated last).
        static func customer(
            _ customer: String, offer: String?, store: any Store
        ) async throws -> (customer: CustomerState, pass: String, card: ProgressState?) {
            guard let found = try await store.customer(id: customer) else {
                Console.error("error: no customer '\(customer)'")
                throw ExitCode(1)
            }
            let pass = found.walletPassID.flatMap { $0.isEmpty ? nil : $0 } ?? WalletPass.newID(for: customer)
            return (found, pass, ApplePasses.card(try await store.progress(customerID: customer, offer: offer)))
        }

        /// Stores `pass` as the customer's (and `platform` as their wallet platform) once what was issued for it was
        /// made, unless they have a pass by now; returns the pass they have.
        static func keep(
            _ pass: String, for customer: CustomerState, platform: String, project: Project, global: GlobalOptions
        ) async throws -> String {
            let kept = try await withStore(project.databasePath(override: global.db), config: project.config, global: global) {
                try await $0.assignWalletPass(customerID: customer.id, passID: pass, platform: platform)
            }
            guard let kept else {
                Console.error("error: no customer '\(customer.id)'")
                throw ExitCode(1)
            }
            let fresh = customer.walletPassID.map(\.isEmpty) ?? true
            Console.error(fresh ? "customer '\(customer.id)' gets wallet pass \(kept)" : "customer '\(customer.id)' has wallet pass \(kept)")
            return kept
        }

        struct Link: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "link",
                abstract: "Print a Save to Google Wallet link for a customer's loyalty pass.",
                discussion: """
                    A customer without a wallet_pass_id gets one (their id, or a hash of it when it has characters \
                    Google does not take) and wallet_platform google. The link is a JWT signed by the google_wallet \
                    provider's service account carrying the loyalty object (of class_id) with the customer's stamps.
                    """
            )

            @OptionGroup var global: GlobalOptions

            @Argument(help: "The customer id.")
            var customer: String

            func run() async throws {
                let (project, environment, route, config) = try Wallet.setUp(
                    GoogleWalletProvider.name, command: "wallet link", global)
                guard route.settings["class_id"] != nil else {
                    Console.error(
                        "\(route.location): error: 'wallet link' needs 'class_id' (the loyalty class new passes belong to)")
                    throw ExitCode(1)
                }
                let box = HTTPClientBox()
                defer { box.shutdown() }
                let adapter: GoogleWalletAdapter
                do {
                    let made = try Providers.makeAdapters(
                        config, environment: environment, httpClient: { box.client }, resolve: { project.resolve($0) })[.wallet]
                    guard let found = (made as? PlatformRoutes)?.adapters.values.first ?? made,
                        let google = found as? GoogleWalletAdapter
                    else { throw ExitCode(1) }
                    adapter = google
                } catch let error as Adapters.ConfigurationError {
                    Console.error("\(route.location): error: \(error)")
                    throw ExitCode(1)
                }
                let (found, proposed, card) = try await withStore(
                    project.databasePath(override: global.db), config: project.config, global: global, reading: true
                ) { store in
                    try await Wallet.customer(customer, offer: adapter.offer, store: store)
                }
                // The link is made before the pass id is stored: a link that cannot be made leaves the customer as
                // they were.
                func link(_ pass: String) async throws -> String {
                    let points = card.map {
                        WalletPoints(customerID: customer, passID: pass, label: $0.offerName ?? $0.offerID, stamps: $0.stamps)
                    }
                    do {
                        return try await adapter.saveURL(passID: pass, customer: found, points: points, now: Date())
                    } catch let error as DeliveryError {
                        Console.error("error: \(error)")
                        throw ExitCode(1)
                    }
                }
                var url = try await link(proposed)
                let kept = try await Wallet.keep(proposed, for: found, platform: "google", project: project, global: global)
                if kept != proposed { url = try await link(kept) }
                Console.out(url)
            }

        }

        struct Pass: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "pass",
                abstract: "Write a customer's signed Apple Wallet pass (.pkpass) to stdout.",
                discussion: """
                    nudge wallet pass CUSTOMER > member.pkpass. The pass is Templates/<template>.pass/pass.json \
                    rendered for the customer (their card's stamps, the latest wallet message in a field the lock \
                    screen announces), its files' SHA-1 manifest and the manifest's signature by the pass type \
                    certificate with Apple's WWDR intermediate. A customer without a wallet_pass_id gets one (the \
                    pass's serial number) and wallet_platform apple.
                    """
            )

            @OptionGroup var global: GlobalOptions

            @Argument(help: "The customer id.")
            var customer: String

            func run() async throws {
                let (project, environment, route, _) = try Wallet.setUp(AppleWalletProvider.name, command: "wallet pass", global)
                if isatty(STDOUT_FILENO) == 1 {
                    Console.error("error: a pass is binary: redirect it to a file, e.g. nudge wallet pass \(customer) > member.pkpass")
                    throw ExitCode(1)
                }
                let passes: ApplePasses
                do {
                    passes = try ApplePasses(
                        settings: route.settings, environment: environment, resolve: { project.resolve($0) },
                        publicURL: project.config.serve?.publicURL, businessName: project.config.businessName)
                } catch {
                    Console.error("\(route.location): error: \(error)")
                    throw ExitCode(1)
                }
                let (found, proposed, card, message) = try await withStore(
                    project.databasePath(override: global.db), config: project.config, global: global, reading: true
                ) { store in
                    let (found, pass, card) = try await Wallet.customer(customer, offer: passes.offer, store: store)
                    let state = try await store.passState(passTypeID: passes.passTypeID, serial: pass)
                    return (found, pass, card, state?.message)
                }
                if passes.webServiceURL == nil {
                    Console.error("warning: serve.public_url is not set: the pass carries no web service and never updates")
                }
                // The pass is made before its serial is stored as the customer's pass id: a pass that cannot be made
                // leaves the customer as they were.
                func build(_ pass: String) throws -> Data {
                    do {
                        return try passes.build(
                            passes.content(serial: pass, customer: found, card: card, message: message), at: Date())
                    } catch {
                        Console.error("error: \(error)")
                        throw ExitCode(1)
                    }
                }
                var data = try build(proposed)
                let pass = try await Wallet.keep(proposed, for: found, platform: "apple", project: project, global: global)
                if pass != proposed { data = try build(pass) }
                FileHandle.standardOutput.write(data)
                Console.error("wrote the pass of customer '\(customer)' (serial \(pass), \(data.count) bytes)")
            }
        }
    }
}
