public import Foundation
public import Hummingbird
public import Logging
import NIOCore
public import NudgeStore

/// The `nudge serve` application: provider webhooks (SendGrid, Mailgun, Twilio), unsubscribe links and a health
/// check, recording into `database`. The CLI runs it; tests drive it with `app.test(.router)`.
///
/// - Parameters:
///   - settings: the keys requests are verified with; a route without its key answers 503.
///   - database: where events and consent changes go.
///   - configuration: the address to bind and other server settings.
///   - now: the clock that signed timestamps are checked against and events stamped with.
///   - logger: the server's logger (metadata keys dotted; never addresses or secrets).
///   - onListening: called with the bound port once the server accepts connections.
public func buildApplication(
    settings: ServerSettings, database: any EventStore,
    configuration: ApplicationConfiguration = ApplicationConfiguration(),
    now: @escaping @Sendable () -> Date, logger: Logger, onListening: @escaping @Sendable (Int) async -> Void = { _ in }
) -> some ApplicationProtocol {
    let receiver = EventReceiver(
        settings: settings, database: database, now: now, replays: ReplayGuard(window: settings.tolerance * 2))
    return Application(
        router: buildRouter(receiver), configuration: configuration,
        onServerRunning: { channel in await onListening(channel.localAddress?.port ?? 0) }, logger: logger)
}

/// The routes of `buildApplication`.
func buildRouter(_ receiver: EventReceiver) -> Router<BasicRequestContext> {
    let router = Router()
    router.get(RouterPath(Route.health)) { _, _ in "ok\n" }
    router.post(RouterPath(Route.sendGrid)) { request, context in
        try await receiver.sendGrid(request, context: context)
    }
    router.post(RouterPath(Route.mailgun)) { request, context in
        try await receiver.mailgun(request, context: context)
    }
    router.post(RouterPath(Route.twilioStatus)) { request, context in
        try await receiver.twilioStatus(request, context: context)
    }
    router.post(RouterPath(Route.twilioInbound)) { request, context in
        try await receiver.twilioInbound(request, context: context)
    }
    router.get(RouterPath(Route.unsubscribe + "/:token")) { request, context in
        try await receiver.unsubscribePage(request, context: context)
    }
    router.post(RouterPath(Route.unsubscribe + "/:token")) { request, context in
        try await receiver.unsubscribe(request, context: context)
    }
    return router
}
