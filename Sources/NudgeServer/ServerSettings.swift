public import Foundation
public import NudgeEngine
public import Hummingbird
public import NudgeLanguage

/// What `nudge serve` verifies requests with: the providers' webhook keys and the unsubscribe-link secret, read
/// from the environment. A route whose key is missing answers 503 ("not configured").
public struct ServerSettings: Sendable {
    /// A setting that stops `nudge serve` from starting; `description` names the place and the variable, never a
    /// secret's value.
    public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    /// One route and whether it can answer, for the start-up summary.
    public struct RouteStatus: Sendable, Hashable {
        /// `GET`, `POST` or `GET, POST`.
        public var method: String
        public var path: String
        /// Nil when the route is live; otherwise why it answers 503.
        public var problem: String?

        public init(method: String, path: String, problem: String?) {
            self.method = method
            self.path = path
            self.problem = problem
        }
    }

    /// `business.name`, shown on the unsubscribe pages.
    public var businessName: String
    /// `serve.public_url`, without a trailing slash: Twilio signs the URL it calls.
    public var publicURL: String?
    /// The providers' inbound routes, each with the key it verifies requests with (or why it has none).
    public var webhooks: [any ProviderWebhooks]
    /// Reads unsubscribe tokens (nil, or unsigned: the routes answer 503).
    public var unsubscribe: UnsubscribeLinks?
    /// How far a signed timestamp may be from the server's clock.
    public var tolerance: TimeInterval
    /// Why the unsubscribe routes are off, as found in nudge.yaml (overrides the generic reason).
    var unsubscribeProblem: String?

    /// Settings given directly (tests, embedding).
    public init(
        businessName: String = "", publicURL: String? = nil, webhooks: [any ProviderWebhooks] = [],
        unsubscribe: UnsubscribeLinks? = nil, tolerance: TimeInterval = 300
    ) {
        self.businessName = businessName
        self.publicURL = publicURL.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        self.webhooks = webhooks
        self.unsubscribe = unsubscribe
        self.tolerance = tolerance
    }

    /// The settings of nudge.yaml with secrets from `environment`, and the providers' routes `webhooks` (made by
    /// the providers from the same). Throws when the unsubscribe secret is configured but not set: links already
    /// sent could not be honoured.
    public init(
        config: ProjectConfig, environment: [String: String], webhooks: [any ProviderWebhooks]
    ) throws(ConfigurationError) {
        self.init(businessName: config.businessName, publicURL: config.serve?.publicURL, webhooks: webhooks)
        if let serve = config.serve, let variable = serve.unsubscribeSecretEnv {
            guard let secret = environment[variable], !secret.isEmpty else {
                throw ConfigurationError(
                    description: "\(serve.location): error: serve needs the environment variable \(variable) "
                        + "(unsubscribe_secret_env), which is not set; without it the unsubscribe links already "
                        + "sent cannot be honoured")
            }
            unsubscribe = UnsubscribeLinks(baseURL: serve.publicURL ?? "", secret: secret)
        } else {
            unsubscribeProblem = "serve.unsubscribe_secret_env is not set in nudge.yaml"
        }
    }

    /// Every route and whether it is live.
    public var routes: [RouteStatus] {
        [RouteStatus(method: "GET", path: Route.health, problem: nil)]
            + webhooks.flatMap { $0.routes(self) }
            + [
                RouteStatus(
                    method: "GET, POST", path: Route.unsubscribe + "/{token}",
                    problem: unsubscribe?.isSigned == true ? nil : unsubscribeProblem ?? "no unsubscribe secret")
            ]
    }

    /// The webhooks of type `T`, if configured (tests, embedding).
    public func webhooks<T: ProviderWebhooks>(_ type: T.Type) -> T? {
        webhooks.lazy.compactMap { $0 as? T }.first
    }

    /// The secret a channel's `key` names when the channel uses `provider`, or why there is none: what a
    /// provider's routes verify requests with.
    public static func secret(
        _ key: String, of channel: ChannelConfig?, channelName: String, provider: String, environment: [String: String]
    ) -> SecretLookup {
        guard let channel, channel.provider == provider else {
            return .missing("channel '\(channelName)' does not use \(provider)")
        }
        guard let variable = channel.settings[key] else {
            return .missing("\(key) is not set on the \(provider) channel in nudge.yaml")
        }
        guard let value = environment[variable], !value.isEmpty else {
            return .missing("the environment variable \(variable) (\(key)) is not set")
        }
        return .value(value, variable: variable)
    }

    /// A provider's secret from the environment, or why it is not there.
    public enum SecretLookup: Sendable {
        case value(String, variable: String)
        case missing(String)

        /// The secret, if there is one.
        public var value: String? {
            if case .value(let text, _) = self { return text }
            return nil
        }

        /// Why there is no secret, if there is none.
        public var problem: String? {
            if case .missing(let reason) = self { return reason }
            return nil
        }
    }
}

/// A provider's inbound routes for `nudge serve` (delivery reports, replies), with the key that verifies them. A
/// route without its key answers 503.
public protocol ProviderWebhooks: Sendable {
    /// The routes and whether each is live under `settings`, for the start-up summary.
    func routes(_ settings: ServerSettings) -> [ServerSettings.RouteStatus]
    /// Adds the routes to `router`, recording through `receiver`.
    func add(to router: Router<BasicRequestContext>, receiver: EventReceiver)
}

/// The paths `nudge serve` answers besides the providers' own.
enum Route {
    static let health = "/healthz"
    static let unsubscribe = "/unsubscribe"
}

/// A provider's webhooks that are one POST route verified by one key (SendGrid's, Mailgun's).
public protocol SignedPostRoute: ProviderWebhooks {
    associatedtype Verifier: Sendable
    /// The route's path.
    static var path: String { get }
    /// Verifies requests; nil: the route answers 503.
    var verifier: Verifier? { get }
    /// Why there is no verifier.
    var problem: String { get }
    /// Answers one request.
    func receive(
        _ request: Request, context: BasicRequestContext, receiver: EventReceiver
    ) async throws -> ReceiptSummary
}

extension SignedPostRoute {
    public func routes(_ settings: ServerSettings) -> [ServerSettings.RouteStatus] {
        [ServerSettings.RouteStatus(method: "POST", path: Self.path, problem: verifier == nil ? problem : nil)]
    }

    public func add(to router: Router<BasicRequestContext>, receiver: EventReceiver) {
        router.post(RouterPath(Self.path)) { request, context in
            try await receive(request, context: context, receiver: receiver)
        }
    }
}
