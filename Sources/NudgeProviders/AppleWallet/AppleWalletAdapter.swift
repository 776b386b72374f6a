import AsyncHTTPClient
import Crypto
public import Foundation
public import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import Synchronization
public import NudgeDelivery
public import NudgeStore
import NudgeCore

/// The `apple_wallet` provider's messages: each is recorded on the customer's pass (moving its update tag, so that
/// the devices holding it see it changed) and announced to every device registered for the pass by an empty push
/// (`{}`, `apns-topic` the pass type id) to APNs, authenticated by the pass type certificate as TLS client
/// certificate. The devices then fetch the pass from the PassKit web service of `nudge serve`, and the lock screen
/// shows the message (its field's `changeMessage`).
///
/// After a run, the passes whose stamps changed are announced the same way.
public struct AppleWalletAdapter: ChannelAdapter {
    public let passTypeID: String
    /// `offer`: the card the passes show.
    public let offer: String?
    /// `https://api.push.apple.com`, or `base_url`.
    public let baseURL: String
    /// Where the registrations and passes are kept (nil: a command without the database, which cannot deliver).
    let store: (any PassStore & PlanningStore)?
    let http: ProviderHTTP
    let concurrency: Int
    let rateLimiter: RateLimiter?
    let clock: @Sendable () -> Date

    public static let productionURL = "https://api.push.apple.com"

    /// The adapter of an `apple_wallet` channel: its client presents the certificate of `certificate_env` to APNs
    /// (and trusts `ca_file` instead of the system's certificates when set).
    init(context: Adapters.Context, clock: @escaping @Sendable () -> Date = { Date() }) throws {
        passTypeID = try context.setting("pass_type_id")
        offer = context.settings["offer"]
        baseURL = context.baseURL(default: Self.productionURL)
        store = context.passes
        let client = try Self.client(
            certificatePEM: try context.secret("certificate_env"), caFile: context.settings["ca_file"].map(context.resolve),
            name: context.name)
        http = ProviderHTTP(name: "APNs", client: client, timeout: context.timeout)
        concurrency = context.concurrency
        rateLimiter = context.rateLimiter
        self.clock = clock
    }

    private static let clients = Mutex<[String: HTTPClient]>([:])

    /// The client presenting the pass certificate: one per certificate and `ca_file`, kept for the life of the process.
    static func client(certificatePEM: String, caFile: String?, name: String) throws -> HTTPClient {
        let key = SHA256.hash(data: Data((certificatePEM + "\u{0}" + (caFile ?? "")).utf8))
            .map { String(format: "%02x", $0) }.joined()
        return try clients.withLock { clients in
            if let client = clients[key] { return client }
            var tls = TLSConfiguration.makeClientConfiguration()
            do {
                let certificates = try NIOSSLCertificate.fromPEMBytes(Array(certificatePEM.utf8))
                guard let keyBlock = PEMBlocks.privateKey(in: certificatePEM), !certificates.isEmpty else {
                    throw Adapters.ConfigurationError(
                        description: "\(name): certificate_env must hold the pass certificate and its private key (PEM)")
                }
                tls.certificateChain = certificates.map { .certificate($0) }
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(keyBlock.utf8), format: .pem))
            } catch let error as Adapters.ConfigurationError {
                throw error
            } catch {
                throw Adapters.ConfigurationError(
                    description: "\(name): certificate_env does not hold a usable certificate and private key (PEM)")
            }
            if let caFile, !FileManager.default.isReadableFile(atPath: caFile) {
                throw Adapters.ConfigurationError(description: "\(name): ca_file: cannot read \(caFile)")
            }
            let client = Adapters.makeHTTPClient(trustRoots: caFile, tls: tls)
            clients[key] = client
            return client
        }
    }

    public func deliver(batch: [OutboundMessage]) async -> [Result<DeliveryReceipt, DeliveryError>] {
        await deliverConcurrently(batch, limit: concurrency, rateLimiter: rateLimiter)
    }

    public func deliver(_ message: OutboundMessage) async throws -> DeliveryReceipt {
        guard let store else {
            throw DeliveryError.permanent("Apple Wallet messages are delivered by 'nudge run', which keeps the passes")
        }
        guard let serial = message.record.recipient, !serial.isEmpty else {
            throw DeliveryError.permanent("the customer has no wallet pass")
        }
        // Devices unregistered since the plan: nothing would see the message.
        guard try await !(store.passDevices(passTypeID: passTypeID, serials: [serial])[serial] ?? []).isEmpty else {
            throw DeliveryError.permanent("no device is registered for the customer's Apple Wallet pass any more")
        }
        let header = message.record.heading ?? ""
        // The pass's holder (`send-test` sends one customer's message to a tester's pass).
        let holder = try await store.customerID(walletPassID: serial) ?? message.record.customerId
        let tokens = try await store.recordPassUpdate(
            passTypeID: passTypeID, serial: serial, customerID: holder,
            message: PassMessage(header: header, body: message.record.body ?? "", outboxID: message.id), at: clock())
        try await announce(to: tokens, store: store)
        return DeliveryReceipt(providerMessageID: nil)
    }

    /// Sends the empty push to every one of `tokens`: delivered when at least one device took it. Tokens APNs no
    /// longer knows are unregistered; when every device is gone the message fails for good, and when none could be
    /// reached it is retried (the pass is not changed again; the devices reached meanwhile fetch it once more).
    func announce(to tokens: [String], store: any PassStore) async throws {
        var reached = 0
        var gone = 0
        var failure: DeliveryError?
        for token in tokens {
            do {
                try await push(token)
                reached += 1
            } catch .deadRecipient {
                gone += 1
                _ = try await store.unregisterPassDevices(pushToken: token, passTypeID: passTypeID, at: clock())
            } catch {
                // A transient failure decides the outcome over a permanent one: the message is tried again.
                if case .transient = error { failure = error } else { failure = failure ?? error }
            }
        }
        guard reached == 0 else { return }
        if gone == tokens.count {
            throw DeliveryError.permanent("APNs no longer knows any device of the customer's Apple Wallet pass")
        }
        throw failure ?? DeliveryError.permanent("no device is registered for the customer's Apple Wallet pass")
    }

    /// One empty push: `POST /3/device/{token}`, body `{}`, topic the pass type id.
    func push(_ token: String) async throws(DeliveryError) {
        var request = HTTPClientRequest(url: "\(baseURL)/3/device/\(ProviderHTTP.formEscape(token))")
        request.method = .POST
        request.headers.add(name: "apns-topic", value: passTypeID)
        request.headers.add(name: "content-type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: "{}"))
        let answer: ProviderHTTP.Answer
        do {
            answer = try await http.send(request)
        } catch let error as DeliveryError {
            throw error
        } catch {
            throw .transient("APNs unreachable: \(error)")
        }
        guard answer.status != 200 else { return }
        throw APNsAdapter.error(
            answer, reason: APNsAdapter.reason(answer), now: clock(), forbidden: "check certificate_env and pass_type_id")
    }
}

extension AppleWalletAdapter: AfterRun {
    /// Announces every Apple pass whose card changed since it was last announced: its update tag moves and its
    /// devices get the empty push, so that they fetch the pass with the new stamps. A pass none of whose devices
    /// could be reached is counted as failed and tried again next run.
    public func afterRun(store planning: any PlanningStore, now: Date, logger: Logger) async throws -> AfterRunReport {
        var report = AfterRunReport(what: "Apple Wallet passes")
        guard let store else { return report }
        let due = try await store.walletPointsToSync(platform: "apple", offer: offer)
        report.what = "Apple Wallet pass\(due.count == 1 ? "" : "es")"
        var synced: [WalletPoints] = []
        for points in due {
            let tokens = try await store.recordPassUpdate(
                passTypeID: passTypeID, serial: points.passID, customerID: points.customerID, message: nil, at: now)
            do {
                if !tokens.isEmpty { try await announce(to: tokens, store: store) }
                synced.append(points)
            } catch {
                report.failed += 1
                logger.warning("wallet pass not announced", metadata: ["error": "\(error)"])
            }
        }
        try await store.recordWalletPoints(synced, at: now)
        report.updated = synced.count
        return report
    }
}

/// PEM blocks of a text holding several.
enum PEMBlocks {
    /// The first `-----BEGIN … PRIVATE KEY-----` block, markers included.
    static func privateKey(in text: String) -> String? {
        guard let begin = text.range(of: #"-----BEGIN [A-Z ]*PRIVATE KEY-----"#, options: .regularExpression),
            let end = text.range(
                of: #"-----END [A-Z ]*PRIVATE KEY-----"#, options: .regularExpression, range: begin.upperBound..<text.endIndex)
        else { return nil }
        return String(text[begin.lowerBound..<end.upperBound]) + "\n"
    }
}
