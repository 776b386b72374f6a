import Foundation
import NudgeProviders
import NudgeServer
import Testing

@Suite("Provider signatures, checked against the published vectors")
struct SignatureTests {
    static let sendGridKey =
        "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEDr2LjtURuePQzplybdC+u4CwrqDqBaWjcMMsTbhdbcwHBcepxo7yAQGhHPTnlvFYPAZFceEu/1FwCM/QmGUhA=="
    static let sendGridPayload = #"{"category":"example_payload","event":"test_event","message_id":"message_id"}"#
    static let sendGridSignature =
        "MEUCIQCtIHJeH93Y+qpYeWrySphQgpNGNr/U+UyUlBkU6n7RAwIgJTz2C+8a8xonZGi6BpSzoQsbVRamr2nlxFDWYNH2j/0="

    @Test("SendGrid's official test vector verifies, and fails once the payload gains a CRLF")
    func sendGridVector() throws {
        let verifier = try #require(SendGridSignature(publicKey: Self.sendGridKey))
        #expect(
            verifier.isValid(
                signature: Self.sendGridSignature, timestamp: "1588788367", body: Data(Self.sendGridPayload.utf8)))
        #expect(
            !verifier.isValid(
                signature: Self.sendGridSignature, timestamp: "1588788367",
                body: Data((Self.sendGridPayload + "\r\n").utf8)))
        #expect(
            !verifier.isValid(
                signature: Self.sendGridSignature, timestamp: "1588788368", body: Data(Self.sendGridPayload.utf8)))
        #expect(
            !verifier.isValid(signature: "not base64!", timestamp: "1588788367", body: Data(Self.sendGridPayload.utf8)))
    }

    @Test("a SendGrid key that is not a P-256 public key is refused; a PEM block is read")
    func sendGridKeys() {
        #expect(SendGridSignature(publicKey: "") == nil)
        #expect(SendGridSignature(publicKey: "c2VjcmV0") == nil)
        let pem = "-----BEGIN PUBLIC KEY-----\n" + Self.sendGridKey + "\n-----END PUBLIC KEY-----\n"
        let verifier = SendGridSignature(publicKey: pem)
        #expect(
            verifier?.isValid(
                signature: Self.sendGridSignature, timestamp: "1588788367", body: Data(Self.sendGridPayload.utf8))
                == true)
    }

    @Test("Twilio's worked example signs to 0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
    func twilioVector() {
        let twilio = TwilioSignature(authToken: "12345")
        let parameters = [
            (name: "CallSid", value: "CA1234567890ABCDE"), (name: "Caller", value: "+12349013030"),
            (name: "Digits", value: "1234"), (name: "From", value: "+12349013030"), (name: "To", value: "+18005551212"),
        ]
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2"
        #expect(twilio.signature(url: url, parameters: parameters) == "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
        #expect(twilio.signature(url: url, parameters: parameters.reversed()) == "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
        #expect(twilio.isValid("0/KCTR6DLpKmkAf8muzZqo1nDgQ=", url: url, parameters: parameters))
        #expect(!twilio.isValid("0/KCTR6DLpKmkAf8muzZqo1nDgQ=", url: url, parameters: Array(parameters.dropLast())))
        #expect(
            !TwilioSignature(authToken: "54321").isValid(
                "0/KCTR6DLpKmkAf8muzZqo1nDgQ=", url: url, parameters: parameters))
    }

    @Test("a Twilio signature over the URL with :443 verifies the URL without it, and the other way round")
    func twilioPorts() {
        let twilio = TwilioSignature(authToken: "12345")
        let parameters = [(name: "MessageSid", value: "SM1"), (name: "MessageStatus", value: "delivered")]
        let withPort = twilio.signature(
            url: "https://hooks.example.com:443/webhooks/twilio/status?nudge_id=m1", parameters: parameters)
        let without = twilio.signature(
            url: "https://hooks.example.com/webhooks/twilio/status?nudge_id=m1", parameters: parameters)
        #expect(
            twilio.isValid(
                withPort, url: "https://hooks.example.com/webhooks/twilio/status?nudge_id=m1", parameters: parameters))
        #expect(
            twilio.isValid(
                without, url: "https://hooks.example.com:443/webhooks/twilio/status?nudge_id=m1", parameters: parameters
            ))
        let otherPort = twilio.signature(
            url: "https://hooks.example.com:8443/webhooks/twilio/status?nudge_id=m1", parameters: parameters)
        #expect(
            !twilio.isValid(
                otherPort, url: "https://hooks.example.com/webhooks/twilio/status?nudge_id=m1", parameters: parameters))
    }

    @Test("the Mailgun example signs timestamp + token with the signing key")
    func mailgunVector() {
        let mailgun = MailgunSignature(signingKey: "test-signing-key")
        let token = "e0b5477167110d68991efc6b9f89f0a11066af27834600e123"
        let signature = "b9a8bb344ca3d6d56265fd9b0e20423ab237b45ee3ea36835d7d8ab5e0e6ef06"
        #expect(mailgun.isValid(timestamp: "1770920772", token: token, signature: signature))
        #expect(mailgun.isValid(timestamp: "1770920772", token: token, signature: signature.uppercased()))
        #expect(!mailgun.isValid(timestamp: "1770920773", token: token, signature: signature))
        #expect(!mailgun.isValid(timestamp: "1770920772", token: token + "x", signature: signature))
        #expect(
            !MailgunSignature(signingKey: "other").isValid(timestamp: "1770920772", token: token, signature: signature))
        #expect(!mailgun.isValid(timestamp: "1770920772", token: token, signature: "zz"))
    }
}
