import Foundation
import NudgeDelivery
import NudgeProviders
import NudgeTestSupport
import Testing

@Suite("Standard Webhooks signer")
struct StandardWebhookSignerTests {
    static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    static let id = "msg_p5jXN8AQM9LWM0D4loKWxJek"
    static let timestamp = 1_614_265_330
    static let body = Data(#"{"test": 2432232314}"#.utf8)

    @Test("reproduces the specification's test vector")
    func testVector() {
        let signer = StandardWebhookSigner(secret: Self.secret)
        #expect(
            signer.signature(id: Self.id, timestamp: Self.timestamp, body: Self.body)
                == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
    }

    @Test(
        "any change to the signed content changes the signature",
        arguments: [
            (id: id, timestamp: timestamp, body: #"{"test": 2432232315}"#),
            (id: id, timestamp: timestamp, body: #"{"test":2432232314}"#),
            (id: id, timestamp: timestamp + 1, body: #"{"test": 2432232314}"#),
            (id: "msg_p5jXN8AQM9LWM0D4loKWxJeK", timestamp: timestamp, body: #"{"test": 2432232314}"#),
        ])
    func tampered(id: String, timestamp: Int, body: String) {
        let signer = StandardWebhookSigner(secret: Self.secret)
        let signature = signer.signature(id: id, timestamp: timestamp, body: Data(body.utf8))
        #expect(signature.hasPrefix("v1,"))
        #expect(signature != "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
    }

    @Test("a different secret gives a different signature")
    func otherSecret() {
        let signature = StandardWebhookSigner(secret: "whsec_" + Data(repeating: 7, count: 24).base64EncodedString())
            .signature(id: Self.id, timestamp: Self.timestamp, body: Self.body)
        #expect(signature != "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
    }

    @Test("the receiver's constant-time compare accepts equal bytes only")
    func constantTimeCompare() {
        let a = Data([1, 2, 3, 4])
        #expect(FakeWebhookReceiver.constantTimeEquals(a, Data([1, 2, 3, 4])))
        #expect(!FakeWebhookReceiver.constantTimeEquals(a, Data([1, 2, 3, 5])))
        #expect(!FakeWebhookReceiver.constantTimeEquals(a, Data([1, 2, 3])))
    }
}
