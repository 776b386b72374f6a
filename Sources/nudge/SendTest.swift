import ArgumentParser
import Foundation
import NudgeDelivery
import NudgeEngine
import NudgeLanguage
import NudgeProviders
import NudgeStore
import NudgeCore

extension NudgeCommand {
    /// `nudge send-test`: renders one workflow's message for one customer and sends it to a test address.
    struct SendTest: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "send-test",
            abstract: "Render a workflow's message for a customer and send it to a test address through the real adapter.",
            discussion: """
                The message is rendered as if the workflow's trigger fired for the customer now (whatever its \
                conditions, consent and the ledger say) and sent to --to instead of the customer's address, through \
                the channel's configured provider. Nothing is written to the ledger or the outbox; an Apple Wallet \
                message is recorded on the pass --to names and pushed to the devices registered for it.
                """
        )

        @OptionGroup var global: GlobalOptions

        @Option(help: "The workflow id.")
        var workflow: String

        @Option(help: "The customer id whose data fills the template.")
        var customer: String

        @Option(help: "Where to send it: an email address, a phone number (E.164), a push token or a wallet pass id.")
        var to: String

        @Option(help: "The channel (default: email for an address with @, sms for +number).")
        var channel: String?

        @Option(
            help: "For push or wallet with a provider per platform: whose provider sends it (default: the customer's push_platform or wallet_platform)."
        )
        var platform: String?

        @Option(help: "Render at this instant (ISO 8601; default: now).")
        var now: String?

        func validate() throws {
            try validateNow(now)
            if let channel, NudgeCore.Channel(rawValue: channel) == nil {
                throw ValidationError("'--channel \(channel)' must be one of: email, sms, push, wallet")
            }
            guard !to.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError("'--to' is empty") }
        }

        func run() async throws {
            let project = try loadProject(global)
            let environment = ProcessInfo.processInfo.environment
            guard let instant = parseNow(now, zone: project.config.timeZone) else { throw ExitCode(2) }
            let message: TestMessage
            do {
                message = try await withStore(
                    project.databasePath(override: global.db), config: project.config, global: global, reading: true
                ) { store in
                    let planner = Planner(
                        project: project, store: store, logger: global.makeLogger(),
                        // The customer's real unsubscribe link must not reach a tester's inbox (one click would opt
                        // the customer out): the test shows an unsigned link, which `nudge serve` refuses.
                        unsubscribe: UnsubscribeLinks(config: project.config, environment: [:]))
                    return try await planner.testMessage(
                        workflowID: workflow, customerID: customer,
                        channel: channel.flatMap(NudgeCore.Channel.init(rawValue:)), to: to, now: instant)
                }
            } catch let error as Planner.TestSendError {
                Console.error("error: \(error)")
                throw ExitCode(1)
            }
            // Only the chosen channel's adapter is built (one platform's, when each has its own), so only its secrets
            // are needed.
            guard var settings = project.config.channels[message.channel] else {
                Console.error("nudge.yaml: error: no adapter is configured for \(message.channel.rawValue)")
                throw ExitCode(1)
            }
            var platform: String?
            if settings.isPerPlatform {
                let configured = settings.platforms.keys.sorted()
                guard let chosen = self.platform ?? message.platform else {
                    Console.error(
                        "error: \(message.channel.rawValue) has a provider per platform and customer '\(customer)' has no "
                            + "\(message.channel.platformColumn ?? "platform"); name one with --platform (\(configured.joined(separator: ", ")))")
                    throw ExitCode(1)
                }
                guard let route = settings.platforms[chosen] else {
                    Console.error(
                        "error: no \(message.channel.rawValue) provider is configured for platform '\(chosen)' "
                            + "(configured: \(configured.joined(separator: ", ")))")
                    throw ExitCode(1)
                }
                settings = route
                platform = chosen
            }
            let config = project.config.keeping(message.channel, platform: platform)
            try requireSecrets(config, environment: environment)
            // An Apple Wallet message is recorded on the pass named by --to and announced to its devices: that needs
            // the database.
            if settings.provider == AppleWalletProvider.name {
                try await withStore(project.databasePath(override: global.db), config: project.config, global: global) {
                    try await send(message, project: project, config: config, settings: settings, platform: platform, passes: $0)
                }
            } else {
                try await send(message, project: project, config: config, settings: settings, platform: platform, passes: nil)
            }
        }

        /// Sends the rendered `message` to --to through the adapter of `config` (the channel's one block).
        func send(
            _ message: TestMessage, project: Project, config: ProjectConfig, settings: ChannelConfig, platform: String?,
            passes: (any PassStore & PlanningStore)?
        ) async throws {
            let environment = ProcessInfo.processInfo.environment
            let box = HTTPClientBox()
            defer { box.shutdown() }
            let adapter: any ChannelAdapter
            do {
                guard
                    let made = try Providers.makeAdapters(
                        config, environment: environment, httpClient: { box.client },
                        resolve: { project.resolve($0) }, passes: passes)[message.channel]
                else { throw ExitCode(1) }
                adapter = made
            } catch let error as Adapters.ConfigurationError {
                Console.error("\(settings.location): error: \(error)")
                throw ExitCode(1)
            }

            if let heading = message.heading { Console.out("\(heading.key): \(heading.value)") }
            Console.out(message.body)
            let millis = StoredInstant.millis(Date())
            var record = OutboxMessage(
                id: "test-" + Runner.randomID(), workflowId: message.workflowID, customerId: message.customerID,
                occurrence: "test", actionIndex: 0, channel: message.channel.rawValue, recipient: to,
                template: message.template, headingKey: message.heading?.key, heading: message.heading?.value,
                body: message.body, dueAt: millis, createdAt: millis, status: .pending, reason: nil)
            record.textBody = message.text
            record.platform = platform
            record.attempts = 1
            do {
                let receipt = try await adapter.deliver(OutboundMessage(record: record, sentAt: Date()))
                Console.error(
                    "sent \(message.channel.rawValue) to \(to) through \(settings.provider)"
                        + (receipt.providerMessageID.map { " (provider id \($0))" } ?? "") + "; id \(record.id)")
            } catch let error as DeliveryError {
                let mask = SecretMask(config: config, environment: environment)
                Console.error("error: \(settings.provider) did not take the message: \(mask.apply(error))")
                throw ExitCode(1)
            }
        }
    }
}
