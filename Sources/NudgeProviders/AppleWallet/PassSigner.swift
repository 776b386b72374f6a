public import Foundation
@_spi(CMS) import X509
import SwiftASN1

/// Signs an Apple Wallet pass's manifest: a detached CMS (PKCS #7) signature by the pass type certificate, with
/// Apple's WWDR intermediate certificate included, SHA-256 and a signing time, as Wallet verifies it.
public struct PassSigner: Sendable {
    let certificate: Certificate
    let key: Certificate.PrivateKey
    let intermediate: Certificate

    /// Why the certificates cannot be used; never quotes a key.
    public struct Problem: Error, Sendable, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    /// A signer from `certificatePEM` (the pass type certificate and its private key, PEM blocks in one text) and
    /// `wwdrPEM` (Apple's WWDR intermediate certificate).
    public init(certificatePEM: String, wwdrPEM: String) throws(Problem) {
        guard let documents = try? PEMDocument.parseMultiple(pemString: certificatePEM), !documents.isEmpty else {
            throw Problem(description: "the pass certificate is not PEM text")
        }
        guard let certificateDocument = documents.first(where: { $0.discriminator == "CERTIFICATE" }),
            let certificate = try? Certificate(pemDocument: certificateDocument)
        else { throw Problem(description: "the pass certificate's PEM holds no certificate") }
        guard let keyDocument = documents.first(where: { $0.discriminator.hasSuffix("PRIVATE KEY") }),
            let key = try? Certificate.PrivateKey(pemDocument: keyDocument)
        else { throw Problem(description: "the pass certificate's PEM holds no private key (PKCS #8, RSA or EC)") }
        guard key.publicKey == certificate.publicKey else {
            throw Problem(description: "the private key is not the pass certificate's")
        }
        guard let intermediate = try? Certificate(pemEncoded: wwdrPEM) else {
            throw Problem(description: "the WWDR certificate is not a PEM certificate")
        }
        self.certificate = certificate
        self.key = key
        self.intermediate = intermediate
    }

    /// Whether `pem` holds a certificate.
    public static func isCertificate(_ pem: String) -> Bool {
        (try? Certificate(pemEncoded: pem)) != nil
    }

    /// The detached signature of `manifest` (DER).
    public func sign(_ manifest: Data, at date: Date) throws(Problem) -> Data {
        do {
            // SHA-256 with the key's kind: RSA for Apple's pass certificates.
            let signature = try CMS.sign(
                manifest, additionalIntermediateCertificates: [intermediate], certificate: certificate, privateKey: key,
                signingTime: date, detached: true)
            return Data(signature)
        } catch {
            throw Problem(description: "cannot sign the pass manifest: \(error)")
        }
    }
}
