import Foundation

extension ImportKind {
    /// The columns of a visit row, in the order the check hands them over and the stores copy them.
    public static let visitColumns = ["customer_id", "visited_at", "amount_cents"]
    /// The columns of a progress row, in the same sense.
    public static let progressColumns = ["customer_id", "offer_id", "stamps", "rewards_earned", "updated_at"]

    /// The columns of the table a file of this kind with header `columns` fills, in the order
    /// `ImportOptions.checkedRows` hands their values over. (Customers: the visit-derived fields are not among them.)
    public func checkedColumns(header columns: [String]) -> [String] {
        switch self {
        case .customers: return RowWriter.customerParameters(columns).filter { $0 != "last_activity_at" }
        case .visits: return Self.visitColumns
        case .progress: return Self.progressColumns
        case .offers: return []  // offers are few, and always upserted
        }
    }

    /// The upsert's parameters, in order (customers: `last_activity_at` among them).
    func parameters(header columns: [String]) -> [String] {
        self == .customers ? RowWriter.customerParameters(columns) : checkedColumns(header: columns)
    }
}

/// Hands checked rows to `ImportOptions.checkedRows` instead of the upsert: each row's parameter values become text
/// fields (integers written out in decimal), in the order of `ImportKind.checkedColumns`.
final class RowHandOver {
    let handler: @Sendable ([UnsafeBufferPointer<UInt8>?]) throws -> Void
    /// The field each parameter fills (by parameter index - 1), -1 for one not handed over.
    private let positions: [Int]
    private var fields: [UnsafeBufferPointer<UInt8>?]
    /// Room for each field's decimal text.
    private let numbers: UnsafeMutablePointer<UInt8>
    private static let numberWidth = 24
    /// A batch for rows checked one at a time (all but customers files with a timezone column).
    let single = CustomerPipeline.Batch()

    init(
        kind: ImportKind, header: [String], handler: @escaping @Sendable ([UnsafeBufferPointer<UInt8>?]) throws -> Void
    ) {
        self.handler = handler
        var positions: [Int] = []
        var next = 0
        for name in kind.parameters(header: header) {
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

    /// Hands over the row `bind` binds.
    func hand(_ bind: (inout CustomerPipeline.Sink) -> Void) throws {
        var sink = CustomerPipeline.Sink(batch: single)
        bind(&sink)
        try rowInSingle()
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
