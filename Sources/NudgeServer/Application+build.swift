public import Foundation
public import Hummingbird
public import Logging
import NIOCore
public import NudgeStore

/// The `nudge serve` application: the providers' webhooks, unsubscribe links and a health
/// check, recording into `database`. The CLI runs it; tests drive it with `app.test(.router)`.
///
/// - Parameters:
///   - settings: the keys requests are verified with; a route without its key answers 503.
///   - database: where events and consent changes go.
///   - passes: the Apple Wallet passes and their registrations, for the PassKit web service.
///   - configuration: the address to bind and other server settings.
///   - now: the clock that signed timestamps are checked against and events stamped with.
///   - logger: the server's logger (metadata keys dotted; never addresses or secrets).
///   - onListening: called with the bound port once the server accepts connections.
public func buildApplication(
    settings: ServerSettings, database: any EventStore, passes: (any PassStore & PlanningStore)? = nil,
    configuration: ApplicationConfiguration = ApplicationConfiguration(),
    now: @escaping @Sendable () -> Date, logger: Logger, onListening: @escaping @Sendable (Int) async -> Void = { _ in }
) -> some ApplicationProtocol {
    let receiver = EventReceiver(
        settings: settings, database: database, passes: passes, now: now, replays: ReplayGuard(window: settings.tolerance * 2))
    return Application(
        router: buildRouter(receiver), configuration: configuration,
        onServerRunning: { channel in await onListening(channel.localAddress?.port ?? 0) }, logger: logger)
}

/// The routes of `buildApplication`: health, each provider's webhooks, unsubscribe links.
func buildRouter(_ receiver: EventReceiver) -> Router<BasicRequestContext> {
    let router = Router()
    router.get(RouterPath(Route.health)) { _, _ in "ok\n" }
    for webhooks in receiver.settings.webhooks {
        webhooks.add(to: router, receiver: receiver)
    }
    router.get(RouterPath(Route.unsubscribe + "/:token")) { request, context in
        try await receiver.unsubscribePage(request, context: context)
    }
    router.post(RouterPath(Route.unsubscribe + "/:token")) { request, context in
        try await receiver.unsubscribe(request, context: context)
    }
    return router
}
