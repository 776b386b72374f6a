import AsyncHTTPClient
import Foundation
import NudgeEngine
import NudgeLanguage
@testable import NudgeProviders
import NudgeStore
import Testing

@testable import NudgeDelivery
import NudgeCore

/// An email of the outbox to `to`, as the dispatcher hands it over.
private func email(
    _ id: String, to: String = "ana@example.com", subject: String = "Hi Ana", body: String = "<p>Hello Ana</p>"
) -> OutboundMessage {
    var record = DeliveryFixture.message(id, body: body)
    record.recipient = to
    record.heading = subject
    record.attempts = 1
    return OutboundMessage(record: record, sentAt: DeliveryFixture.start)
}

@Suite("SMTP adapter against a real SMTP server (aiosmtpd)")
struct SMTPAdapterTests {
    static let from = "offers@cafe.example"
    static let unsubscribe = UnsubscribeLinks(baseURL: "https://hooks.example.com", secret: "unsubscribe-key")

    /// An adapter for `server`, trusting its CA and logging in as its test user unless `password` is nil.
    static func adapter(
        _ server: SMTPTestServer, security: SMTPConfiguration.Security = .starttls,
        password: String? = SMTPTestServer.password, connections: Int = 1, timeout: TimeInterval = 15,
        trustServer: Bool = true
    ) throws -> SMTPAdapter {
        var configuration = SMTPConfiguration(
            host: "127.0.0.1", port: server.port, security: security,
            credentials: password.map { .init(username: SMTPTestServer.user, password: $0) }, helo: "client.test",
            timeout: timeout)
        if trustServer, let ca = server.caFile { configuration.trustCertificates(pemFile: ca) }
        return try SMTPAdapter(
            configuration: configuration, from: from, fromName: "Café Ana ☕ — Lisboa", replyTo: "hello@cafe.example",
            unsubscribe: unsubscribe, connections: connections, clock: { DeliveryFixture.start },
            boundary: { "=_nudge_test_boundary" })
    }

    /// The error that delivering `message` throws.
    static func failure(_ adapter: SMTPAdapter, _ message: OutboundMessage) async throws -> DeliveryError {
        try await #require(throws: DeliveryError.self) { try await adapter.deliver(message) }
    }

    @Test("STARTTLS and AUTH PLAIN: a UTF-8 email arrives whole, and Python's email package reads it back")
    func startTLSAndPlain() async throws {
        let server = try await SMTPTestServer([
            "--tls", "starttls", "--user", SMTPTestServer.user, "--password", SMTPTestServer.password,
        ])
        let adapter = try Self.adapter(server)
        let subject = "Café ☕ — ton anniversaire 🎂"
        let html = """
            <p>Olá Ana, o teu café ☕ está à tua espera — ton anniversaire 🎂 approche, et voici une phrase assez longue \
            pour dépasser soixante-seize caractères.</p>
            .a line that starts with a dot
            .
            ..two dots
            <p>Fin =) </p>
            """
        let message = email("msg_utf8", subject: subject, body: html)
        let results = await adapter.deliver(batch: [message])
        #expect(try results[0].get() == DeliveryReceipt(providerMessageID: "<msg_utf8@cafe.example>"))

        let expected = EmailContent(
            message: message, from: Self.from, fromName: "Café Ana ☕ — Lisboa", replyTo: "hello@cafe.example",
            unsubscribe: Self.unsubscribe)
        let received = try server.received()
        try #require(received.count == 1)
        let mail = received[0]
        #expect(mail.mailFrom == Self.from)
        #expect(mail.rcptTos == ["ana@example.com"])
        #expect(mail.defects.isEmpty)
        #expect(mail.type == "multipart/alternative")
        #expect(mail.subject == subject)
        #expect(mail.fromName == "Café Ana ☕ — Lisboa")
        #expect(mail.fromAddress == Self.from)
        #expect(mail.to == "ana@example.com")
        #expect(mail.replyTo == "hello@cafe.example")
        #expect(mail.date == "Wed, 25 Nov 2026 10:00:00 +0000")
        #expect(mail.messageId == "<msg_utf8@cafe.example>")
        #expect(mail.headers["X-Nudge-Id"] == "msg_utf8")
        #expect(mail.headers["MIME-Version"] == "1.0")
        #expect(mail.headers["List-Unsubscribe"] == "<\(Self.unsubscribe.url(customerID: "c1"))>")
        #expect(mail.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click")
        #expect(mail.parts.map(\.type) == ["text/plain", "text/html"])
        #expect(
            mail.parts.allSatisfy { $0.charset == "utf-8" && $0.encoding == "quoted-printable" && $0.defects.isEmpty })
        func decoded(_ text: String) -> String {
            var text = text.replacingOccurrences(of: "\r\n", with: "\n")
            while text.hasSuffix("\n") { text.removeLast() }
            return text
        }
        #expect(decoded(mail.parts.first?.content ?? "") == expected.text)
        #expect(decoded(mail.parts.last?.content ?? "") == html)
        #expect(html.contains("\n.\n") && expected.text.contains(".a line that starts with a dot"))

        // CRLF everywhere, header lines within 78 characters (the unsubscribe URL cannot be folded), body lines
        // within 76.
        let raw = String(decoding: mail.raw, as: UTF8.self)
        #expect(raw.hasSuffix("\r\n"))
        #expect(!raw.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
        #expect(!raw.replacingOccurrences(of: "\r\n", with: "").contains("\r"))
        let lines = raw.components(separatedBy: "\r\n")
        let blank = try #require(lines.firstIndex(of: ""))
        for line in lines[..<blank] where !line.hasPrefix("List-Unsubscribe:") {
            #expect(line.utf8.count <= 78, "\(line)")
        }
        for line in lines[blank...] { #expect(line.utf8.count <= 76, "\(line)") }
        #expect(raw.utf8.allSatisfy { $0 < 0x80 })

        #expect(
            try server.commands(connection: 1) == [
                "connect", "EHLO", "STARTTLS", "EHLO", "AUTH", "MAIL", "RCPT", "DATA", "QUIT",
            ])
    }

    @Test("AUTH LOGIN when the server offers only LOGIN")
    func authLogin() async throws {
        let server = try await SMTPTestServer([
            "--user", SMTPTestServer.user, "--password", SMTPTestServer.password, "--mechanisms", "LOGIN",
        ])
        let adapter = try Self.adapter(server)
        _ = try await adapter.deliver(email("msg_login"))
        await adapter.close()
        #expect(try server.received().map(\.headers["X-Nudge-Id"]) == ["msg_login"])
        #expect(try server.commands(connection: 1).contains("AUTH"))
    }

    @Test("implicit TLS (port 465 style): TLS from the first byte, no STARTTLS")
    func implicitTLS() async throws {
        let server = try await SMTPTestServer([
            "--tls", "implicit", "--user", SMTPTestServer.user, "--password", SMTPTestServer.password,
        ])
        let adapter = try Self.adapter(server, security: .tls)
        let receipt = try await adapter.deliver(email("msg_tls"))
        await adapter.close()
        #expect(receipt.providerMessageID == "<msg_tls@cafe.example>")
        #expect(try server.received().count == 1)
        #expect(try server.commands(connection: 1) == ["connect", "EHLO", "AUTH", "MAIL", "RCPT", "DATA", "QUIT"])
    }

    @Test("a wrong password is a permanent failure that does not show the password, and is not tried again at once")
    func wrongPassword() async throws {
        let server = try await SMTPTestServer(["--user", SMTPTestServer.user, "--password", SMTPTestServer.password])
        let adapter = try Self.adapter(server, password: "wrong-password")
        let results = await adapter.deliver(batch: ["msg_a1", "msg_a2", "msg_a3"].map { email($0) })
        for result in results {
            guard case .failure(let error) = result else {
                Issue.record("delivered with a wrong password")
                continue
            }
            Expected.permanent(containing: "SMTP authentication failed (535 5.7.8").check(error)
            #expect(!error.description.contains("wrong-password"))
        }
        #expect(try server.connections() == 1)
        #expect(try server.received().isEmpty)
        #expect(try server.commands(connection: 1) == ["connect", "EHLO", "STARTTLS", "EHLO", "AUTH"])
    }

    @Test("without STARTTLS on offer nothing is sent: no credentials and no message in clear")
    func noStartTLS() async throws {
        let server = try await SMTPTestServer(["--tls", "none"])
        let adapter = try Self.adapter(server)
        let error = try await Self.failure(adapter, email("msg_clear"))
        Expected.permanent(containing: "does not offer STARTTLS").check(error)
        #expect(try server.commands(connection: 1) == ["connect", "EHLO"])

        // security: none with credentials is refused before connecting.
        let clear = try Self.adapter(server, security: .none)
        Expected.permanent(containing: "without TLS").check(try await Self.failure(clear, email("msg_clear2")))
        #expect(try server.connections() == 1)
        #expect(try server.received().isEmpty)
    }

    @Test("security: none without credentials sends in clear to a relay")
    func plainRelay() async throws {
        let server = try await SMTPTestServer(["--tls", "none"])
        let adapter = try Self.adapter(server, security: .none, password: nil)
        _ = try await adapter.deliver(email("msg_relay"))
        await adapter.close()
        #expect(try server.received().count == 1)
        #expect(try server.commands(connection: 1) == ["connect", "EHLO", "MAIL", "RCPT", "DATA", "QUIT"])
    }

    @Test("a certificate the system does not trust fails the TLS handshake (transient), before AUTH")
    func untrustedCertificate() async throws {
        let server = try await SMTPTestServer(["--user", SMTPTestServer.user, "--password", SMTPTestServer.password])
        let adapter = try Self.adapter(server, trustServer: false)
        Expected.transient(containing: "TLS", retryAfter: nil).check(try await Self.failure(adapter, email("msg_mitm")))
        #expect(try !server.commands(connection: 1).contains("AUTH"))
        #expect(try server.received().isEmpty)
    }

    @Test("a refused recipient is permanent, its address is not in the error, and the connection goes on")
    func refusedRecipient() async throws {
        let server = try await SMTPTestServer([
            "--user", SMTPTestServer.user, "--password", SMTPTestServer.password,
            "--reply", "gone@example.com=550 5.1.1 <gone@example.com>: Recipient address rejected: User unknown",
        ])
        let adapter = try Self.adapter(server)
        let error = try await Self.failure(adapter, email("msg_gone", to: "gone@example.com"))
        Expected.permanent(containing: "550 5.1.1 <address>: Recipient address rejected").check(error)
        #expect(!error.description.contains("gone@example.com"))
        _ = try await adapter.deliver(email("msg_ok"))
        await adapter.close()
        #expect(try server.connections() == 1)
        #expect(try server.received().map(\.rcptTos) == [["ana@example.com"]])
        #expect(
            try server.commands(connection: 1).suffix(7) == ["MAIL", "RCPT", "RSET", "MAIL", "RCPT", "DATA", "QUIT"])
    }

    @Test("452 and 421 answers are transient; after a 421 the next message goes over a new connection")
    func transientAnswers() async throws {
        let server = try await SMTPTestServer([
            "--user", SMTPTestServer.user, "--password", SMTPTestServer.password,
            "--reply", "full@example.com=452 4.5.3 Too many recipients",
            "--reply", "later@example.com=421 4.7.0 Try again later",
        ])
        let adapter = try Self.adapter(server)
        Expected.transient(containing: "452 4.5.3 Too many recipients", retryAfter: nil)
            .check(try await Self.failure(adapter, email("msg_full", to: "full@example.com")))
        Expected.transient(containing: "421 4.7.0", retryAfter: nil)
            .check(try await Self.failure(adapter, email("msg_later", to: "later@example.com")))
        _ = try await adapter.deliver(email("msg_ok"))
        await adapter.close()
        #expect(try server.connections() == 2)
        #expect(try server.received().map(\.headers["X-Nudge-Id"]) == ["msg_ok"])
    }

    @Test("a batch goes over one connection: RSET between messages, QUIT at the end")
    func oneConnection() async throws {
        let server = try await SMTPTestServer(["--user", SMTPTestServer.user, "--password", SMTPTestServer.password])
        let adapter = try Self.adapter(server, connections: 1)
        let ids = (1...4).map { "msg_\($0)" }
        let results = await adapter.deliver(batch: ids.map { email($0) })
        #expect(try results.map { try $0.get().providerMessageID } == ids.map { "<\($0)@cafe.example>" })
        #expect(try server.connections() == 1)
        #expect(try server.received().map(\.headers["X-Nudge-Id"]) == ids)
        let transaction = ["MAIL", "RCPT", "DATA"]
        #expect(
            try server.commands(connection: 1)
                == ["connect", "EHLO", "STARTTLS", "EHLO", "AUTH"] + transaction
                + Array([[String]](repeating: ["RSET"] + transaction, count: 3).joined()) + ["QUIT"])
    }

    @Test("at most `connections` connections for a concurrent batch")
    func pooled() async throws {
        let server = try await SMTPTestServer(["--user", SMTPTestServer.user, "--password", SMTPTestServer.password])
        let adapter = try Self.adapter(server, connections: 2)
        let results = await adapter.deliver(batch: (1...6).map { email("msg_\($0)") })
        #expect(results.allSatisfy { (try? $0.get()) != nil })
        #expect(try (1...2).contains(server.connections()))
        #expect(try server.received().count == 6)
        #expect(try server.events().filter { $0.hasSuffix(" QUIT") }.count == server.connections())
    }

    @Test(
        "a connection the server dropped, or closed with 421, is replaced and the message sent",
        arguments: [
            "--drop-after", "--busy-after",
        ])
    func reopened(option: String) async throws {
        let server = try await SMTPTestServer([
            "--user", SMTPTestServer.user, "--password", SMTPTestServer.password, option, "1",
        ])
        let adapter = try Self.adapter(server)
        for id in ["msg_1", "msg_2", "msg_3"] {
            _ = try await adapter.deliver(email(id))
            // Give the server's close time to arrive (or not: both ways must work).
            try await Task.sleep(for: .milliseconds(id == "msg_2" ? 100 : 0))
        }
        await adapter.close()
        #expect(try server.received().map(\.headers["X-Nudge-Id"]) == ["msg_1", "msg_2", "msg_3"])
        #expect(try server.received().map(\.connection) == [1, 2, 3])
    }

    @Test("bytes injected after the STARTTLS go-ahead are refused before the handshake: no AUTH, nothing sent")
    func startTLSInjection() async throws {
        let server = try await SMTPTestServer(["--inject"])
        let adapter = try Self.adapter(server, timeout: 10)
        Expected.transient(containing: "before the TLS handshake", retryAfter: nil).check(
            try await Self.failure(adapter, email("msg_injected")))
        #expect(try server.commands(connection: 1) == ["connect", "EHLO", "STARTTLS"])
    }

    @Test("a server that says nothing times out (transient)")
    func silentServer() async throws {
        let server = try await SMTPTestServer(["--mute"])
        let adapter = try Self.adapter(server, password: nil, timeout: 0.5)
        // The configured timeout, not the default 15 s, is the one that ran out.
        Expected.transient(containing: "did not answer greeting within 500 ms", retryAfter: nil)
            .check(try await Self.failure(adapter, email("msg_silent")))
    }

    @Test("an unreachable server is transient")
    func unreachable() async throws {
        let server = try await SMTPTestServer([])
        let port = server.port
        server.stop()
        let configuration = SMTPConfiguration(host: "127.0.0.1", port: port, timeout: 2)
        let adapter = try SMTPAdapter(configuration: configuration, from: Self.from)
        Expected.transient(containing: "unreachable", retryAfter: nil).check(
            try await Self.failure(adapter, email("msg_down")))
    }

    @Test(
        "a recipient SMTP cannot carry is permanent, before connecting",
        arguments: ["", "ana", "ana@exämple.com", "a b@example.com"])
    func badRecipient(recipient: String) async throws {
        let adapter = try SMTPAdapter(configuration: SMTPConfiguration(host: "127.0.0.1", port: 9), from: Self.from)
        Expected.permanent(containing: "not a plain ASCII email address").check(
            try await Self.failure(adapter, email("msg_bad", to: recipient)))
    }
}

@Suite("SMTP settings of nudge.yaml")
struct SMTPSettingsTests {
    static func context(_ settings: [String: String], environment: [String: String] = [:]) -> Adapters.Context {
        Adapters.Context(channel: .email, settings: settings, environment: environment, client: HTTPClient.shared)
    }

    @Test("host, port, security, credentials, helo, timeout and connections come from the settings")
    func settings() throws {
        let adapter = try #require(
            try SMTPProvider().makeAdapter(
                Self.context(
                    [
                        "host": "smtp.example.com", "port": "465", "from": "offers@cafe.example", "username": "ana",
                        "password_env": "SMTP_PASSWORD", "helo": "cafe.example", "timeout": "20s", "from_name": "Café",
                    ], environment: ["SMTP_PASSWORD": "pw"])) as? SMTPAdapter)
        let configuration = adapter.pool.configuration
        #expect(configuration.host == "smtp.example.com")
        #expect(configuration.port == 465)
        #expect(configuration.security == .tls)
        #expect(configuration.credentials?.username == "ana" && configuration.credentials?.password == "pw")
        #expect(!"\(configuration.credentials!)".contains("pw"))
        #expect(configuration.helo == "cafe.example")
        #expect(configuration.timeout == 20)
        #expect(adapter.pool.limit == SMTPAdapter.defaultConnections)
        #expect(adapter.fromName == "Café")

        let defaults = try SMTPAdapter(
            context: Self.context(["host": "smtp.example.com", "from": "offers@cafe.example", "concurrency": "3"]))
        #expect(defaults.pool.configuration.port == 587)
        #expect(defaults.pool.configuration.security == .starttls)
        #expect(defaults.pool.configuration.credentials == nil)
        #expect(defaults.pool.configuration.helo == "localhost")
        #expect(defaults.pool.limit == 3)

        // A relay on this machine that needs no login (a local Postfix, a test server) is spoken to in plain, on 25
        // unless told otherwise; with a login, TLS stays required.
        let local = try SMTPAdapter(context: Self.context(["host": "127.0.0.1", "from": "offers@cafe.example"]))
        #expect(local.pool.configuration.security == SMTPConfiguration.Security.none)
        #expect(local.pool.configuration.port == 25)
        let localPort = try SMTPAdapter(
            context: Self.context(["host": "localhost", "port": "8025", "from": "offers@cafe.example"]))
        #expect(localPort.pool.configuration.security == SMTPConfiguration.Security.none)
        let localLogin = try SMTPAdapter(
            context: Self.context(
                ["host": "127.0.0.1", "from": "offers@cafe.example", "username": "ana", "password_env": "SMTP_PASSWORD"],
                environment: ["SMTP_PASSWORD": "pw"]))
        #expect(localLogin.pool.configuration.security == .starttls)
    }

    @Test(
        "a missing password, a non-ASCII address or a bad host name is a configuration error",
        arguments: [
            (["username": "ana", "password_env": "MISSING"], "MISSING"),
            (["from": "café@cafe.example"], "'from' must be a plain ASCII email address"),
            (["helo": "two words"], "'helo' must be a host name"),
            (["host": "smtp example.com"], "'host' must be a host name"),
            (["reply_to": "réponse@cafe.example"], "'reply_to' must be a plain ASCII email address"),
        ])
    func configurationErrors(extra: [String: String], message: String) throws {
        let settings = ["host": "smtp.example.com", "from": "offers@cafe.example"].merging(extra) { $1 }
        let error = try #require(throws: Adapters.ConfigurationError.self) {
            try SMTPAdapter(context: Self.context(settings))
        }
        #expect(error.description.contains(message), "\(error)")
        #expect(error.description.hasPrefix("channel 'email': "))
    }
}

@Suite("SMTP message encoding (MIME, RFC 2047, quoted-printable, dot-stuffing)")
struct SMTPEncodingTests {
    /// The text of RFC 2047 encoded words, each of which must hold whole UTF-8 sequences.
    static func decodeWords(_ header: String) throws -> String {
        var text = ""
        for token in header.components(separatedBy: "\r\n").joined().split(separator: " ") where token.hasPrefix("=?") {
            #expect(token.hasPrefix("=?UTF-8?B?") && token.hasSuffix("?="))
            #expect(token.count <= 75)
            let data = try #require(Data(base64Encoded: String(token.dropFirst(10).dropLast(2))))
            text += try #require(String(validating: data, as: UTF8.self))
        }
        return text
    }

    /// Quoted-printable decoded, soft breaks removed and hard ones as LF.
    static func decodeQuotedPrintable(_ text: String) -> String {
        var bytes: [UInt8] = []
        let lines = text.components(separatedBy: "\r\n")
        for (number, line) in lines.enumerated() {
            var line = Array(line.utf8)
            let isSoft = line.last == UInt8(ascii: "=")
            if isSoft { line.removeLast() }
            var index = 0
            while index < line.count {
                if line[index] == UInt8(ascii: "="), index + 2 < line.count {
                    bytes.append(UInt8(String(decoding: line[index + 1...index + 2], as: UTF8.self), radix: 16) ?? 0)
                    index += 3
                } else {
                    bytes.append(line[index])
                    index += 1
                }
            }
            if !isSoft && number < lines.count - 1 { bytes.append(UInt8(ascii: "\n")) }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test(
        "a UTF-8 subject becomes encoded words of at most 75 characters, lines of at most 78, characters whole",
        arguments: [
            "Café ☕ — ton anniversaire 🎂",
            String(repeating: "🎂☕é", count: 40),
            "x" + String(repeating: "é", count: 100),
            "Olá " + String(repeating: "👩‍👩‍👧‍👦", count: 12),
        ])
    func encodedSubject(subject: String) throws {
        let header = MIMEHeader.unstructured("Subject", subject)
        #expect(header.hasPrefix("Subject: =?UTF-8?B?"))
        for line in header.components(separatedBy: "\r\n") { #expect(line.utf8.count <= 78, "\(line)") }
        #expect(try Self.decodeWords(String(header.dropFirst("Subject: ".count))) == subject)
    }

    @Test("an ASCII subject stays readable, folded at spaces; a word too long to fold is encoded")
    func asciiSubject() throws {
        #expect(MIMEHeader.unstructured("Subject", "Hi Ana") == "Subject: Hi Ana")
        let long = (1...30).map { "word\($0)" }.joined(separator: " ")
        let folded = MIMEHeader.unstructured("Subject", long)
        #expect(folded.components(separatedBy: "\r\n").count > 1)
        #expect(folded.components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 78 })
        #expect(folded.replacingOccurrences(of: "\r\n", with: "") == "Subject: " + long)
        let unbroken = String(repeating: "a", count: 90)
        #expect(try Self.decodeWords(String(MIMEHeader.unstructured("Subject", unbroken).dropFirst(9))) == unbroken)
        // Line breaks never start a new header; "=?" is encoded so that it is not read as an encoded word.
        #expect(MIMEHeader.unstructured("Subject", "a\r\nBcc: x@example.com") == "Subject: a Bcc: x@example.com")
        #expect(MIMEHeader.unstructured("Subject", "=?UTF-8?B?QQ==?=").hasPrefix("Subject: =?UTF-8?B?PT9"))
    }

    @Test("display names: atoms as they are, specials quoted, non-ASCII encoded, the address kept whole")
    func displayNames() throws {
        #expect(MIMEHeader.mailbox("From", address: "a@b.example", displayName: nil) == "From: a@b.example")
        #expect(
            MIMEHeader.mailbox("From", address: "a@b.example", displayName: "Cafe Ana")
                == "From: Cafe Ana <a@b.example>")
        #expect(
            MIMEHeader.mailbox("From", address: "a@b.example", displayName: #"Ana "the" Barista, Lisboa\"#)
                == #"From: "Ana \"the\" Barista, Lisboa\\" <a@b.example>"#)
        let name = String(repeating: "Café ☕ ", count: 8)
        let header = MIMEHeader.mailbox("From", address: "offers@cafe.example", displayName: name)
        #expect(header.hasSuffix(" <offers@cafe.example>"))
        #expect(header.components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 78 })
        #expect(try Self.decodeWords(String(header.dropFirst(6))) == name)
    }

    @Test("quoted-printable: lines of at most 76 with soft breaks, CRLF, '=' and trailing spaces encoded")
    func quotedPrintable() {
        let text =
            String(repeating: "é", count: 60) + "\n" + String(repeating: "a", count: 200)
            + "\nx = 1 \n\ttab\t\r\n.dot\rend"
        let encoded = QuotedPrintable.encode(text)
        let lines = encoded.components(separatedBy: "\r\n")
        #expect(lines.allSatisfy { $0.utf8.count <= 76 })
        #expect(lines.allSatisfy { !$0.hasSuffix(" ") && !$0.hasSuffix("\t") })
        #expect(!encoded.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
        #expect(encoded.utf8.allSatisfy { $0 < 0x80 })
        #expect(lines.contains("x =3D 1=20"))
        #expect(lines.contains("\ttab=09"))
        #expect(lines.contains(".dot"))
        #expect(lines.first?.hasPrefix("=C3=A9=C3=A9") == true)
        #expect(lines.first?.hasSuffix("=") == true)
        #expect(
            Self.decodeQuotedPrintable(encoded)
                == text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n"))
        // An escape is never cut by a soft break: every "=" but a soft break's is followed by two hex digits.
        for line in lines {
            let body = Array((line.hasSuffix("=") ? String(line.dropLast()) : line).utf8)
            for (index, byte) in body.enumerated() where byte == UInt8(ascii: "=") {
                #expect(
                    index + 2 < body.count && body[index + 1...index + 2].allSatisfy { $0 >= 0x30 && $0 <= 0x46 },
                    "\(line)")
            }
        }
        // Exactly 76 characters fit when the line ends there; 77 need a soft break.
        #expect(QuotedPrintable.encode(String(repeating: "b", count: 76)) == String(repeating: "b", count: 76))
        #expect(
            QuotedPrintable.encode(String(repeating: "b", count: 77)) == String(repeating: "b", count: 75) + "=\r\nbb")
    }

    @Test("dot-stuffing doubles a leading dot, ends the text with CRLF and adds the terminating dot line")
    func dotStuffing() {
        let stuffed = MIMEMessage.dotStuffed("a\r\n.b\r\n..c\r\n.\r\nd.e")
        #expect(String(decoding: stuffed, as: UTF8.self) == "a\r\n..b\r\n...c\r\n..\r\nd.e\r\n.\r\n")
        #expect(String(decoding: MIMEMessage.dotStuffed(".x\r\n"), as: UTF8.self) == "..x\r\n.\r\n")
    }

    @Test("the message: headers in order, Message-ID from the outbox id, multipart/alternative text then HTML")
    func message() {
        let content = EmailContent(
            from: "offers@cafe.example", to: "ana@example.com", subject: "Hi", html: "<p>Hi</p>", text: "Hi",
            outboxID: "msg 1/é", unsubscribeURL: "https://x.example/u/1")
        let mime = MIMEMessage(content, date: Date(timeIntervalSince1970: 0), boundary: "=_b")
        #expect(mime.messageID == "<msg=201=2F=C3=A9@cafe.example>")
        #expect(
            mime.text == """
                Date: Thu, 01 Jan 1970 00:00:00 +0000\r
                From: offers@cafe.example\r
                To: ana@example.com\r
                Subject: Hi\r
                Message-ID: <msg=201=2F=C3=A9@cafe.example>\r
                MIME-Version: 1.0\r
                X-Nudge-Id: msg 1/é\r
                List-Unsubscribe: <https://x.example/u/1>\r
                List-Unsubscribe-Post: List-Unsubscribe=One-Click\r
                Content-Type: multipart/alternative;\r
                 boundary="=_b"\r
                \r
                --=_b\r
                Content-Type: text/plain; charset=utf-8\r
                Content-Transfer-Encoding: quoted-printable\r
                \r
                Hi\r
                --=_b\r
                Content-Type: text/html; charset=utf-8\r
                Content-Transfer-Encoding: quoted-printable\r
                \r
                <p>Hi</p>\r
                --=_b--\r

                """)
        let boundary = MIMEMessage.randomBoundary()
        #expect(boundary.hasPrefix("=_nudge_") && boundary.count == 40 && boundary != MIMEMessage.randomBoundary())
    }

    @Test("EHLO extensions, reply descriptions without addresses, and what each failure means")
    func replies() {
        let ehlo = SMTPReply(code: 250, lines: ["smtp.test", "SIZE 100", "AUTH=PLAIN", "AUTH LOGIN", "starttls"])
        #expect(SMTPClient.extensions(ehlo) == ["SIZE": "100", "AUTH": "PLAIN LOGIN", "STARTTLS": ""])
        #expect(
            SMTPReply(code: 550, lines: ["5.1.1 <ana@example.com>: unknown", "more"]).description
                == "550 5.1.1 <address>: unknown")
        let cases: [(SMTPError, Bool, String)] = [
            (
                .rejected(.auth, SMTPReply(code: 535, lines: ["5.7.8 Bad credentials"])), true,
                "SMTP authentication failed (535 5.7.8"
            ),
            (.rejected(.auth, SMTPReply(code: 454, lines: ["4.7.0 Try later"])), false, "454"),
            (.rejected(.mail, SMTPReply(code: 530, lines: ["5.7.0 Authentication required"])), true, "530"),
            (.rejected(.recipient, SMTPReply(code: 451, lines: ["4.3.0 Local error"])), false, "451"),
            (
                .rejected(.message, SMTPReply(code: 554, lines: ["5.7.1 Spam"])), true,
                "554 5.7.1 Spam to the end of DATA"
            ),
            (.rejected(.data, SMTPReply(code: 250, lines: ["odd"])), false, "250 odd"),
            (.timedOut(.message, after: .seconds(15)), false, "did not answer the end of DATA within 15000 ms"),
            (.closed(.recipient), false, "closed the connection at RCPT TO"),
            (.refused("no TLS"), true, "no TLS"),
        ]
        for (error, isPermanent, text) in cases {
            let mapped = SMTPAdapter.deliveryError(error)
            if case .permanent = mapped {
                #expect(isPermanent, "\(mapped)")
            } else {
                #expect(!isPermanent, "\(mapped)")
            }
            #expect(mapped.description.contains(text), "\(mapped)")
        }
    }
}
