import Foundation

/// Customer rows checked on a second thread while the database thread writes the rows before them.
///
/// Reading and checking a customer row costs about a third of writing it, and the machine has a second core: a
/// producer thread runs the CSV reader and `RowWriter.prepareCustomer` and hands over batches of parameter values
/// (copied out of the reader's buffer), and the import's thread binds and runs them in file order, reporting bad rows
/// exactly as the one-thread loop does. Only files with a timezone column take this path: there the checks never
/// read the database.
final class CustomerPipeline: @unchecked Sendable {
    /// One parameter value of a prepared row.
    struct Parameter {
        var index: Int32
        /// 0 NULL, 1 integer (`value`), 2 text (`value` is the offset in the arena, `length` its length).
        var kind: UInt8
        var value: Int64
        var length: Int
    }

    /// A row as the import's thread needs it: its parameters end at `parameterEnd`; `problem` makes it a bad row.
    struct Row {
        var line: Int
        var bytesRead: Int
        var parameterEnd: Int
        var problem: String?
    }

    /// A batch of prepared rows; parameter texts live in `arena`.
    final class Batch {
        var arena: [UInt8] = []
        var parameters: [Parameter] = []
        var rows: [Row] = []

        init() {
            arena.reserveCapacity(64 << 10)
            parameters.reserveCapacity(Self.size * 20)
            rows.reserveCapacity(Self.size)
        }

        static let size = 256
    }

    /// Records a row's parameters into a batch.
    struct Sink: ParameterSink {
        let batch: Batch

        func bindNull(_ index: Int32) {
            batch.parameters.append(Parameter(index: index, kind: 0, value: 0, length: 0))
        }

        func bind(_ index: Int32, _ value: Int64) {
            batch.parameters.append(Parameter(index: index, kind: 1, value: value, length: 0))
        }

        func bindStatic(_ index: Int32, _ bytes: UnsafeBufferPointer<UInt8>) {
            let offset = batch.arena.count
            batch.arena.append(contentsOf: bytes)
            batch.parameters.append(Parameter(index: index, kind: 2, value: Int64(offset), length: bytes.count))
        }

        func bind(_ index: Int32, _ value: FieldText?) {
            switch value {
            case nil: bindNull(index)
            case .bytes(let bytes, _)?: bindStatic(index, bytes)
            case .string(let text)?:
                let offset = batch.arena.count
                batch.arena.append(contentsOf: text.utf8)
                batch.parameters.append(
                    Parameter(index: index, kind: 2, value: Int64(offset), length: batch.arena.count - offset))
            }
        }
    }

    /// How the producer stopped early.
    enum End {
        case syntax(CSVSyntaxError)
        case failure(any Error)
    }

    private let scanner: CSVScanner
    /// The producer's writer (its zone cache and the zones it saw); read it only after `join()`.
    private(set) var writer: RowWriter
    private let columnCount: Int
    private let condition = NSCondition()
    private var ready: [Batch] = []
    private var finished = false
    private var cancelled = false
    private(set) var end: End?
    private let running = DispatchGroup()

    init(scanner: CSVScanner, writer: RowWriter, columnCount: Int) {
        self.scanner = scanner
        self.writer = writer
        self.columnCount = columnCount
    }

    /// Starts the producer thread.
    func start() {
        running.enter()
        Thread.detachNewThread { [self] in
            produce()
            running.leave()
        }
    }

    /// The next batch in file order; nil once the producer is done (see `end`).
    func next() -> Batch? {
        condition.lock()
        defer { condition.unlock() }
        while ready.isEmpty && !finished { condition.wait() }
        if ready.isEmpty { return nil }
        let batch = ready.removeFirst()
        condition.broadcast()
        return batch
    }

    /// Stops the producer (when the import fails) and waits for its thread to end; safe to call more than once.
    func join() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
        running.wait()
    }

    /// Hands over a batch, waiting while four are pending; false when cancelled.
    private func put(_ batch: Batch) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while ready.count >= 4 && !cancelled { condition.wait() }
        if cancelled { return false }
        ready.append(batch)
        condition.broadcast()
        return true
    }

    private func finish(_ end: End?) {
        condition.lock()
        finished = true
        self.end = end
        condition.broadcast()
        condition.unlock()
    }

    private func produce() {
        var batch = Batch()
        do {
            while try scanner.advance() {
                let record = scanner.record
                // A line of only spaces is blank, like an empty one.
                if record.isBlank { continue }
                let arenaStart = batch.arena.count
                let parameterStart = batch.parameters.count
                var problem: String?
                if record.count != columnCount {
                    problem = "expected \(columnCount) fields as in the header, found \(record.count)"
                } else {
                    var sink = Sink(batch: batch)
                    do {
                        try writer.prepareCustomer(record, into: &sink)
                    } catch let error as RowError {
                        problem = error.message
                    }
                }
                if problem != nil {
                    batch.arena.removeSubrange(arenaStart...)
                    batch.parameters.removeSubrange(parameterStart...)
                }
                batch.rows.append(
                    Row(
                        line: record.line, bytesRead: scanner.bytesRead, parameterEnd: batch.parameters.count,
                        problem: problem))
                if batch.rows.count == Batch.size {
                    guard put(batch) else { return }
                    batch = Batch()
                }
            }
            if put(batch) { finish(nil) }
        } catch let error as CSVSyntaxError {
            if put(batch) { finish(.syntax(error)) }
        } catch {
            if put(batch) { finish(.failure(error)) }
        }
    }
}

extension RawStatement {
    /// Binds parameters `from..<to` of a batch, texts pointing into its arena (valid while the row runs).
    @inline(__always)
    func bind(_ parameters: [CustomerPipeline.Parameter], _ from: Int, _ to: Int, arena: UnsafeBufferPointer<UInt8>) {
        guard let base = arena.baseAddress else {
            // No text at all: every parameter is NULL or an integer.
            for parameter in parameters[from..<to] {
                if parameter.kind == 1 { bind(parameter.index, parameter.value) } else { bindNull(parameter.index) }
            }
            return
        }
        for i in from..<to {
            let parameter = parameters[i]
            switch parameter.kind {
            case 0: bindNull(parameter.index)
            case 1: bind(parameter.index, parameter.value)
            default:
                bindStatic(
                    parameter.index,
                    UnsafeBufferPointer(start: base + Int(parameter.value), count: parameter.length))
            }
        }
    }
}
