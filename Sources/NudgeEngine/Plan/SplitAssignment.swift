import Crypto
public import NudgeLanguage

extension Split {
    /// The variant a customer gets in workflow `workflowID`, the same on every run, machine and version, and for
    /// every step of one journey: x is the first 8 bytes of SHA-256(workflow id, a line feed, customer id) read as
    /// a big-endian unsigned integer, the point ⌊x × W / 2⁶⁴⌋ (W the sum of the weights) lies in [0, W), and the
    /// variants, in the order written, take the consecutive ranges of their weights: with pastry 45, discount 45
    /// and control 10, points 0–44 are pastry, 45–89 discount, 90–99 control.
    public func variant(workflowID: String, customerID: String) -> Variant {
        var bytes = Array(workflowID.utf8)
        bytes.append(0x0A)
        bytes.append(contentsOf: customerID.utf8)
        var x: UInt64 = 0
        for byte in SHA256.hash(data: bytes).prefix(8) { x = x << 8 | UInt64(byte) }
        let point = x.multipliedFullWidth(by: UInt64(totalWeight)).high
        var end: UInt64 = 0
        for variant in variants {
            end += UInt64(variant.weight)
            if point < end { return variant }
        }
        return variants[variants.count - 1]
    }

    /// The variant a journey takes: `recorded` (what the ledger holds for its earlier steps) while the split still
    /// has a variant of that name, else the customer's draw.
    public func variant(recorded: String?, workflowID: String, customerID: String) -> Variant {
        recorded.flatMap { name in variants.first { $0.name == name } }
            ?? variant(workflowID: workflowID, customerID: customerID)
    }
}
