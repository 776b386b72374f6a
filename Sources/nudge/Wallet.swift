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
            abstract: "Issue wallet passes: a Save to Google Wallet link.",
            subcommands: [Link.self]
        )

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
                let project = try loadProject(global)
                let environment = ProcessInfo.processInfo.environment
                var config = project.config
                // Only the wallet's Google provider is built, so only its secrets are needed.
                guard let wallet = config.channels[.wallet],
                    let (platform, route) = wallet.routes.first(where: { $0.config.provider == GoogleWalletProvider.name })
                else {
                    Console.error(
                        "nudge.yaml: error: 'wallet link' needs a google_wallet provider under channels.wallet "
                            + "(wallet: { provider: google_wallet, … } or wallet: { google: { provider: google_wallet, … } })")
                    throw ExitCode(1)
                }
                guard route.settings["class_id"] != nil else {
                    Console.error(
                        "\(route.location): error: 'wallet link' needs 'class_id' (the loyalty class new passes belong to)")
                    throw ExitCode(1)
                }
                config.channels = [.wallet: platform.map { ChannelConfig(platforms: [$0: route], location: wallet.location) } ?? route]
                config.serve = nil
                try requireSecrets(config, environment: environment)
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
                let now = Date()
                let (pass, customerState, points) = try await withStore(
                    project.databasePath(override: global.db), config: project.config, global: global
                ) { store -> (String, CustomerState, WalletPoints?) in
                    guard let found = try await store.customer(id: customer) else {
                        Console.error("error: no customer '\(customer)'")
                        throw ExitCode(1)
                    }
                    let fresh = found.walletPassID.map { $0.isEmpty } ?? true
                    let proposed = fresh ? GoogleWalletAdapter.newPassID(for: customer) : found.walletPassID!
                    guard let pass = try await store.assignWalletPass(customerID: customer, passID: proposed, platform: "google")
                    else {
                        Console.error("error: no customer '\(customer)'")
                        throw ExitCode(1)
                    }
                    Console.error(fresh ? "customer '\(customer)' gets wallet pass \(pass)" : "customer '\(customer)' has wallet pass \(pass)")
                    let cards = try await store.progress(customerID: customer, offer: adapter.offer)
                    let card = cards.max { ($0.updatedAt, $1.offerID) < ($1.updatedAt, $0.offerID) }
                    let points = card.map {
                        WalletPoints(customerID: customer, passID: pass, label: $0.offerName ?? $0.offerID, stamps: $0.stamps)
                    }
                    return (pass, found, points)
                }
                do {
                    Console.out(try await adapter.saveURL(passID: pass, customer: customerState, points: points, now: now))
                } catch let error as DeliveryError {
                    Console.error("error: \(error)")
                    throw ExitCode(1)
                }
            }

        }
    }
}
