public import Foundation
public import NudgeDelivery
import NIOSSL
public import NudgeEngine
import NudgeLanguage
import NudgeStore
import NudgeCore

/// The `smtp` provider: submits each email to an SMTP server (RFC 6409) over a few reused connections, with TLS
/// (STARTTLS on 587 or TLS from the first byte on 465) before any credential is sent. The message's `Message-ID` is
/// `<OUTBOX_ID@sender-domain>`, the same on every attempt, and is the receipt's provider id.
public struct SMTPAdapter: ChannelAdapter {
    /// Connections per channel when `concurrency` is not set: submission servers often cap an account's
    /// simultaneous connections, and one connection already sends many messages a second.
    public static let defaultConnections = 2

    /// The sender's address and optional display name.
    public let from: String
    public let fromName: String?
    public let replyTo: String?
    let unsubscribe: UnsubscribeLinks?
    let pool: SMTPConnectionPool
    let rateLimiter: RateLimiter?
    /// The `Date` header's clock and the multipart boundary's source (injected for tests).
    let clock: @Sendable () -> Date
    let boundary: @Sendable () -> String

    /// An adapter sending through `configuration`'s server over at most `connections` connections; throws an
    /// `Adapters.ConfigurationError` for settings that cannot work (a non-ASCII sender, a bad host or helo name).
    public init(
        configuration: SMTPConfiguration, from: String, fromName: String? = nil, replyTo: String? = nil,
        unsubscribe: UnsubscribeLinks? = nil, connections: Int = SMTPAdapter.defaultConnections,
        rateLimiter: RateLimiter? = nil, clock: @escaping @Sendable () -> Date = { Date() },
        boundary: @escaping @Sendable () -> String = { MIMEMessage.randomBoundary() }
    ) throws {
        let addresses = [("from", from)] + (replyTo.map { [("reply_to", $0)] } ?? [])
        for (key, address) in addresses where !Self.isSimpleAddress(address) {
            throw Adapters.ConfigurationError(
                description: "'\(key)' must be a plain ASCII email address for SMTP (SMTPUTF8 is not supported)")
        }
        for (key, name) in [("host", configuration.host), ("helo", configuration.helo)]
        where name.isEmpty || !name.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) {
            throw Adapters.ConfigurationError(description: "'\(key)' must be a host name such as mail.example.com")
        }
        let context: NIOSSLContext?
        do {
            context = configuration.security == .none ? nil : try NIOSSLContext(configuration: configuration.tls)
        } catch {
            throw Adapters.ConfigurationError(description: "the TLS settings cannot be used: \(error)")
        }
        self.from = from
        self.fromName = fromName
        self.replyTo = replyTo
        self.unsubscribe = unsubscribe
        self.pool = SMTPConnectionPool(configuration: configuration, tlsContext: context, limit: max(1, connections))
        self.rateLimiter = rateLimiter
        self.clock = clock
        self.boundary = boundary
    }

    /// The adapter of an `smtp` channel of nudge.yaml: `host`, `from` and the optional settings of `ProviderSpec`.
    public init(context: Adapters.Context) throws {
        let settings = context.settings
        let port = settings["port"].flatMap { Int($0) }
        let host = try context.setting("host")
        let security =
            settings["security"].flatMap(SMTPConfiguration.Security.init(rawValue:))
            ?? Self.defaultSecurity(host: host, port: port, hasCredentials: settings["username"] != nil)
        var credentials: SMTPConfiguration.Credentials?
        if let username = settings["username"] {
            credentials = .init(username: username, password: try context.secret("password_env"))
        }
        let configuration = SMTPConfiguration(
            host: host, port: port, security: security, credentials: credentials,
            helo: settings["helo"] ?? "localhost", timeout: context.timeout)
        do {
            try self.init(
                configuration: configuration, from: try context.setting("from"), fromName: settings["from_name"],
                replyTo: settings["reply_to"], unsubscribe: context.unsubscribe,
                connections: settings["concurrency"] == nil ? Self.defaultConnections : context.concurrency,
                rateLimiter: context.rateLimiter)
        } catch let error as Adapters.ConfigurationError {
            throw Adapters.ConfigurationError(description: "\(context.name): \(error)")
        }
    }

    /// Delivers the batch over at most `connections` connections, then says `QUIT` on the idle ones.
    public func deliver(batch: [OutboundMessage]) async -> [Result<DeliveryReceipt, DeliveryError>] {
        let results = await deliverConcurrently(batch, limit: pool.limit, rateLimiter: rateLimiter)
        await pool.closeIdle()
        return results
    }

    public func deliver(_ message: OutboundMessage) async throws -> DeliveryReceipt {
        let recipient = message.record.recipient ?? ""
        guard Self.isSimpleAddress(recipient) else {
            throw DeliveryError.permanent(
                "the recipient is not a plain ASCII email address (SMTPUTF8 is not supported)")
        }
        let email = EmailContent(
            message: message, from: from, fromName: fromName, replyTo: replyTo, unsubscribe: unsubscribe)
        let mime = MIMEMessage(email, date: clock(), boundary: boundary())
        do {
            _ = try await pool.send(from: from, to: recipient, message: mime.text)
        } catch {
            throw Self.deliveryError(error)
        }
        return DeliveryReceipt(providerMessageID: mime.messageID)
    }

    /// The security when nudge.yaml names none: implicit TLS on port 465; plain for a relay on this machine that
    /// needs no login (a local Postfix, a test server); STARTTLS, required, everywhere else.
    static func defaultSecurity(host: String, port: Int?, hasCredentials: Bool) -> SMTPConfiguration.Security {
        if port == 465 { return .tls }
        if !hasCredentials, ["127.0.0.1", "localhost", "::1"].contains(host.lowercased()) { return .none }
        return .starttls
    }

    /// Says `QUIT` on the idle connections and closes them.
    public func close() async {
        await pool.closeIdle()
    }

    /// What an SMTP failure means for the message: 4xx answers and connection trouble may pass, 5xx answers and
    /// refusals will not. Addresses in the server's text are masked.
    static func deliveryError(_ error: SMTPError) -> DeliveryError {
        isPermanent(error) ? .permanent(permanentDescription(error)) : .transient(error.description)
    }

    /// Whether `error` will happen again however often the message is sent: a 5xx answer or a refusal.
    static func isPermanent(_ error: SMTPError) -> Bool {
        switch error {
        // RFC 5321 §4.5.3.1.10: a 552 to RCPT (too many recipients) is to be treated as the temporary 452.
        case .rejected(.recipient, let reply) where reply.code == 552: false
        case .rejected(_, let reply): (500..<600).contains(reply.code)
        case .refused: true
        case .unreachable, .timedOut, .closed, .malformed: false
        }
    }

    static func permanentDescription(_ error: SMTPError) -> String {
        if case .rejected(.auth, let reply) = error, [530, 534, 535, 538].contains(reply.code) {
            return "SMTP authentication failed (\(reply))"
        }
        return error.description
    }

    /// A plausible address of ASCII characters only: what `MAIL FROM` and `RCPT TO` can carry without SMTPUTF8.
    static func isSimpleAddress(_ address: String) -> Bool {
        EmailAddress.isPlausible(address) && address.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
    }
}

/// At most `limit` connections to one SMTP server, kept open between messages. A connection that the server closed
/// or answered `421` is replaced; a message whose first command failed that way on a reused connection is sent
/// again on a new one (the server took nothing of it). A login that fails for good (wrong password, no TLS on offer)
/// is not tried again for `loginRetryDelay`: the messages in between fail at once, so that a batch does not hammer the
/// server with wrong credentials (and get the account locked).
actor SMTPConnectionPool {
    static let loginRetryDelay: Duration = .seconds(60)

    nonisolated let configuration: SMTPConfiguration
    let tlsContext: NIOSSLContext?
    nonisolated let limit: Int
    private var idle: [SMTPClient] = []
    /// Connections open or opening, idle or in use.
    private var count = 0
    /// The last permanent login failure and when it happened.
    private var loginFailure: (error: SMTPError, at: ContinuousClock.Instant)?
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(configuration: SMTPConfiguration, tlsContext: NIOSSLContext?, limit: Int) {
        self.configuration = configuration
        self.tlsContext = tlsContext
        self.limit = limit
    }

    /// Sends one message on an idle connection or a new one; returns the server's final answer.
    func send(from: String, to: String, message: String) async throws(SMTPError) -> SMTPReply {
        var isFirstTry = true
        while true {
            let (client, isReused) = try await checkOut(fresh: !isFirstTry)
            do {
                let reply = try await client.send(from: from, to: to, message: message, reset: isReused)
                checkIn(client)
                return reply
            } catch {
                if case .rejected(_, let reply) = error, reply.code != 421 {
                    checkIn(client)
                } else {
                    await drop(client)
                }
                guard isFirstTry && isReused && Self.isStale(error) else { throw error }
                isFirstTry = false
            }
        }
    }

    /// A reused connection that the server closed (or began to close with `421`) before the transaction started.
    static func isStale(_ error: SMTPError) -> Bool {
        switch error {
        case .closed(.reset), .closed(.mail): true
        case .rejected(.reset, let reply), .rejected(.mail, let reply): reply.code == 421
        default: false
        }
    }

    /// Says `QUIT` on every idle connection and closes it.
    func closeIdle() async {
        let clients = idle
        idle = []
        count -= clients.count
        for client in clients { await client.close() }
        for _ in clients { wakeOne() }
    }

    /// An idle connection that is still usable, or a new one when fewer than `limit` are open, or the next one
    /// freed. `fresh` wants a new connection.
    private func checkOut(fresh: Bool) async throws(SMTPError) -> (SMTPClient, isReused: Bool) {
        while true {
            if !fresh {
                while let client = idle.popLast() {
                    if await client.isReusable { return (client, true) }
                    await drop(client)
                }
            } else if count >= limit, !idle.isEmpty {
                await drop(idle.removeFirst())
            }
            if let loginFailure, ContinuousClock.now - loginFailure.at < Self.loginRetryDelay {
                throw loginFailure.error
            }
            if count < limit {
                count += 1
                do {
                    return (try await SMTPClient.connect(configuration, tlsContext: tlsContext), false)
                } catch {
                    count -= 1
                    if SMTPAdapter.isPermanent(error) { loginFailure = (error, ContinuousClock.now) }
                    wakeOne()
                    throw error
                }
            }
            await withCheckedContinuation { waiting.append($0) }
        }
    }

    private func checkIn(_ client: SMTPClient) {
        idle.append(client)
        wakeOne()
    }

    private func drop(_ client: SMTPClient) async {
        count -= 1
        await client.close()
        wakeOne()
    }

    private func wakeOne() {
        if !waiting.isEmpty { waiting.removeFirst().resume() }
    }
}
