public import Foundation
public import NudgeCore
public import NudgeStore

/// Issues one project's Apple Wallet passes: the `apple_wallet` settings, the certificates and the template, read
/// once. `nudge wallet pass` and the PassKit web service of `nudge serve` make the same pass from them.
public struct ApplePasses: Sendable {
    public let passTypeID: String
    public let teamID: String
    /// `offer`: the card the pass shows (nil: the customer's card updated last).
    public let offer: String?
    /// `auth_secret_env`'s value: a pass's web service token is derived from it and the serial.
    let secret: String
    /// `serve.public_url` + `/passkit`: the passes' `webServiceURL` (nil: passes never update).
    public let webServiceURL: String?
    public let businessName: String
    let signer: PassSigner
    let template: PassTemplate

    /// Why the passes cannot be issued: names the setting or the file, never quotes a key.
    public struct Problem: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// The issuer of an `apple_wallet` channel: `resolve` turns a path of nudge.yaml into an absolute one.
    public init(
        settings: [String: String], environment: [String: String], resolve: (String) -> String, publicURL: String?,
        businessName: String
    ) throws(Problem) {
        func secret(_ key: String) throws(Problem) -> String {
            guard let variable = settings[key], let value = environment[variable], !value.isEmpty else {
                throw Problem(description: "the environment variable \(settings[key] ?? "?") (\(key)) is not set")
            }
            return value
        }
        let wwdrPath = resolve(settings["wwdr_certificate"] ?? "")
        guard let wwdr = try? String(contentsOfFile: wwdrPath, encoding: .utf8) else {
            throw Problem(description: "wwdr_certificate: cannot read \(wwdrPath)")
        }
        do {
            signer = try PassSigner(certificatePEM: try secret("certificate_env"), wwdrPEM: wwdr)
        } catch let problem as PassSigner.Problem {
            throw Problem(description: "certificate_env: \(problem)")
        } catch let problem as Problem {
            throw problem
        } catch {
            throw Problem(description: "\(error)")
        }
        do {
            template = try PassTemplate(folder: URL(fileURLWithPath: resolve("Templates/\(settings["template"] ?? "").pass")))
        } catch {
            throw Problem(description: "template: \(error.description)")
        }
        self.secret = try secret("auth_secret_env")
        passTypeID = settings["pass_type_id"] ?? ""
        teamID = settings["team_id"] ?? ""
        offer = settings["offer"]
        var base = publicURL
        while base?.hasSuffix("/") == true { base?.removeLast() }
        webServiceURL = base.map { $0 + "/passkit" }
        self.businessName = businessName
    }

    /// The `authenticationToken` of pass `serial`.
    public func token(serial: String) -> String {
        PassPackage.authenticationToken(serial: serial, secret: secret)
    }

    /// Whether `token` is pass `serial`'s (compared in constant time).
    public func accepts(_ token: String, serial: String) -> Bool {
        let expected = Array(self.token(serial: serial).utf8)
        let given = Array(token.utf8)
        guard expected.count == given.count else { return false }
        return zip(expected, given).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// The card a pass shows: of `offer`, else the one updated last (ties by offer id).
    public static func card(_ cards: [ProgressState]) -> ProgressState? {
        cards.max { ($0.updatedAt, $1.offerID) < ($1.updatedAt, $0.offerID) }
    }

    /// What customer `customer`'s pass `serial` shows: their card, the latest message.
    public func content(serial: String, customer: CustomerState, card: ProgressState?, message: PassMessage?) -> PassContent {
        PassContent(
            serialNumber: serial, passTypeIdentifier: passTypeID, teamIdentifier: teamID,
            webService: webServiceURL.map { ($0, token(serial: serial)) },
            message: message.map { ($0.header, $0.body) },
            values: [
                "customer": [
                    "id": customer.id, "name": customer.name ?? "",
                    "first_name": String((customer.name ?? "").split(separator: " ").first ?? ""),
                ],
                "card": card.map {
                    [
                        "offer": $0.offerID, "name": $0.offerName ?? $0.offerID, "stamps": String($0.stamps),
                        "stamps_required": String($0.stampsRequired), "stamps_remaining": String($0.stampsRemaining),
                    ]
                } ?? ["stamps": "0"],
                "business": ["name": businessName],
                "message": ["header": message?.header ?? "", "body": message?.body ?? ""],
            ])
    }

    /// The signed `.pkpass` of pass `serial`, as the store holds it now; the pass's last change (its message, or
    /// its card's, whichever is later) with it.
    public func pass(
        serial: String, customerID: String, store: any PlanningStore & PassStore, at date: Date
    ) async throws -> (data: Data, modified: Date)? {
        guard let customer = try await store.customer(id: customerID) else { return nil }
        let card = Self.card(try await store.progress(customerID: customerID, offer: offer))
        let state = try await store.passState(passTypeID: passTypeID, serial: serial)
        let data = try PassPackage.build(
            template, content(serial: serial, customer: customer, card: card, message: state?.message), signer: signer,
            at: date)
        let modified = max(state?.updatedAt ?? .distantPast, card?.updatedAt ?? .distantPast, customer.signedUpAt)
        return (data, modified)
    }

    /// The signed `.pkpass` of `content`.
    public func build(_ content: PassContent, at date: Date) throws -> Data {
        try PassPackage.build(template, content, signer: signer, at: date)
    }
}
