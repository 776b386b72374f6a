public import Foundation
public import NudgeEngine
public import NudgeLanguage

/// What `nudge serve` verifies requests with: the providers' webhook keys and the unsubscribe-link secret, read
/// from the environment. A route whose key is missing answers 503 ("not configured").
public struct ServerSettings: Sendable {
    /// A setting that stops `nudge serve` from starting; `description` names the place and the variable, never a
    /// secret's value.
    public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// One route and whether it can answer, for the start-up summary.
    public struct RouteStatus: Sendable, Hashable {
        /// `GET`, `POST` or `GET, POST`.
        public var method: String
        public var path: String
        /// Nil when the route is live; otherwise why it answers 503.
        public var problem: String?
    }

    /// `business.name`, shown on the unsubscribe pages.
    public var businessName: String
    /// `serve.public_url`, without a trailing slash: Twilio signs the URL it calls.
    public var publicURL: String?
    /// Verifies SendGrid's Event Webhook (nil: the route answers 503).
    public var sendGrid: SendGridSignature?
    /// Verifies Mailgun's webhooks (nil: the route answers 503).
    public var mailgun: MailgunSignature?
    /// Verifies Twilio's callbacks (nil, or no `publicURL`: the routes answer 503).
    public var twilio: TwilioSignature?
    /// Reads unsubscribe tokens (nil, or unsigned: the routes answer 503).
    public var unsubscribe: UnsubscribeLinks?
    /// How far a signed timestamp may be from the server's clock (SendGrid, Mailgun).
    public var tolerance: TimeInterval
    /// Why routes are off, by path, as found in nudge.yaml (overrides the generic reason).
    var reasons: [String: String] = [:]

    /// Settings given directly (tests, embedding).
    public init(
        businessName: String = "", publicURL: String? = nil, sendGrid: SendGridSignature? = nil,
        mailgun: MailgunSignature? = nil, twilio: TwilioSignature? = nil, unsubscribe: UnsubscribeLinks? = nil,
        tolerance: TimeInterval = 300
    ) {
        self.businessName = businessName
        self.publicURL = publicURL.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        self.sendGrid = sendGrid
        self.mailgun = mailgun
        self.twilio = twilio
        self.unsubscribe = unsubscribe
        self.tolerance = tolerance
    }

    /// The settings of nudge.yaml with secrets from `environment`. Throws when the unsubscribe secret is
    /// configured but not set (links already sent could not be honoured) or a SendGrid key cannot be read.
    public init(config: ProjectConfig, environment: [String: String]) throws(ConfigurationError) {
        self.init(businessName: config.businessName, publicURL: config.serve?.publicURL)
        let email = config.channels[.email]
        let sms = config.channels[.sms]

        switch Self.secret("webhook_public_key_env", of: email, provider: "sendgrid", environment: environment) {
        case .value(let text, let variable):
            guard let verifier = SendGridSignature(publicKey: text) else {
                let location = email.map { "\($0.location): " } ?? ""
                throw ConfigurationError(
                    description: "\(location)error: the environment variable \(variable) (webhook_public_key_env) "
                        + "is not a base64 DER P-256 public key as SendGrid shows it")
            }
            sendGrid = verifier
        case .missing(let reason): reasons[Route.sendGrid] = reason
        }

        switch Self.secret("webhook_signing_key_env", of: email, provider: "mailgun", environment: environment) {
        case .value(let text, _): mailgun = MailgunSignature(signingKey: text)
        case .missing(let reason): reasons[Route.mailgun] = reason
        }

        // Twilio signs callbacks with the account's auth token; with an API key (api_key_sid) `auth_token_env` holds
        // the key's secret instead, and `webhook_auth_token_env` names the auth token.
        let twilioKey = sms?.settings["api_key_sid"] != nil || sms?.settings["webhook_auth_token_env"] != nil
            ? "webhook_auth_token_env" : "auth_token_env"
        switch Self.secret(twilioKey, of: sms, provider: "twilio", environment: environment) {
        case .value(let text, _): twilio = TwilioSignature(authToken: text)
        case .missing(let reason):
            reasons[Route.twilioStatus] = reason
            reasons[Route.twilioInbound] = reason
        }

        if let serve = config.serve, let variable = serve.unsubscribeSecretEnv {
            guard let secret = environment[variable], !secret.isEmpty else {
                throw ConfigurationError(
                    description: "\(serve.location): error: serve needs the environment variable \(variable) "
                        + "(unsubscribe_secret_env), which is not set; without it the unsubscribe links already "
                        + "sent cannot be honoured")
            }
            unsubscribe = UnsubscribeLinks(baseURL: serve.publicURL ?? "", secret: secret)
        } else {
            reasons[Route.unsubscribe] = "serve.unsubscribe_secret_env is not set in nudge.yaml"
        }
    }

    /// Every route and whether it is live.
    public var routes: [RouteStatus] {
        let twilioProblem: String? =
            twilio == nil
            ? reason(Route.twilioStatus, "no Twilio auth token")
            : publicURL == nil ? "serve.public_url is not set (Twilio signs the URL it calls)" : nil
        return [
            RouteStatus(method: "GET", path: Route.health, problem: nil),
            RouteStatus(
                method: "POST", path: Route.sendGrid,
                problem: sendGrid == nil ? reason(Route.sendGrid, "no SendGrid key") : nil),
            RouteStatus(
                method: "POST", path: Route.mailgun,
                problem: mailgun == nil ? reason(Route.mailgun, "no Mailgun key") : nil),
            RouteStatus(method: "POST", path: Route.twilioStatus, problem: twilioProblem),
            RouteStatus(method: "POST", path: Route.twilioInbound, problem: twilioProblem),
            RouteStatus(
                method: "GET, POST", path: Route.unsubscribe + "/{token}",
                problem: unsubscribe?.isSigned == true ? nil : reason(Route.unsubscribe, "no unsubscribe secret")),
        ]
    }

    private func reason(_ path: String, _ fallback: String) -> String {
        reasons[path] ?? fallback
    }

    private enum Secret {
        case value(String, variable: String)
        case missing(String)
    }

    /// The secret a channel's `key` names, or why there is none.
    private static func secret(
        _ key: String, of channel: ChannelConfig?, provider: String, environment: [String: String]
    ) -> Secret {
        guard let channel, channel.provider == provider else {
            let name = provider == "twilio" ? "sms" : "email"
            return .missing("channel '\(name)' does not use \(provider)")
        }
        guard let variable = channel.settings[key] else {
            return .missing("\(key) is not set on the \(provider) channel in nudge.yaml")
        }
        guard let value = environment[variable], !value.isEmpty else {
            return .missing("the environment variable \(variable) (\(key)) is not set")
        }
        return .value(value, variable: variable)
    }
}

/// The paths `nudge serve` answers.
enum Route {
    static let health = "/healthz"
    static let sendGrid = "/webhooks/sendgrid"
    static let mailgun = "/webhooks/mailgun"
    static let twilioStatus = "/webhooks/twilio/status"
    static let twilioInbound = "/webhooks/twilio/inbound"
    static let unsubscribe = "/unsubscribe"
}
