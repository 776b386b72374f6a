public import AsyncHTTPClient
public import Foundation
public import NIOCore
public import NIOHTTP1

/// One provider's HTTP calls: explicit timeouts, answers capped at 64 KiB, transport failures mapped to
/// transient `DeliveryError`s that name the provider (never a secret or a customer value).
public struct ProviderHTTP: Sendable {
    /// What the provider answered.
    public struct Answer: Sendable {
        public var status: Int
        public var headers: HTTPHeaders
        /// The first 64 KiB of the body.
        public var body: String
    }

    /// The provider's name in error messages, e.g. `SendGrid`.
    public var name: String
    public var client: HTTPClient
    public var timeout: TimeAmount
    /// Whether a request whose outcome is unknown (a timeout after it was sent) may be retried: true for providers
    /// whose requests carry the outbox id, so a retry that duplicates can still be traced and deduplicated.
    public var retriesUnknownOutcomes = true

    /// Answers larger than this are cut (only the first part is kept for error messages).
    public static let maxResponseBytes = 64 * 1024

    public init(name: String, client: HTTPClient, timeout: TimeInterval) {
        self.name = name
        self.client = client
        self.timeout = .milliseconds(Int64(timeout * 1000))
    }

    /// Sends `request`; a timeout or connection failure throws `DeliveryError.transient`.
    public func send(_ request: HTTPClientRequest) async throws -> Answer {
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: timeout)
        } catch let error as HTTPClientError {
            if error == .deadlineExceeded || error == .readTimeout {
                let text = "\(name) timed out after \(timeout.nanoseconds / 1_000_000) ms"
                throw retriesUnknownOutcomes ? DeliveryError.transient(text) : Self.unknownOutcome(text)
            }
            throw DeliveryError.transient("\(name) unreachable: \(error)")
        } catch {
            throw DeliveryError.transient("\(name) unreachable: \(error)")
        }
        // Keep at most the first 64 KiB of the answer (enough for an error message); ignore the rest.
        var kept = ByteBuffer()
        do {
            for try await var chunk in response.body {
                let room = Self.maxResponseBytes - kept.readableBytes
                if chunk.readableBytes > room { chunk = chunk.getSlice(at: chunk.readerIndex, length: room) ?? chunk }
                kept.writeBuffer(&chunk)
                if kept.readableBytes >= Self.maxResponseBytes { break }
            }
        } catch {
            // A body cut short still says what it said.
        }
        return Answer(status: Int(response.status.code), headers: response.headers, body: String(buffer: kept))
    }

    /// A failure after the request may have reached the provider, for a provider that cannot carry the outbox id:
    /// not retried, since a retry could send the message twice with nothing to tell the copies apart.
    public static func unknownOutcome(_ text: String) -> DeliveryError {
        .permanent(text + " (not retried: the message may have been sent, and this request cannot carry the outbox id)")
    }

    /// `": text"` of a provider's answer, trimmed and cut to 300 characters; empty for an empty answer.
    public static func summary(_ text: String) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { return "" }
        return ": " + String(trimmed.prefix(300))
    }

    /// The longest `Retry-After` honoured; a larger one (or `inf`, `1e300`) is cut to this, so that the next
    /// attempt's instant stays representable.
    public static let maxRetryAfter: TimeInterval = 30 * 86_400

    /// `Retry-After`: delay seconds or an HTTP date.
    public static func retryAfter(_ value: String, now: Date) -> TimeInterval? {
        if let seconds = Double(value.trimmingCharacters(in: .whitespaces)) {
            guard seconds >= 0 else { return nil }
            return min(seconds, maxRetryAfter)
        }
        guard let date = HTTPDate.parse(value) else { return nil }
        return min(max(0, date.timeIntervalSince(now)), maxRetryAfter)
    }

    /// An epoch-seconds reset instant (`X-RateLimit-Reset`) as a delay from `now`.
    public static func resetDelay(_ value: String, now: Date) -> TimeInterval? {
        guard let epoch = Double(value.trimmingCharacters(in: .whitespaces)), epoch.isFinite else { return nil }
        return min(max(0, epoch - now.timeIntervalSince1970), maxRetryAfter)
    }

    /// `application/x-www-form-urlencoded` of `pairs` (repeated keys allowed), in order.
    public static func formEncoded(_ pairs: [(String, String)]) -> String {
        pairs.map { "\(formEscape($0.0))=\(formEscape($0.1))" }.joined(separator: "&")
    }

    /// Percent-encodes all but RFC 3986 unreserved characters (space as %20), as form bodies and SigV4 want.
    public static func formEscape(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: Unicode.Scalar(0)..<Unicode.Scalar(128)))
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    /// `Basic base64(user:password)`.
    public static func basicAuthorization(user: String, password: String) -> String {
        "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
    }
}

/// HTTP dates (RFC 9110: `Sun, 06 Nov 1994 08:49:37 GMT`): `Retry-After`, `Last-Modified`, `If-Modified-Since`.
public enum HTTPDate {
    private static func formatter(_ format: String) -> DateFormatter {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = format
        return formatter
    }

    /// `date` as an IMF-fixdate, in whole seconds.
    public static func format(_ date: Date) -> String { formatter("EEE, dd MMM yyyy HH:mm:ss 'GMT'").string(from: date) }

    /// The instant of an HTTP date; nil when it is not one.
    public static func parse(_ text: String) -> Date? { formatter("EEE, dd MMM yyyy HH:mm:ss zzz").date(from: text) }
}
