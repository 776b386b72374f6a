import Foundation
import NudgeDelivery
import Testing

@Suite("Outbox ids")
struct OutboxIDTests {
    @Test("a maker's ids are msg_ and 32 hex digits, rising in the order they are made, and unique")
    func rising() {
        let ids = OutboxIDs(startedAt: Date(timeIntervalSince1970: 1_795_615_200))
        let made = (0..<1_000).map { _ in ids.next() }
        #expect(made.allSatisfy { $0.hasPrefix("msg_") && $0.count == 36 })
        #expect(made.allSatisfy { $0.dropFirst(4).allSatisfy { "0123456789abcdef".contains($0) } })
        #expect(made == made.sorted())
        #expect(Set(made).count == made.count)
        // The start in milliseconds leads, so a later maker's ids sort after an earlier one's.
        #expect(made[0].hasPrefix("msg_01a213019300"))
        let later = OutboxIDs(startedAt: Date(timeIntervalSince1970: 1_795_615_201))
        #expect(later.next() > made.last!)
    }

    @Test("two makers started in the same millisecond make different ids")
    func sameMillisecond() {
        let start = Date(timeIntervalSince1970: 1_795_615_200)
        let first = OutboxIDs(startedAt: start)
        let second = OutboxIDs(startedAt: start)
        #expect(first.next() != second.next())
    }
}
