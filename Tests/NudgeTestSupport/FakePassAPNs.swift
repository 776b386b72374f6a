import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdHTTP2
import NIOCore
public import NIOSSL
import SwiftASN1
import Synchronization
import X509

/// A certificate authority and a certificate for 127.0.0.1 it issued, for loopback TLS servers in tests.
public enum LoopbackTLS {
    /// The authority's PEM (what a client's `ca_file` trusts) and the server's TLS configuration.
    public static func certificates() throws -> (caPEM: String, tls: TLSConfiguration) {
        let start = Date().addingTimeInterval(-3600)
        let caKey = P256.Signing.PrivateKey()
        let caName = try DistinguishedName { CommonName("Nudge test CA") }
        let ca = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(caKey.publicKey), notValidBefore: start,
            notValidAfter: start.addingTimeInterval(86_400 * 2), issuer: caName, subject: caName,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(keyCertSign: true))
            },
            issuerPrivateKey: .init(caKey))
        let serverKey = P256.Signing.PrivateKey()
        let server = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(serverKey.publicKey), notValidBefore: start,
            notValidAfter: start.addingTimeInterval(86_400 * 2), issuer: caName,
            subject: try DistinguishedName { CommonName("127.0.0.1") }, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames([.ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1])), .dnsName("localhost")])
            },
            issuerPrivateKey: .init(caKey))
        let caPEM = try ca.serializeAsPEM().pemString
        let serverPEM = try server.serializeAsPEM().pemString
        let tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(try NIOSSLCertificate(bytes: Array(serverPEM.utf8), format: .pem))],
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(serverKey.pemRepresentation.utf8), format: .pem)))
        return (caPEM, tls)
    }
}

/// APNs as Wallet's pass updates use it, on 127.0.0.1 over HTTP/2 and TLS: the client must present a certificate
/// issued by the test pass chain (`TestPassCertificates`: the handshake fails without one), and each request must be
/// `POST /3/device/{token}` with `apns-topic` the pass type id and the payload `{}`. Tokens marked dead get 410
/// Unregistered; scripted statuses are answered in order (200 when none is left).
public final class FakePassAPNs: Sendable {
    /// One push as received.
    public struct Received: Sendable, Hashable {
        public var device: String
        public var topic: String?
        public var payload: String
        public var status: Int
    }

    private struct State {
        var replies: [Int] = []
        var dead: Set<String> = []
        var received: [Received] = []
    }
    private let state = Mutex(State())
    public let passTypeID: String

    init(passTypeID: String) { self.passTypeID = passTypeID }

    /// Statuses to answer next (429 and 500 with APNs' reasons).
    public func enqueue(_ statuses: Int...) { state.withLock { $0.replies += statuses } }
    public func markDead(_ device: String) { state.withLock { _ = $0.dead.insert(device) } }
    public var received: [Received] { state.withLock { $0.received } }

    /// Runs a fake trusting `certificates`' chain for client certificates for the duration of `body`, which gets the
    /// fake, its base URL and the path of a PEM file with the authority its server certificate is issued by.
    public static func with<T>(
        passTypeID: String, trusting certificates: TestPassCertificates, _ body: (FakePassAPNs, String, String) async throws -> T
    ) async throws -> T {
        let fake = FakePassAPNs(passTypeID: passTypeID)
        var (caPEM, tls) = try LoopbackTLS.certificates()
        tls.certificateVerification = .noHostnameVerification
        tls.trustRoots = .certificates(
            try [certificates.rootPEM, certificates.wwdrPEM].map { try NIOSSLCertificate(bytes: Array($0.utf8), format: .pem) })
        let caFile = FileManager.default.temporaryDirectory.appendingPathComponent("fake-pass-apns-\(UUID().uuidString).pem")
        try caPEM.write(to: caFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: caFile) }
        let router = Router()
        router.post("/3/device/:token") { request, context in
            var request = request
            let payload = String(buffer: try await request.collectBody(upTo: 1 << 16))
            let device = context.parameters.get("token") ?? ""
            let topic = request.headers[HTTPField.Name("apns-topic")!]
            let status = fake.answer(device: device, topic: topic, payload: payload)
            fake.state.withLock {
                $0.received.append(Received(device: device, topic: topic, payload: payload, status: status.code))
            }
            guard status != .ok else { return Response(status: .ok) }
            let reason = [400: "BadRequest", 410: "Unregistered", 429: "TooManyRequests", 500: "InternalServerError"][status.code]
            return Response(
                status: status, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: #"{"reason":"\#(reason ?? "Error")"}"#)))
        }
        return try await withLoopbackServer(
            router, server: try .http2Upgrade(tlsConfiguration: tls), scheme: "https", label: "fake-pass-apns"
        ) { url in try await body(fake, url, caFile.path) }
    }

    private func answer(device: String, topic: String?, payload: String) -> HTTPResponse.Status {
        guard topic == passTypeID,
            let object = try? JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any], object.isEmpty
        else { return .badRequest }
        if state.withLock({ $0.dead.contains(device) }) { return .gone }
        let next = state.withLock { $0.replies.isEmpty ? 200 : $0.replies.removeFirst() }
        return HTTPResponse.Status(code: next)
    }
}
