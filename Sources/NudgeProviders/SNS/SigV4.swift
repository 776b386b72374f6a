import Crypto
public import Foundation
import NudgeDelivery

/// AWS Signature Version 4 (`AWS4-HMAC-SHA256`) with the signature in the `Authorization` header.
///
/// Each step is public so that tests (and a fake service) can check it against AWS's published test suite:
/// the canonical request, the string to sign, the signing key derived through the HMAC-SHA256 chain
/// `"AWS4" + secret → day → region → service → "aws4_request"`, and the signature.
public struct SigV4: Sendable {
    /// AWS credentials. `description` never shows the secret key or the session token.
    public struct Credentials: Sendable, CustomStringConvertible {
        public var accessKeyID: String
        public var secretAccessKey: String
        /// The session token of temporary credentials, sent as `x-amz-security-token`.
        public var sessionToken: String?

        public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
            self.accessKeyID = accessKeyID
            self.secretAccessKey = secretAccessKey
            self.sessionToken = sessionToken
        }

        public var description: String { "AWS credentials \(accessKeyID)" }
    }

    /// A request as it goes over the wire.
    public struct Request: Sendable {
        public var method: String
        /// The path as sent (`/` for the Query APIs), already percent-encoded.
        public var path: String
        /// Query parameters, not encoded.
        public var query: [(name: String, value: String)]
        /// Every header to sign, `host` included, with the names in any case.
        public var headers: [(name: String, value: String)]
        /// The body.
        public var payload: Data

        public init(
            method: String, path: String = "/", query: [(name: String, value: String)] = [],
            headers: [(name: String, value: String)], payload: Data = Data()
        ) {
            self.method = method
            self.path = path
            self.query = query
            self.headers = headers
            self.payload = payload
        }
    }

    public var credentials: Credentials
    /// E.g. `eu-west-1`.
    public var region: String
    /// E.g. `sns`.
    public var service: String

    public init(credentials: Credentials, region: String, service: String) {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// The headers to add to `request` when it is sent at `date`: `x-amz-date`, `x-amz-security-token` for
    /// temporary credentials, and `authorization` (which signs the other two as well).
    public func sign(_ request: Request, at date: Date) -> [(name: String, value: String)] {
        let timestamp = Self.timestamp(date)
        var added: [(name: String, value: String)] = [("x-amz-date", timestamp)]
        if let token = credentials.sessionToken { added.append(("x-amz-security-token", token)) }
        var signed = request
        signed.headers += added
        added.append(("authorization", authorization(for: signed, timestamp: timestamp)))
        return added
    }

    /// The `Authorization` header value of `request`, whose headers include `x-amz-date: timestamp`.
    public func authorization(for request: Request, timestamp: String) -> String {
        let canonical = canonicalRequest(request)
        let signature = signature(
            stringToSign: stringToSign(canonicalRequest: canonical, timestamp: timestamp), timestamp: timestamp)
        return "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope(timestamp)), "
            + "SignedHeaders=\(Self.signedHeaders(request.headers)), Signature=\(signature)"
    }

    /// `day/region/service/aws4_request`.
    public func scope(_ timestamp: String) -> String {
        "\(timestamp.prefix(8))/\(region)/\(service)/aws4_request"
    }

    /// Method, path, query, headers, signed header names and the payload's SHA-256, one per line.
    public func canonicalRequest(_ request: Request) -> String {
        [
            request.method.uppercased(),
            Self.canonicalPath(request.path),
            Self.canonicalQuery(request.query),
            Self.canonicalHeaders(request.headers),
            Self.signedHeaders(request.headers),
            Self.hex(SHA256.hash(data: request.payload)),
        ].joined(separator: "\n")
    }

    /// `AWS4-HMAC-SHA256`, the timestamp, the scope and the canonical request's SHA-256, one per line.
    public func stringToSign(canonicalRequest: String, timestamp: String) -> String {
        [
            "AWS4-HMAC-SHA256", timestamp, scope(timestamp), Self.hex(SHA256.hash(data: Data(canonicalRequest.utf8))),
        ].joined(separator: "\n")
    }

    /// The hex HMAC-SHA256 of `stringToSign` under the key derived for the day of `timestamp`, the region and
    /// the service.
    public func signature(stringToSign: String, timestamp: String) -> String {
        let key = signingKey(day: String(timestamp.prefix(8)))
        return Self.hex(HMAC<SHA256>.authenticationCode(for: Data(stringToSign.utf8), using: key))
    }

    /// `HMAC(HMAC(HMAC(HMAC("AWS4" + secret, day), region), service), "aws4_request")`.
    func signingKey(day: String) -> SymmetricKey {
        var key = SymmetricKey(data: Data("AWS4\(credentials.secretAccessKey)".utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        return key
    }

    /// `yyyyMMdd'T'HHmmss'Z'` in UTC, as `x-amz-date` wants.
    public static func timestamp(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = .gmt
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(
            format: "%04d%02d%02dT%02d%02d%02dZ", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0, parts.hour ?? 0,
            parts.minute ?? 0, parts.second ?? 0)
    }

    /// Each path segment percent-encoded (again, as every service but S3 wants); `/` for an empty path.
    static func canonicalPath(_ path: String) -> String {
        guard !path.isEmpty else { return "/" }
        return path.split(separator: "/", omittingEmptySubsequences: false)
            .map { ProviderHTTP.formEscape(String($0)) }.joined(separator: "/")
    }

    /// Encoded `name=value` pairs sorted by name, then value, joined by `&`.
    static func canonicalQuery(_ query: [(name: String, value: String)]) -> String {
        let encoded: [(name: String, value: String)] = query.map {
            (ProviderHTTP.formEscape($0.name), ProviderHTTP.formEscape($0.value))
        }
        let sorted = encoded.sorted { first, second in
            first.name == second.name ? first.value < second.value : first.name < second.name
        }
        return sorted.map { "\($0.name)=\($0.value)" }.joined(separator: "&")
    }

    /// `name:value\n` per header, names lowercased and sorted, values trimmed with inner runs of spaces
    /// collapsed, the values of a repeated header joined by commas; ends with the blank line's `\n`.
    static func canonicalHeaders(_ headers: [(name: String, value: String)]) -> String {
        var values: [String: [String]] = [:]
        for (name, value) in headers {
            let words = value.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
            values[name.lowercased(), default: []].append(words)
        }
        return values.keys.sorted().map { "\($0):\(values[$0, default: []].joined(separator: ","))\n" }.joined()
    }

    /// The lowercased header names, sorted, joined by `;`.
    static func signedHeaders(_ headers: [(name: String, value: String)]) -> String {
        Set(headers.map { $0.name.lowercased() }).sorted().joined(separator: ";")
    }

    /// Lowercase hex of `bytes`.
    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
