import Crypto
public import Foundation

/// Verifies SendGrid's signed Event Webhook: an ECDSA P-256 / SHA-256 signature (base64 DER, header
/// `X-Twilio-Email-Event-Webhook-Signature`) over the timestamp header followed by the exact body bytes.
public struct SendGridSignature: Sendable {
    /// The key's DER form (the parsed key is not `Sendable`).
    private let der: Data

    /// The verifier for the account's public key as SendGrid shows it: base64 DER SubjectPublicKeyInfo (a PEM
    /// block is accepted too). Nil when the text is not a P-256 public key.
    public init?(publicKey: String) {
        // A PEM block's base64 lines are the DER; lines of any width are accepted.
        let base64 = publicKey.split(whereSeparator: \.isNewline).filter { !$0.hasPrefix("-----") }.joined()
            .filter { !$0.isWhitespace }
        guard let der = Data(base64Encoded: base64), (try? P256.Signing.PublicKey(derRepresentation: der)) != nil
        else { return nil }
        self.der = der
    }

    /// Whether `signature` (base64 DER) signs `timestamp + body`.
    public func isValid(signature: String, timestamp: String, body: some DataProtocol) -> Bool {
        guard let der = Data(base64Encoded: signature.trimmingCharacters(in: .whitespaces)),
            let signature = try? P256.Signing.ECDSASignature(derRepresentation: der),
            let key = try? P256.Signing.PublicKey(derRepresentation: self.der)
        else { return false }
        var message = Data(timestamp.utf8)
        message.append(contentsOf: body)
        return key.isValidSignature(signature, for: message)
    }
}
