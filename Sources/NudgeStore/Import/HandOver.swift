import Foundation

extension ImportKind {
    /// The customer table's columns a customers file with header `columns` fills, in the order
    /// `ImportOptions.checkedCustomers` hands their values over. (The visit-derived fields are not among them.)
    public static func checkedCustomerColumns(header columns: [String]) -> [String] {
        RowWriter.customerParameters(columns).filter { $0 != "last_activity_at" }
    }
}

/// Hands checked customer rows to `ImportOptions.checkedCustomers` instead of the upsert: each row's parameter values
/// become text fields (integers written out in decimal), in the order of `ImportKind.checkedCustomerColumns`.
final class CustomerHandOver {
    let handler: @Sendable ([UnsafeBufferPointer<UInt8>?]) throws -> Void
    /// The field each parameter fills (by parameter index - 1), -1 for one not handed over.
    private let positions: [Int]
    private var fields: [UnsafeBufferPointer<UInt8>?]
    /// Room for each field's decimal text.
    private let numbers: UnsafeMutablePointer<UInt8>
    private static let numberWidth = 24
    /// A batch for rows checked one at a time (files without a timezone column).
    let single = CustomerPipeline.Batch()

    init(header: [String], handler: @escaping @Sendable ([UnsafeBufferPointer<UInt8>?]) throws -> Void) {
        self.handler = handler
        var positions: [Int] = []
        var next = 0
        for name in RowWriter.customerParameters(header) {
            if name == "last_activity_at" {
                positions.append(-1)
            } else {
                positions.append(next)
                next += 1
            }
        }
        self.positions = positions
        fields = Array(repeating: nil, count: next)
        numbers = .allocate(capacity: next * Self.numberWidth)
    }

    deinit { numbers.deallocate() }

    /// Hands over the row made of parameters `from..<to` of a batch, texts pointing into its arena.
    func row(_ parameters: [CustomerPipeline.Parameter], _ from: Int, _ to: Int, arena: UnsafeBufferPointer<UInt8>) throws {
        for index in fields.indices { fields[index] = nil }
        for i in from..<to {
            let parameter = parameters[i]
            let position = positions[Int(parameter.index) - 1]
            guard position >= 0 else { continue }
            switch parameter.kind {
            case 1: fields[position] = decimal(parameter.value, at: position)
            case 2:
                fields[position] = UnsafeBufferPointer(
                    start: arena.baseAddress.map { $0 + Int(parameter.value) }, count: parameter.length)
            default: fields[position] = nil
            }
        }
        try handler(fields)
    }

    /// Hands over the one row in `single`, then empties it.
    func rowInSingle() throws {
        defer { discardSingle() }
        try single.arena.withUnsafeBufferPointer { try row(single.parameters, 0, single.parameters.count, arena: $0) }
    }

    /// Empties `single`.
    func discardSingle() {
        single.arena.removeAll(keepingCapacity: true)
        single.parameters.removeAll(keepingCapacity: true)
    }

    /// `value` in decimal, written in field `position`'s room.
    private func decimal(_ value: Int64, at position: Int) -> UnsafeBufferPointer<UInt8> {
        let end = numbers + (position + 1) * Self.numberWidth
        var start = end
        var magnitude = value.magnitude
        repeat {
            start -= 1
            start.pointee = UInt8(ascii: "0") + UInt8(magnitude % 10)
            magnitude /= 10
        } while magnitude > 0
        if value < 0 {
            start -= 1
            start.pointee = UInt8(ascii: "-")
        }
        return UnsafeBufferPointer(start: start, count: end - start)
    }
}
