import Foundation
import HTTPTypes
public import Hummingbird
import Logging
import NIOCore
import NudgeStore
public import NudgeServer
import NudgeCore
import NudgeDelivery

/// Apple's PassKit web service, under `serve.public_url` + `/passkit` (the passes' `webServiceURL`): devices register
/// and unregister for a pass's updates, ask which of their passes changed since a tag, and fetch the latest pass.
/// Every request about one pass carries `Authorization: ApplePass TOKEN`, the pass's token; a wrong one is 401 and
/// changes nothing.
public struct PassKitService: ProviderWebhooks {
    static let prefix = "/passkit/v1"
    /// The paths, for the help text.
    static let paths = [
        prefix + "/devices/{device}/registrations/{passType}/{serial}",
        prefix + "/devices/{device}/registrations/{passType}",
        prefix + "/passes/{passType}/{serial}",
        prefix + "/log",
    ]
    /// Issues and verifies the passes; nil: the routes answer 503 with `problem`.
    public var passes: ApplePasses?
    public var problem: String

    public init(passes: ApplePasses?, problem: String? = nil) {
        self.passes = passes
        self.problem = problem ?? "the apple_wallet channel cannot issue passes"
    }

    public func routes(_ settings: ServerSettings) -> [ServerSettings.RouteStatus] {
        let problem: String? =
            passes == nil ? problem : passes?.webServiceURL == nil ? "serve.public_url is not set (the passes' webServiceURL)" : nil
        return zip(["POST, DELETE", "GET", "GET", "POST"], Self.paths).map {
            ServerSettings.RouteStatus(method: $0, path: $1, problem: problem)
        }
    }

    public func add(to router: Router<BasicRequestContext>, receiver: EventReceiver) {
        let registration = RouterPath(Self.prefix + "/devices/:device/registrations/:passType/:serial")
        router.post(registration) { request, context in
            try await register(request, context: context, receiver: receiver)
        }
        router.delete(registration) { request, context in
            try await unregister(request, context: context, receiver: receiver)
        }
        router.get(RouterPath(Self.prefix + "/devices/:device/registrations/:passType")) { request, context in
            try await updated(request, context: context, receiver: receiver)
        }
        router.get(RouterPath(Self.prefix + "/passes/:passType/:serial")) { request, context in
            try await pass(request, context: context, receiver: receiver)
        }
        router.post(RouterPath(Self.prefix + "/log")) { request, context in
            try await log(request, context: context, receiver: receiver)
        }
    }

    /// The issuer and the store, or 503 when the service cannot answer (no passes, no `serve.public_url`, no store).
    private func ready(_ receiver: EventReceiver) throws -> (ApplePasses, any PassStore & PlanningStore) {
        guard let passes, passes.webServiceURL != nil, let store = receiver.passes else { throw EventReceiver.notConfigured }
        return (passes, store)
    }

    /// The issuer, the pass's type and serial, and its customer, once the request's type is ours and its token the
    /// pass's: 404 for another pass type or a pass nobody holds (any more), 401 for a missing or wrong token.
    private func authorized(
        _ request: Request, context: some RequestContext, receiver: EventReceiver
    ) async throws -> (passes: ApplePasses, serial: String, customerID: String, store: any PassStore & PlanningStore) {
        let (passes, store) = try ready(receiver)
        let passType = try context.parameters.require("passType")
        let serial = try context.parameters.require("serial")
        guard passType == passes.passTypeID else { throw HTTPError(.notFound, message: "no such pass type") }
        let header = request.headers[.authorization] ?? ""
        guard header.hasPrefix("ApplePass "), passes.accepts(String(header.dropFirst("ApplePass ".count)), serial: serial)
        else {
            context.logger.info("passkit: refused a request without the pass's token", metadata: ["pass.serial": "\(serial)"])
            throw HTTPError(.unauthorized)
        }
        guard let customerID = try await store.customerID(walletPassID: serial) else {
            throw HTTPError(.notFound, message: "no such pass")
        }
        return (passes, serial, customerID, store)
    }

    /// `POST …/devices/{device}/registrations/{passType}/{serial}` with `{"pushToken": …}`: 201 when the device was
    /// not registered for the pass, 200 when it was (its push token replaced).
    func register(_ request: Request, context: some RequestContext, receiver: EventReceiver) async throws -> Response {
        let (passes, serial, customerID, store) = try await authorized(request, context: context, receiver: receiver)
        let device = try context.parameters.require("device")
        let data = try await receiver.body(of: request, limit: 16 << 10)
        guard let body = try? JSONDecoder().decode(RegistrationBody.self, from: data), !body.pushToken.isEmpty else {
            throw HTTPError(.badRequest, message: "the body must be {\"pushToken\": \"…\"}")
        }
        let created = try await store.registerPassDevice(
            PassRegistration(
                deviceID: device, passTypeID: passes.passTypeID, serial: serial, customerID: customerID,
                pushToken: body.pushToken, registeredAt: receiver.now()))
        context.logger.info(
            "passkit: device registered", metadata: ["pass.serial": "\(serial)", "pass.new": "\(created)"])
        return Response(status: created ? .created : .ok)
    }

    /// `DELETE …/devices/{device}/registrations/{passType}/{serial}`: 200 (also when it was not registered).
    func unregister(_ request: Request, context: some RequestContext, receiver: EventReceiver) async throws -> Response {
        let (passes, serial, _, store) = try await authorized(request, context: context, receiver: receiver)
        let device = try context.parameters.require("device")
        let ended = try await store.unregisterPassDevice(
            deviceID: device, passTypeID: passes.passTypeID, serial: serial, at: receiver.now())
        context.logger.info("passkit: device unregistered", metadata: ["pass.serial": "\(serial)", "pass.was": "\(ended)"])
        return Response(status: .ok)
    }

    /// `GET …/devices/{device}/registrations/{passType}?passesUpdatedSince=TAG`: the serial numbers of the device's
    /// passes changed after TAG (all of them without one) and the latest tag, or 204 when none.
    func updated(_ request: Request, context: some RequestContext, receiver: EventReceiver) async throws -> Response {
        let (passes, store) = try ready(receiver)
        let passType = try context.parameters.require("passType")
        let device = try context.parameters.require("device")
        guard passType == passes.passTypeID else { return Response(status: .noContent) }
        let since = request.uri.queryParameters["passesUpdatedSince"].flatMap { Int64(String($0)) }
        let registered = try await store.registeredPasses(deviceID: device, passTypeID: passType)
        let changed = registered.filter { since == nil || $0.tag > since! }.map(\.serial)
        guard !changed.isEmpty else { return Response(status: .noContent) }
        let latest = registered.map(\.tag).max() ?? 0
        let body = try JSONEncoder().encode(UpdatedPasses(serialNumbers: changed, lastUpdated: String(latest)))
        return Response(
            status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// `GET …/passes/{passType}/{serial}`: the latest signed pass with its `Last-Modified`, or 304 when it has not
    /// changed since `If-Modified-Since`.
    func pass(_ request: Request, context: some RequestContext, receiver: EventReceiver) async throws -> Response {
        let (passes, serial, customerID, store) = try await authorized(request, context: context, receiver: receiver)
        let now = receiver.now()
        guard let (data, modified) = try await passes.pass(serial: serial, customerID: customerID, store: store, at: now)
        else { throw HTTPError(.notFound, message: "no such pass") }
        let seconds = modified.timeIntervalSince1970.rounded(.down)
        let lastModified = HTTPDate.format(Date(timeIntervalSince1970: seconds))
        if let since = request.headers[.ifModifiedSince].flatMap(HTTPDate.parse), since.timeIntervalSince1970 >= seconds {
            return Response(status: .notModified, headers: [.lastModified: lastModified])
        }
        return Response(
            status: .ok,
            headers: [.contentType: "application/vnd.apple.pkpass", .lastModified: lastModified, .cacheControl: "no-cache"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// `POST …/log` with `{"logs": […]}`: devices report problems with a pass; each line goes to the server's log.
    func log(_ request: Request, context: some RequestContext, receiver: EventReceiver) async throws -> Response {
        let data = try await receiver.body(of: request, limit: 64 << 10)
        guard let body = try? JSONDecoder().decode(DeviceLogs.self, from: data) else {
            throw HTTPError(.badRequest, message: "the body must be {\"logs\": […]}")
        }
        for line in body.logs.prefix(100) {
            context.logger.warning("passkit: a device reports: \(line.prefix(500))")
        }
        return Response(status: .ok)
    }
}

/// The body of a registration.
struct RegistrationBody: Decodable { var pushToken: String }

/// The answer of the list of updated passes.
struct UpdatedPasses: Encodable {
    var serialNumbers: [String]
    var lastUpdated: String
}

/// The body of the log endpoint.
struct DeviceLogs: Decodable { var logs: [String] }
