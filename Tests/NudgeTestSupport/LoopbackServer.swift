import Foundation
public import Hummingbird
public import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle

/// Runs `router` on 127.0.0.1 (an ephemeral port) with `server` (plain HTTP/1.1 unless given, e.g. HTTP/2 over
/// TLS) while `body` runs with the server's base URL (`http://127.0.0.1:PORT`, or `scheme`); calls `stopping` before
/// the server shuts down, to end replies that hang.
public func withLoopbackServer<T, Router: HTTPResponderBuilder>(
    _ router: Router, server: HTTPServerBuilder = .http1(), scheme: String = "http", label: String,
    stopping: () -> Void = {}, _ body: (String) async throws -> T
) async throws -> T where Router.Responder.Context: RequestContext, Router.Responder.Context.Source == ApplicationRequestContextSource {
    var logger = Logger(label: label)
    logger.logLevel = .error
    let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
    let app = Application(
        router: router, server: server, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
        onServerRunning: { channel in
            portContinuation.yield(channel.localAddress?.port ?? 0)
            portContinuation.finish()
        },
        logger: logger)
    let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else {
            await group.triggerGracefulShutdown()
            throw ReceiverError(description: "\(label) did not start")
        }
        let result: Result<T, any Error>
        do {
            result = .success(try await body("\(scheme)://127.0.0.1:\(port)"))
        } catch {
            result = .failure(error)
        }
        stopping()
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
        return try result.get()
    }
}
