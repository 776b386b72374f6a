/// How an SMS body is encoded and how many segments (billed parts) it takes.
///
/// GSM 03.38 7-bit text fits 160 characters in one segment and 153 per segment once split (the rest of each
/// segment holds the concatenation header); characters of the extension table (`^{}[]~|€\` and form feed) take two
/// septets and are never split across segments. Any other character makes the whole message UCS-2: 70 UTF-16 units
/// in one segment, 67 per segment once split, surrogate pairs kept whole.
public struct SMSSegments: Sendable, Hashable, CustomStringConvertible {
    /// The encoding a carrier uses for the text.
    public enum Encoding: String, Sendable {
        case gsm7 = "GSM-7"
        case ucs2 = "UCS-2"
    }

    public var encoding: Encoding
    /// Segments the message takes (1 for an empty body).
    public var count: Int
    /// Septets (GSM-7) or UTF-16 units (UCS-2).
    public var units: Int

    /// The segments of `text`.
    public init(_ text: String) {
        var septets: [Int] = []
        septets.reserveCapacity(text.unicodeScalars.count)
        var isGSM = true
        for scalar in text.unicodeScalars {
            if Self.basic.contains(scalar) {
                septets.append(1)
            } else if Self.extended.contains(scalar) {
                septets.append(2)
            } else {
                isGSM = false
                break
            }
        }
        if isGSM {
            encoding = .gsm7
            units = septets.reduce(0, +)
            count = Self.segments(septets, single: 160, multi: 153)
        } else {
            encoding = .ucs2
            let widths = text.unicodeScalars.map { $0.value > 0xFFFF ? 2 : 1 }
            units = widths.reduce(0, +)
            count = Self.segments(widths, single: 70, multi: 67)
        }
    }

    public var description: String { "\(count) segment\(count == 1 ? "" : "s") (\(encoding.rawValue), \(units) \(encoding == .gsm7 ? "septets" : "UTF-16 units"))" }

    /// Packs unit widths into segments without splitting a character.
    static func segments(_ widths: [Int], single: Int, multi: Int) -> Int {
        let total = widths.reduce(0, +)
        if total <= single { return 1 }
        var count = 1
        var used = 0
        for width in widths {
            if used + width > multi {
                count += 1
                used = 0
            }
            used += width
        }
        return count
    }

    /// The GSM 03.38 basic character set.
    static let basic: Set<Unicode.Scalar> = Set(
        ("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿"
            + "abcdefghijklmnopqrstuvwxyzäöñüà").unicodeScalars)
    /// The GSM 03.38 extension table (escape + character: two septets).
    static let extended: Set<Unicode.Scalar> = Set("^{}\\[~]|€\u{0C}".unicodeScalars)
}
