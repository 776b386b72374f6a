public import Foundation
import NIOCore
import NIOExtras
import NIOPosix
public import NIOSSL

/// How to reach an SMTP submission server and log in.
public struct SMTPConfiguration: Sendable {
    /// How the connection is protected.
    public enum Security: String, Sendable, CaseIterable {
        /// Plain TCP, then `STARTTLS` before anything else (RFC 3207); refused when the server does not offer it.
        case starttls
        /// TLS from the first byte (RFC 8314, port 465).
        case tls
        /// No TLS at all (a relay on the same host); credentials are refused.
        case none
    }

    /// A user name and password; `description` never shows the password.
    public struct Credentials: Sendable, CustomStringConvertible {
        public var username: String
        public var password: String

        public init(username: String, password: String) {
            self.username = username
            self.password = password
        }

        public var description: String { "Credentials(username: \(username), password: •••)" }
    }

    /// The server's host name (checked against its certificate) or IP address.
    public var host: String
    public var port: Int
    public var security: Security
    /// What `AUTH` sends; nil sends no `AUTH` (a relay that trusts the client's address).
    public var credentials: Credentials?
    /// The name given in `EHLO`.
    public var helo: String
    /// The longest wait for the connection and for each reply, in seconds.
    public var timeout: TimeInterval
    /// TLS settings: by default full verification against the system's trust roots, with the host's name.
    public var tls: TLSConfiguration

    /// A configuration; `port` defaults to 465 for `tls`, 587 for `starttls` and 25 for `none`.
    public init(
        host: String, port: Int? = nil, security: Security = .starttls, credentials: Credentials? = nil,
        helo: String = "localhost", timeout: TimeInterval = 15, tls: TLSConfiguration = .makeClientConfiguration()
    ) {
        self.host = host
        self.port = port ?? Self.defaultPort(security)
        self.security = security
        self.credentials = credentials
        self.helo = helo
        self.timeout = timeout
        self.tls = tls
    }

    /// The submission port of each kind of security.
    public static func defaultPort(_ security: Security) -> Int {
        switch security {
        case .starttls: 587
        case .tls: 465
        case .none: 25
        }
    }

    /// Trusts the CA certificates of a PEM file (a private CA) instead of the system's.
    public mutating func trustCertificates(pemFile path: String) {
        tls.trustRoots = .file(path)
    }

    /// The reply timeout as NIO measures it.
    var replyTimeout: TimeAmount { .milliseconds(Int64(timeout * 1000)) }
}

/// One reply of an SMTP server: its code and the text of each line (`250-…` continuation lines included).
public struct SMTPReply: Sendable, Hashable, CustomStringConvertible {
    /// The three-digit reply code, e.g. 250.
    public var code: Int
    /// The text after the code (and its `-` or space) of each line.
    public var lines: [String]

    public init(code: Int, lines: [String]) {
        self.code = code
        self.lines = lines
    }

    /// The code and the first line, with every word that holds an `@` (an address) replaced by `<address>` and cut
    /// to 200 characters: safe to log.
    public var description: String {
        let words = (lines.first ?? "").split(separator: " ").map { word in
            guard word.contains("@") else { return String(word) }
            return "<address>" + word.reversed().prefix(while: { ":,;".contains($0) }).reversed()
        }
        let text = words.joined(separator: " ")
        return text.isEmpty ? "\(code)" : "\(code) \(text.prefix(200))"
    }
}

/// The step of the SMTP dialogue that failed; the raw value names it in error messages.
public enum SMTPStep: String, Sendable {
    case connect = "connecting"
    case greeting
    case ehlo = "EHLO"
    case startTLS = "STARTTLS"
    case auth = "AUTH"
    case reset = "RSET"
    case mail = "MAIL FROM"
    case recipient = "RCPT TO"
    case data = "DATA"
    case message = "the end of DATA"
    case quit = "QUIT"
}

/// What went wrong in an SMTP dialogue. Descriptions never hold credentials or addresses.
public enum SMTPError: Error, Sendable, CustomStringConvertible {
    /// The server could not be reached, or TLS could not be set up with it.
    case unreachable(String)
    /// The server did not answer within the timeout; the connection is closed.
    case timedOut(SMTPStep, after: Duration)
    /// The server closed the connection.
    case closed(SMTPStep)
    /// The server answered with an unexpected code.
    case rejected(SMTPStep, SMTPReply)
    /// The server's answer broke the protocol; the connection is closed.
    case malformed(String)
    /// The client would not go on, e.g. without TLS it was told to require.
    case refused(String)

    public var description: String {
        switch self {
        case .unreachable(let text): text
        case .timedOut(let step, let timeout):
            "SMTP server did not answer \(step.rawValue) within \(Int((timeout / .milliseconds(1)).rounded())) ms"
        case .closed(let step): "SMTP server closed the connection at \(step.rawValue)"
        case .rejected(let step, let reply): "SMTP server answered \(reply) to \(step.rawValue)"
        case .malformed(let text): "SMTP server broke the protocol: \(text)"
        case .refused(let text): text
        }
    }

    /// The same failure, reported at `step` (a closed connection is noticed at the next step).
    func at(_ step: SMTPStep) -> SMTPError {
        if case .closed = self { return .closed(step) }
        return self
    }
}

/// One SMTP connection, logged in and ready for messages (RFC 5321, 6409). Commands go one at a time (no
/// pipelining). A client sends any number of messages, one after another.
public final class SMTPClient: Sendable {
    let channel: any Channel
    /// The channel's reply handler, kept here (not looked up in the pipeline) so that the reason of a failure is
    /// still known after the pipeline is torn down.
    let replies: NIOLoopBoundBox<SMTPReplyHandler?>
    let timeout: TimeAmount
    /// The extensions the server announced in its last `EHLO` answer (after TLS when TLS is used): upper-cased
    /// keywords and their parameters, e.g. `["AUTH": "PLAIN LOGIN", "SIZE": "35882577"]`.
    public let extensions: [String: String]

    init(
        channel: any Channel, replies: NIOLoopBoundBox<SMTPReplyHandler?>, timeout: TimeAmount,
        extensions: [String: String]
    ) {
        self.channel = channel
        self.replies = replies
        self.timeout = timeout
        self.extensions = extensions
    }

    /// Connects, reads the greeting, says `EHLO`, starts TLS (`STARTTLS`, or TLS from the first byte) and logs in.
    /// `tlsContext` is made from `configuration.tls` when not given (making one is costly: a pool shares one).
    public static func connect(
        _ configuration: SMTPConfiguration, tlsContext: NIOSSLContext? = nil
    ) async throws(SMTPError) -> SMTPClient {
        if configuration.credentials != nil && configuration.security == .none {
            throw .refused("refusing to send SMTP credentials without TLS: use security starttls or tls")
        }
        let context: NIOSSLContext?
        do {
            context =
                configuration.security == .none
                ? nil : try tlsContext ?? NIOSSLContext(configuration: configuration.tls)
        } catch {
            throw .refused("the TLS settings cannot be used: \(error)")
        }
        let serverName = Self.serverName(configuration.host)
        let implicitTLS = configuration.security == .tls ? context : nil
        let eventLoop = MultiThreadedEventLoopGroup.singleton.next()
        let replies = NIOLoopBoundBox.makeEmptyBox(valueType: SMTPReplyHandler.self, eventLoop: eventLoop)
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(configuration.replyTimeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if let implicitTLS {
                        try pipeline.addHandler(NIOSSLClientHandler(context: implicitTLS, serverHostname: serverName))
                    }
                    let handler = SMTPReplyHandler()
                    try pipeline.addHandler(LineBoundaryTracker(replies: handler))
                    try pipeline.addHandler(ByteToMessageHandler(LineBasedFrameDecoder(), maximumBufferSize: 64 * 1024))
                    replies.value = handler
                    try pipeline.addHandler(handler)
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: configuration.host, port: configuration.port).get()
        } catch {
            throw .unreachable("SMTP server \(configuration.host):\(configuration.port) unreachable: \(error)")
        }
        let session = SMTPClient(
            channel: channel, replies: replies, timeout: configuration.replyTimeout, extensions: [:])
        do {
            return try await session.open(configuration, context: context, serverName: serverName)
        } catch {
            channel.close(promise: nil)
            throw error
        }
    }

    /// The dialogue up to a logged-in session: greeting, EHLO, STARTTLS and EHLO again, AUTH.
    private func open(
        _ configuration: SMTPConfiguration, context: NIOSSLContext?, serverName: String?
    ) async throws(SMTPError) -> SMTPClient {
        try await command(nil, at: .greeting, expecting: [220])
        var extensions = Self.extensions(try await command("EHLO \(configuration.helo)", at: .ehlo, expecting: [250]))
        if configuration.security == .starttls {
            guard let context, extensions["STARTTLS"] != nil else {
                throw .refused(
                    "SMTP server \(configuration.host):\(configuration.port) does not offer STARTTLS; refusing to go "
                        + "on without TLS (use security: tls for port 465)")
            }
            try await command("STARTTLS", at: .startTLS, expecting: [220])
            try await startTLS(context: context, serverName: serverName)
            // RFC 3207 section 4.2: forget what the server said before TLS.
            extensions = Self.extensions(try await command("EHLO \(configuration.helo)", at: .ehlo, expecting: [250]))
        }
        if let credentials = configuration.credentials {
            try await authenticate(credentials, extensions: extensions)
        }
        return SMTPClient(channel: channel, replies: replies, timeout: timeout, extensions: extensions)
    }

    /// Adds TLS in front of the pipeline, after making sure the server said nothing after its `220`.
    private func startTLS(context: NIOSSLContext, serverName: String?) async throws(SMTPError) {
        let channel = self.channel
        let replies = self.replies
        do {
            try await channel.eventLoop.submit {
                guard replies.value?.isIdle == true else {
                    throw SMTPError.malformed("data arrived before the TLS handshake")
                }
                try channel.pipeline.syncOperations.addHandler(
                    NIOSSLClientHandler(context: context, serverHostname: serverName), position: .first)
            }.get()
        } catch let error as SMTPError {
            throw error
        } catch {
            throw .unreachable("could not start TLS: \(error)")
        }
    }

    /// `AUTH PLAIN` when offered (one step), else `AUTH LOGIN` (user name, then password).
    private func authenticate(_ credentials: SMTPConfiguration.Credentials, extensions: [String: String])
        async throws(SMTPError)
    {
        let mechanisms = Set((extensions["AUTH"] ?? "").uppercased().split(separator: " ").map(String.init))
        func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }
        if mechanisms.contains("PLAIN") {
            let token = base64("\0\(credentials.username)\0\(credentials.password)")
            try await command("AUTH PLAIN \(token)", at: .auth, expecting: [235])
        } else if mechanisms.contains("LOGIN") {
            try await command("AUTH LOGIN", at: .auth, expecting: [334])
            try await command(base64(credentials.username), at: .auth, expecting: [334])
            try await command(base64(credentials.password), at: .auth, expecting: [235])
        } else {
            throw .refused("SMTP server offers neither AUTH PLAIN nor AUTH LOGIN, so the credentials cannot be used")
        }
    }

    /// Sends one message: `MAIL FROM`, `RCPT TO`, `DATA`, the dot-stuffed message and `.`; returns the server's
    /// final answer (with its queue id). `reset` sends `RSET` first, to start clean on a connection used before.
    public func send(from: String, to: String, message: String, reset: Bool) async throws(SMTPError) -> SMTPReply {
        if reset { try await command("RSET", at: .reset, expecting: [250]) }
        try await command("MAIL FROM:<\(from)>", at: .mail, expecting: [250])
        try await command("RCPT TO:<\(to)>", at: .recipient, expecting: [250, 251])
        try await command("DATA", at: .data, expecting: [354])
        return try await exchange(ByteBuffer(bytes: MIMEMessage.dotStuffed(message)), at: .message, expecting: [250])
    }

    /// Whether the connection is open and the server has said nothing unasked (such as `421` before closing).
    public var isReusable: Bool {
        get async {
            let replies = self.replies
            guard channel.isActive else { return false }
            let idle = try? await channel.eventLoop.submit { replies.value?.isIdle == true }.get()
            return idle == true
        }
    }

    /// Says `QUIT` (waiting for the answer at most the timeout) and closes the connection.
    public func close() async {
        if channel.isActive {
            _ = try? await command("QUIT", at: .quit, expecting: [221])
        }
        try? await channel.close()
    }

    /// Sends `line` (nothing for the greeting) and waits for the reply, which must have one of the codes `expecting`.
    @discardableResult
    func command(_ line: String?, at step: SMTPStep, expecting: Set<Int>) async throws(SMTPError) -> SMTPReply {
        try await exchange(line.map { ByteBuffer(string: $0 + "\r\n") }, at: step, expecting: expecting)
    }

    func exchange(_ bytes: ByteBuffer?, at step: SMTPStep, expecting: Set<Int>) async throws(SMTPError) -> SMTPReply {
        let eventLoop = channel.eventLoop
        let replies = self.replies
        let timeout = self.timeout
        let reply: SMTPReply
        do {
            reply = try await eventLoop.flatSubmit {
                guard let handler = replies.value else { return eventLoop.makeFailedFuture(SMTPError.closed(step)) }
                return handler.exchange(bytes, at: step, timeout: timeout, on: eventLoop)
            }.get()
        } catch let error as SMTPError {
            throw error
        } catch {
            throw .closed(step)
        }
        guard expecting.contains(reply.code) else { throw .rejected(step, reply) }
        return reply
    }

    /// The extensions of an `EHLO` answer (its first line is the server's name). `AUTH=PLAIN` (an old form) counts
    /// as `AUTH PLAIN`.
    static func extensions(_ reply: SMTPReply) -> [String: String] {
        var extensions: [String: String] = [:]
        for line in reply.lines.dropFirst() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            let separator = trimmed.firstIndex(where: { $0 == " " || $0 == "=" }) ?? trimmed.endIndex
            let keyword = trimmed[..<separator].uppercased()
            let parameters = separator < trimmed.endIndex ? String(trimmed[trimmed.index(after: separator)...]) : ""
            if keyword.isEmpty { continue }
            if let known = extensions[keyword], !known.isEmpty {
                extensions[keyword] = known + " " + parameters
            } else {
                extensions[keyword] = parameters
            }
        }
        return extensions
    }

    /// The name for TLS server name indication and certificate checks; nil for an IP address (the certificate is
    /// then checked against the address).
    static func serverName(_ host: String) -> String? {
        (try? SocketAddress(ipAddress: host, port: 0)) == nil ? host : nil
    }
}

/// Gathers the lines of each reply (`250-…` until `250 …`) and hands each to the command waiting for it. Lives on
/// the channel's event loop.
final class SMTPReplyHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// The most lines one reply may have.
    static let maxLines = 100

    private var context: ChannelHandlerContext?
    private var partial: (code: Int, lines: [String])?
    /// Replies that arrived while no command waited (e.g. `421` before the server closes).
    private var unasked: [SMTPReply] = []
    private var waiting: (promise: EventLoopPromise<SMTPReply>, step: SMTPStep, timer: Scheduled<Void>)?
    /// Why the connection can no longer be used.
    private var failure: SMTPError?

    /// Whether the bytes received so far end with a line break (else part of a line waits in the line decoder).
    var endsAtLineBoundary = true

    /// No reply is pending, half-read (not even part of a line) or unasked, and the connection has not failed.
    var isIdle: Bool {
        waiting == nil && partial == nil && unasked.isEmpty && failure == nil && endsAtLineBoundary
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    /// Writes `bytes` (if any) and returns the next reply, failing after `timeout`. A reply that arrived unasked
    /// answers at once (nothing is written then: the server has spoken out of turn, e.g. `421`).
    func exchange(
        _ bytes: ByteBuffer?, at step: SMTPStep, timeout: TimeAmount, on eventLoop: any EventLoop
    ) -> EventLoopFuture<SMTPReply> {
        if let failure { return eventLoop.makeFailedFuture(failure.at(step)) }
        guard let context else { return eventLoop.makeFailedFuture(SMTPError.closed(step)) }
        if !unasked.isEmpty {
            // A server closing down (421) may say so out of turn; any other reply that came before a command was
            // sent means the dialogue is out of step (it would be taken for the answer to a command that was never
            // sent): the connection is given up.
            let reply = unasked.removeFirst()
            // Nothing to send (the greeting, the answer after the data) or a closing 421: the reply is the answer.
            if bytes == nil || reply.code == 421 { return context.eventLoop.makeSucceededFuture(reply) }
            fail(.malformed("the server answered \(reply.code) before it was asked"))
            return context.eventLoop.makeFailedFuture(failure?.at(step) ?? SMTPError.closed(step))
        }
        guard waiting == nil else {
            return context.eventLoop.makeFailedFuture(
                SMTPError.refused("one SMTP command at a time: \(step.rawValue) must wait"))
        }
        let promise = context.eventLoop.makePromise(of: SMTPReply.self)
        let timer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in
            fail(.timedOut(step, after: .nanoseconds(timeout.nanoseconds)))
        }
        waiting = (promise, step, timer)
        if let bytes { context.writeAndFlush(wrapOutboundOut(bytes), promise: nil) }
        return promise.futureResult
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        let line = buffer.readString(length: buffer.readableBytes) ?? ""
        let bytes = Array(line.utf8)
        guard bytes.count >= 3, let code = Int(String(decoding: bytes[0..<3], as: UTF8.self)),
            (200...599).contains(code),
            bytes.count == 3 || bytes[3] == UInt8(ascii: " ") || bytes[3] == UInt8(ascii: "-")
        else {
            fail(.malformed("a reply line does not start with a reply code"))
            return
        }
        let text = bytes.count > 4 ? String(decoding: bytes[4...], as: UTF8.self) : ""
        var reply = partial ?? (code: code, lines: [])
        guard reply.code == code, reply.lines.count < Self.maxLines else {
            fail(.malformed("a multi-line reply mixes codes or is too long"))
            return
        }
        reply.lines.append(text)
        if bytes.count > 3 && bytes[3] == UInt8(ascii: "-") {
            partial = reply
            return
        }
        partial = nil
        let complete = SMTPReply(code: reply.code, lines: reply.lines)
        if let waiting {
            self.waiting = nil
            waiting.timer.cancel()
            waiting.promise.succeed(complete)
        } else if unasked.count < 10 {
            unasked.append(complete)
        } else {
            fail(.malformed("the server keeps talking out of turn"))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(.closed(waiting?.step ?? .reset))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let step = waiting?.step ?? .reset
        switch error {
        case NIOSSLError.uncleanShutdown, is NIOExtrasErrors.LeftOverBytesError, is IOError:
            fail(.closed(step))
        case is NIOSSLError, is NIOSSLExtraError, is BoringSSLError:
            fail(.unreachable("TLS with the SMTP server failed: \(error)"))
        case is ByteToMessageDecoderError.PayloadTooLargeError:
            fail(.malformed("a reply line is too long"))
        default:
            fail(.malformed("\(error)"))
        }
    }

    /// Fails the waiting command (if any) and closes the connection; later commands fail at once.
    private func fail(_ error: SMTPError) {
        if failure == nil { failure = error }
        if let waiting {
            self.waiting = nil
            waiting.timer.cancel()
            waiting.promise.fail(error)
        }
        context?.close(promise: nil)
    }
}

/// Sits before the line decoder and tells the reply handler whether the bytes so far end at a line break, so that
/// a partial line sent before STARTTLS (an injection attempt) is noticed: it would be glued to the first line
/// read after the handshake.
final class LineBoundaryTracker: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    let replies: SMTPReplyHandler

    init(replies: SMTPReplyHandler) {
        self.replies = replies
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if let last = unwrapInboundIn(data).readableBytesView.last {
            replies.endsAtLineBoundary = last == UInt8(ascii: "\n")
        }
        context.fireChannelRead(data)
    }
}
