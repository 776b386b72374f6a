public import AsyncHTTPClient
public import Foundation
public import JWTKit
import NIOCore
import NIOHTTP1
public import NudgeDelivery

/// A Google service account's key file, the JSON that Google Cloud issues (FCM and Google Wallet sign in with it).
public struct GoogleServiceAccount: Sendable {
    public var projectID: String?
    public var privateKeyID: String
    public var clientEmail: String
    /// Where access tokens come from: the file's `token_uri` (tests and private relays point it elsewhere).
    public var tokenURI: String
    /// The account's RSA key (PKCS #8 PEM in the file).
    let key: Insecure.RSA.PrivateKey

    /// The token endpoint of a key file without `token_uri`.
    public static let defaultTokenURI = "https://oauth2.googleapis.com/token"

    /// Reads a key file: `text` is the JSON itself or the path of a file holding it. The error says what is wrong
    /// without quoting the key.
    public init(_ text: String) throws(DeliveryError) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let json: Data
        if trimmed.hasPrefix("{") {
            json = Data(trimmed.utf8)
        } else {
            guard let data = FileManager.default.contents(atPath: trimmed) else {
                // The value is not quoted: it may be a key in some other encoding.
                throw .permanent("the service account credentials are neither JSON nor the path of a readable file")
            }
            json = data
        }
        struct File: Decodable {
            var type: String?
            var project_id: String?
            var private_key_id: String?
            var private_key: String?
            var client_email: String?
            var token_uri: String?
        }
        guard let file = try? JSONDecoder().decode(File.self, from: json) else {
            throw .permanent("the service account credentials are not a JSON object")
        }
        guard file.type == "service_account" else {
            throw .permanent("the credentials are not a service account key (\"type\" must be \"service_account\")")
        }
        guard let email = file.client_email, !email.isEmpty else {
            throw .permanent("the service account credentials have no client_email")
        }
        guard let pem = file.private_key, let key = try? Insecure.RSA.PrivateKey(pem: pem) else {
            throw .permanent("the service account's private_key is not an RSA private key in PEM form")
        }
        self.projectID = file.project_id
        self.privateKeyID = file.private_key_id ?? ""
        self.clientEmail = email
        self.tokenURI = file.token_uri ?? Self.defaultTokenURI
        self.key = key
    }

    /// The account of a provider's `credentials_env` setting; a configuration error names the setting.
    static func named(by context: Adapters.Context) throws -> GoogleServiceAccount {
        do {
            return try GoogleServiceAccount(try context.secret("credentials_env"))
        } catch let error as DeliveryError {
            throw Adapters.ConfigurationError(description: "\(context.name): credentials_env: \(error.description)")
        }
    }

    /// `claims` as a JWT signed by the account (RS256, `kid` the key's id, `typ` JWT).
    public func sign(_ claims: some JWTPayload) async throws -> String {
        let keys = JWTKeyCollection()
        await keys.add(rsa: key, digestAlgorithm: .sha256, kid: JWKIdentifier(string: privateKeyID))
        var header = JWTHeader()
        header.typ = "JWT"
        return try await keys.sign(claims, kid: JWKIdentifier(string: privateKeyID), header: header)
    }
}

/// OAuth 2 access tokens of a service account by the JWT-bearer grant (RFC 7523): an RS256 assertion of the account
/// for `scope`, exchanged at the account's token endpoint. A token is kept until a minute before it expires, and one
/// request fetches it for all the deliveries waiting for it.
public actor GoogleAccessTokens {
    let account: GoogleServiceAccount
    let scope: String
    let http: ProviderHTTP
    let clock: @Sendable () -> Date
    private let cache = TokenCache()

    /// How long before its expiry a token is replaced.
    static let margin: TimeInterval = 60
    /// The assertion's lifetime: Google accepts at most an hour.
    static let assertionLifetime: TimeInterval = 3600

    public init(
        account: GoogleServiceAccount, scope: String, client: HTTPClient, timeout: TimeInterval = 15,
        clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.account = account
        self.scope = scope
        self.http = ProviderHTTP(name: "Google's token endpoint", client: client, timeout: timeout)
        self.clock = clock
    }

    /// A valid access token: the kept one, or a new one.
    public func token() async throws -> String {
        try await cache.token(now: clock(), margin: Self.margin) { try await self.fetch() }
    }

    /// Forgets `token` (the API refused it): the next `token()` fetches another.
    public func invalidate(_ token: String) async {
        await cache.invalidate(token)
    }

    /// The signed assertion: `iss` the account, `scope`, `aud` the token endpoint, issued now, valid an hour.
    func assertion(now: Date) async throws -> String {
        let issued = Int(now.timeIntervalSince1970)
        return try await account.sign(
            AssertionClaims(
                iss: account.clientEmail, scope: scope, aud: account.tokenURI, iat: issued,
                exp: issued + Int(Self.assertionLifetime)))
    }

    private func fetch() async throws -> (token: String, expires: Date) {
        let now = clock()
        var request = HTTPClientRequest(url: account.tokenURI)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "accept", value: "application/json")
        request.headers.add(name: "user-agent", value: "nudge")
        let form = [
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"), ("assertion", try await assertion(now: now)),
        ]
        request.body = .bytes(ByteBuffer(string: ProviderHTTP.formEncoded(form)))
        let answer = try await http.send(request)
        struct Granted: Decodable {
            var access_token: String
            var expires_in: Double?
        }
        struct Refused: Decodable {
            var error: String?
            var error_description: String?
        }
        if (200..<300).contains(answer.status),
            let granted = try? JSONDecoder().decode(Granted.self, from: Data(answer.body.utf8))
        {
            return (granted.access_token, now.addingTimeInterval(granted.expires_in ?? 3600))
        }
        let text: String
        if let refused = try? JSONDecoder().decode(Refused.self, from: Data(answer.body.utf8)), let error = refused.error {
            text = "Google refused the service account \(account.clientEmail): \(error)"
                + (refused.error_description.map { " (\($0))" } ?? "")
        } else {
            text = "Google's token endpoint answered \(answer.status)\(ProviderHTTP.summary(answer.body))"
        }
        // A refused assertion (bad key, wrong account, clock far off) will not pass later either.
        if answer.status == 429 || answer.status >= 500 { throw DeliveryError.transient(text) }
        throw DeliveryError.permanent(text)
    }
}

/// The claims of a service account's assertion.
struct AssertionClaims: JWTPayload {
    var iss: String
    var scope: String
    var aud: String
    var iat: Int
    var exp: Int

    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
