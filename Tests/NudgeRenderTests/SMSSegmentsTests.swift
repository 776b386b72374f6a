import NudgeRender
import Testing

@Suite("SMS encoding and segment counts (GSM 03.38 and UCS-2)")
struct SMSSegmentsTests {
    /// `count` copies of `text`.
    static func repeated(_ text: String, _ count: Int) -> String { String(repeating: text, count: count) }

    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var text: String
        var encoding: SMSSegments.Encoding
        var units: Int
        var segments: Int

        var description: String { name }
    }

    static let cases: [Case] = [
        Case(name: "empty body", text: "", encoding: .gsm7, units: 0, segments: 1),
        Case(name: "one GSM character", text: "a", encoding: .gsm7, units: 1, segments: 1),
        Case(
            name: "160 GSM characters fit one segment", text: repeated("a", 160), encoding: .gsm7, units: 160,
            segments: 1),
        Case(name: "161 GSM characters take two", text: repeated("a", 161), encoding: .gsm7, units: 161, segments: 2),
        Case(name: "306 = 2 × 153", text: repeated("a", 306), encoding: .gsm7, units: 306, segments: 2),
        Case(name: "307 take three", text: repeated("a", 307), encoding: .gsm7, units: 307, segments: 3),
        Case(name: "459 = 3 × 153", text: repeated("a", 459), encoding: .gsm7, units: 459, segments: 3),
        Case(name: "460 take four", text: repeated("a", 460), encoding: .gsm7, units: 460, segments: 4),
        Case(name: "an extension character counts 2", text: "€", encoding: .gsm7, units: 2, segments: 1),
        Case(
            name: "158 + € = 160 septets: one segment", text: repeated("a", 158) + "€", encoding: .gsm7, units: 160,
            segments: 1),
        Case(
            name: "159 + € = 161 septets: two segments", text: repeated("a", 159) + "€", encoding: .gsm7, units: 161,
            segments: 2),
        Case(
            name: "80 extension characters = 160 septets", text: repeated("{", 80), encoding: .gsm7, units: 160,
            segments: 1),
        Case(
            name: "81 extension characters = 162 septets: two segments", text: repeated("|", 81), encoding: .gsm7,
            units: 162, segments: 2),
        Case(
            // 152 septets, then an escape pair that would straddle the boundary: it moves whole to segment 2.
            name: "an extension character is not split across segments",
            text: repeated("a", 152) + "^" + repeated("a", 152),
            encoding: .gsm7, units: 306, segments: 3),
        Case(
            name: "the same septets with the pair inside segment 1 take two",
            text: repeated("a", 151) + "^" + repeated("a", 153),
            encoding: .gsm7, units: 306, segments: 2),
        Case(
            name: "every extension character counts 2", text: "^{}\\[~]|€\u{0C}", encoding: .gsm7, units: 20,
            segments: 1),
        Case(
            name: "GSM's own accented letters, Greek capitals and symbols stay GSM-7",
            text: "@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà\r\n", encoding: .gsm7, units: 44, segments: 1),
        Case(name: "one UCS-2 character", text: "ç", encoding: .ucs2, units: 1, segments: 1),
        Case(name: "70 UCS-2 units fit one segment", text: repeated("ж", 70), encoding: .ucs2, units: 70, segments: 1),
        Case(name: "71 UCS-2 units take two", text: repeated("ж", 71), encoding: .ucs2, units: 71, segments: 2),
        Case(name: "134 = 2 × 67", text: repeated("ж", 134), encoding: .ucs2, units: 134, segments: 2),
        Case(name: "135 take three", text: repeated("ж", 135), encoding: .ucs2, units: 135, segments: 3),
        Case(
            name: "a single ’ makes the whole message UCS-2", text: repeated("a", 70) + "’", encoding: .ucs2, units: 71,
            segments: 2),
        Case(
            name: "a single emoji makes the whole message UCS-2 and counts 2", text: "Coffee ☕ is on us 🎉",
            encoding: .ucs2, units: 20, segments: 1),
        Case(
            name: "35 emoji = 70 units fit one segment", text: repeated("🎉", 35), encoding: .ucs2, units: 70,
            segments: 1),
        Case(name: "36 emoji = 72 units take two", text: repeated("🎉", 36), encoding: .ucs2, units: 72, segments: 2),
        Case(
            // 66 units, then a surrogate pair that would straddle the boundary: it moves whole to segment 2.
            name: "a surrogate pair is not split across segments", text: repeated("ж", 66) + "🎉" + repeated("ж", 66),
            encoding: .ucs2, units: 134, segments: 3),
        Case(
            name: "the same units with the pair inside segment 1 take two",
            text: repeated("ж", 65) + "🎉" + repeated("ж", 67),
            encoding: .ucs2, units: 134, segments: 2),
        Case(
            name: "extension characters count 1 in a UCS-2 message", text: "€{}ж", encoding: .ucs2, units: 4,
            segments: 1),
        Case(
            name: "a flag is two surrogate pairs", text: "🇵🇹", encoding: .ucs2, units: 4, segments: 1),
        Case(
            name: "a decomposed é (e + combining accent) is not GSM", text: "e\u{301}", encoding: .ucs2, units: 2,
            segments: 1),
    ]

    @Test("encoding, units and segments", arguments: cases)
    func segments(_ example: Case) {
        let segments = SMSSegments(example.text)
        #expect(segments.encoding == example.encoding)
        #expect(segments.units == example.units)
        #expect(segments.count == example.segments)
    }

    @Test("the description names count, encoding and units")
    func description() {
        #expect(SMSSegments("").description == "1 segment (GSM-7, 0 septets)")
        #expect(SMSSegments(Self.repeated("a", 161)).description == "2 segments (GSM-7, 161 septets)")
        #expect(SMSSegments("Olá ☕").description == "1 segment (UCS-2, 5 UTF-16 units)")
    }
}
