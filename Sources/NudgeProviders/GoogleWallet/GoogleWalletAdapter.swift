public import AsyncHTTPClient
public import Foundation
public import Logging
import JWTKit
public import NudgeStore
public import NudgeDelivery
import NIOHTTP1
public import NudgeCore

/// The `google_wallet` provider: a wallet message is `POST {base_url}/walletobjects/v1/loyaltyObject/{id}/addMessage`
/// on the customer's loyalty object (`{issuer_id}.{wallet_pass_id}`) with the rendered header and body, the outbox id
/// as the message's id, and `TEXT_AND_NOTIFY` so the holder's phone shows it. After a run, `syncPoints` PATCHes the
/// `loyaltyPoints` of the passes whose stamps changed.
public struct GoogleWalletAdapter: ChannelAdapter {
    public let issuerID: String
    /// The loyalty class new passes belong to (`nudge wallet link`), with the issuer prefix.
    public let classID: String?
    /// The stamp card a pass shows (nil: the customer's most recently updated card).
    public let offer: String?
    /// The platform this provider serves when each has its own (`google`), else nil (every pass).
    public let platform: String?
    /// `{base_url}/walletobjects/v1`.
    public let endpoint: String
    let account: GoogleServiceAccount
    let api: GoogleAPI
    let concurrency: Int
    let rateLimiter: RateLimiter?
    let clock: @Sendable () -> Date

    /// The scope of the Wallet API's access tokens.
    public static let scope = "https://www.googleapis.com/auth/wallet_object.issuer"

    public init(
        issuerID: String, account: GoogleServiceAccount, classID: String? = nil, offer: String? = nil,
        platform: String? = nil, baseURL: String = "https://walletobjects.googleapis.com", client: HTTPClient,
        timeout: TimeInterval = 15, concurrency: Int = 8, rateLimiter: RateLimiter? = nil,
        clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.issuerID = issuerID
        self.classID = classID.map { $0.hasPrefix(issuerID + ".") ? $0 : "\(issuerID).\($0)" }
        self.offer = offer
        self.platform = platform
        self.endpoint = "\(base)/walletobjects/v1"
        self.account = account
        self.api = GoogleAPI("Google Wallet", account: account, scope: Self.scope, client: client, timeout: timeout, clock: clock)
        self.concurrency = max(1, concurrency)
        self.rateLimiter = rateLimiter
        self.clock = clock
    }

    /// The adapter of a `google_wallet` channel (or platform) of nudge.yaml.
    init(context: Adapters.Context) throws {
        let account = try GoogleServiceAccount.named(by: context)
        self.init(
            issuerID: try context.setting("issuer_id"), account: account, classID: context.settings["class_id"],
            offer: context.settings["offer"], platform: context.platform,
            baseURL: context.baseURL(default: "https://walletobjects.googleapis.com"), client: context.client,
            timeout: context.timeout, concurrency: context.concurrency, rateLimiter: context.rateLimiter)
    }

    /// Whether `text` is a valid identifier part of a Wallet resource id: `[A-Za-z0-9._-]+`.
    public static func isIdentifier(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a)
                || byte == 0x2e || byte == 0x5f || byte == 0x2d
        }
    }

    /// The loyalty object's resource id of pass `passID`: `{issuer_id}.{passID}` (a pass id that already starts with
    /// the issuer's number is taken as it is).
    public func objectID(_ passID: String) throws(DeliveryError) -> String {
        guard Self.isIdentifier(passID) else {
            throw .permanent("the wallet pass id is not a Google Wallet object id (letters, digits, '.', '_', '-')")
        }
        return passID.hasPrefix(issuerID + ".") ? passID : "\(issuerID).\(passID)"
    }

    /// The request body: `{"message": {"id", "header", "body", "messageType": "TEXT_AND_NOTIFY"}}`.
    public func body(for message: OutboundMessage) throws(DeliveryError) -> String {
        let (header, text): (String, String)
        if case .wallet(let h, let b) = message.content { (header, text) = (h, b) } else { (header, text) = ("", message.content.text) }
        struct Message: Encodable {
            var id: String
            var header: String
            var body: String
            var messageType = "TEXT_AND_NOTIFY"
        }
        struct AddMessage: Encodable { var message: Message }
        return try GoogleAPI.json(AddMessage(message: Message(id: message.id, header: header, body: text)))
    }

    public func deliver(batch: [OutboundMessage]) async -> [Result<DeliveryReceipt, DeliveryError>] {
        await deliverConcurrently(batch, limit: concurrency, rateLimiter: rateLimiter)
    }

    public func deliver(_ message: OutboundMessage) async throws -> DeliveryReceipt {
        guard let pass = message.record.recipient, !pass.isEmpty else {
            throw DeliveryError.permanent("the message has no wallet pass to send to")
        }
        let object = try objectID(pass)
        let answer = try await api.send(
            .POST, "\(endpoint)/loyaltyObject/\(object)/addMessage", json: try body(for: message))
        // A retry after an answer that was lost finds its message already added: it went out the first time.
        if answer.status == 409, message.isRetry { return DeliveryReceipt(providerMessageID: message.id) }
        guard (200..<300).contains(answer.status) else { throw error(answer, pass: true) }
        return DeliveryReceipt(providerMessageID: message.id)
    }

    /// Sets the stamps pass `passID` shows: `PATCH …/loyaltyObject/{id}` with `loyaltyPoints` (`label` the card's
    /// name, `balance.int` the stamps).
    public func setPoints(passID: String, stamps: Int, label: String) async throws(DeliveryError) {
        struct Balance: Encodable { var int: Int }
        struct Points: Encodable {
            var label: String
            var balance: Balance
        }
        struct Patch: Encodable { var loyaltyPoints: Points }
        let body = try GoogleAPI.json(Patch(loyaltyPoints: Points(label: label, balance: Balance(int: stamps))))
        let answer: ProviderHTTP.Answer
        do {
            answer = try await api.send(.PATCH, "\(endpoint)/loyaltyObject/\(try objectID(passID))", json: body)
        } catch let error as DeliveryError {
            throw error
        } catch {
            throw .transient("\(error)")
        }
        guard (200..<300).contains(answer.status) else { throw self.error(answer, pass: true) }
    }

    /// The `DeliveryError` of a non-2xx answer: 429 (including the 3-a-day notification quota) and 5xx are
    /// transient, honouring `Retry-After`; the rest permanent (404: no such pass).
    func error(_ answer: ProviderHTTP.Answer, pass: Bool) -> DeliveryError {
        let failure = GoogleFailure.parse(answer)
        var text = "Google Wallet answered \(answer.status)"
        if let failure {
            if let status = failure.status { text += ": \(status)" }
            if let message = failure.message, !message.isEmpty { text += " (\(message))" }
        } else {
            text += ProviderHTTP.summary(answer.body.contains("<html") || answer.body.contains("<!DOCTYPE") ? "" : answer.body)
        }
        if answer.status == 429 || answer.status >= 500 {
            let retryAfter = answer.headers.first(name: "retry-after").flatMap { ProviderHTTP.retryAfter($0, now: clock()) }
            return .transient(text, retryAfter: retryAfter)
        }
        if answer.status == 404, pass { text += " (no such pass: was the customer's wallet_pass_id saved to Google Wallet?)" }
        if answer.status == 401 || answer.status == 403 {
            text += " (check the service account's access to issuer \(issuerID))"
        }
        return .permanent(text)
    }
}

extension GoogleWalletAdapter: AfterRun {
    /// Sets the stamps of every pass (of this provider's platform) whose card changed since it was last set, and
    /// records those that took it. A pass Google refuses is counted as failed and tried again next run.
    public func afterRun(store: any PlanningStore, now: Date, logger: Logger) async throws -> AfterRunReport {
        let due = try await store.walletPointsToSync(platform: platform, offer: offer)
        var report = AfterRunReport(what: "Google Wallet pass\(due.count == 1 ? "" : "es")")
        guard !due.isEmpty else { return report }
        let results = await withTaskGroup(of: (WalletPoints, DeliveryError?).self) { group in
            var results: [(WalletPoints, DeliveryError?)] = []
            var next = 0
            func start(_ points: WalletPoints) {
                group.addTask {
                    await rateLimiter?.acquire()
                    do throws(DeliveryError) {
                        try await setPoints(passID: points.passID, stamps: points.stamps, label: points.label)
                        return (points, nil)
                    } catch {
                        return (points, error)
                    }
                }
            }
            while next < min(concurrency, due.count) {
                start(due[next])
                next += 1
            }
            while let result = await group.next() {
                results.append(result)
                if next < due.count {
                    start(due[next])
                    next += 1
                }
            }
            return results
        }
        let synced = results.filter { $0.1 == nil }.map(\.0)
        try await store.recordWalletPoints(synced, at: now)
        report.updated = synced.count
        report.failed = results.count - synced.count
        // Logged by what Google said, never by customer.
        for (_, error) in results {
            guard let error else { continue }
            logger.warning("wallet pass not updated", metadata: ["error": "\(error)"])
        }
        return report
    }
}

extension GoogleWalletAdapter {
    /// Where a "Save to Google Wallet" link points: this and the signed JWT.
    public static let saveURLPrefix = "https://pay.google.com/gp/v/save/"

    /// The "Save to Google Wallet" URL of pass `passID` for `customer`, showing `points` (if they have a card): a JWT
    /// signed by the service account (`aud` google, `typ` savetowallet) carrying the loyalty object of class
    /// `class_id`.
    public func saveURL(passID: String, customer: CustomerState, points: WalletPoints?, now: Date) async throws -> String {
        guard let classID else {
            throw Adapters.ConfigurationError(
                description: "a Save to Google Wallet link needs 'class_id' (the loyalty class new passes belong to)")
        }
        let object = SaveClaims.LoyaltyObject(
            id: try objectID(passID), classId: classID, state: "ACTIVE", accountId: customer.id,
            accountName: customer.name ?? customer.id,
            loyaltyPoints: points.map { .init(label: $0.label, balance: .init(int: $0.stamps)) })
        let claims = SaveClaims(
            iss: account.clientEmail, aud: "google", typ: "savetowallet", iat: Int(now.timeIntervalSince1970), origins: [],
            payload: .init(loyaltyObjects: [object]))
        return Self.saveURLPrefix + (try await account.sign(claims))
    }
}

/// The claims of a "Save to Google Wallet" JWT.
struct SaveClaims: JWTPayload {
    struct Balance: Codable { var int: Int }
    struct Points: Codable {
        var label: String
        var balance: Balance
    }
    struct LoyaltyObject: Codable {
        var id: String
        var classId: String
        var state: String
        var accountId: String
        var accountName: String
        var loyaltyPoints: Points?
    }
    struct Payload: Codable { var loyaltyObjects: [LoyaltyObject] }

    var iss: String
    var aud: String
    var typ: String
    var iat: Int
    var origins: [String]
    var payload: Payload

    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
