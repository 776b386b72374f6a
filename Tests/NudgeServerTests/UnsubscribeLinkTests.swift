import Foundation
import NudgeEngine
import Testing

@Suite("Unsubscribe links")
struct UnsubscribeLinkTests {
    let links = UnsubscribeLinks(baseURL: "https://hooks.example.com/", secret: "s3cret")

    @Test("a link names the customer and verifies with the same secret only")
    func roundTrip() throws {
        let url = links.url(customerID: "c/42 é")
        #expect(url.hasPrefix("https://hooks.example.com/unsubscribe/"))
        let token = String(url.dropFirst("https://hooks.example.com/unsubscribe/".count))
        #expect(links.customerID(fromToken: token) == "c/42 é")
        #expect(UnsubscribeLinks(baseURL: "https://x", secret: "other").customerID(fromToken: token) == nil)
    }

    @Test("a tampered, truncated or unsigned token is refused")
    func tampered() throws {
        let token = links.token(customerID: "c42")
        let other = links.token(customerID: "c43")
        let forged = String(other.split(separator: ".")[0]) + "." + String(token.split(separator: ".")[1])
        #expect(links.customerID(fromToken: forged) == nil)
        #expect(links.customerID(fromToken: String(token.dropLast(2))) == nil)
        #expect(links.customerID(fromToken: "YzQy.unsigned") == nil)
        #expect(links.customerID(fromToken: "") == nil)
        let unsigned = UnsubscribeLinks(baseURL: "https://x", secret: nil)
        #expect(unsigned.token(customerID: "c42") == "YzQy.unsigned")
        #expect(unsigned.customerID(fromToken: token) == nil)
    }
}
