public import Foundation

/// A device's registration for updates of an Apple Wallet pass (the PassKit web service of `nudge serve`).
public struct PassRegistration: Sendable, Hashable {
    /// Apple's `deviceLibraryIdentifier`.
    public var deviceID: String
    public var passTypeID: String
    public var serial: String
    public var customerID: String
    /// The device's push token for this pass type: where the empty push announcing a change goes.
    public var pushToken: String
    public var registeredAt: Date
    /// When the device unregistered (or APNs said its token is gone); nil while it is registered.
    public var unregisteredAt: Date?

    public init(
        deviceID: String, passTypeID: String, serial: String, customerID: String, pushToken: String, registeredAt: Date,
        unregisteredAt: Date? = nil
    ) {
        self.deviceID = deviceID
        self.passTypeID = passTypeID
        self.serial = serial
        self.customerID = customerID
        self.pushToken = pushToken
        self.registeredAt = registeredAt
        self.unregisteredAt = unregisteredAt
    }
}

/// The latest wallet message recorded on a pass.
public struct PassMessage: Sendable, Hashable {
    public var header: String
    public var body: String
    /// The outbox message it was: recording it again (a retried delivery) changes nothing.
    public var outboxID: String

    public init(header: String, body: String, outboxID: String) {
        self.header = header
        self.body = body
        self.outboxID = outboxID
    }
}

/// What a pass shows beyond its customer's card, and its place in the update order.
public struct PassState: Sendable, Hashable {
    public var customerID: String
    /// The update tag: moves forward (across all passes) each time a pass changes.
    public var tag: Int64
    /// When it last changed.
    public var updatedAt: Date
    public var message: PassMessage?

    public init(customerID: String, tag: Int64, updatedAt: Date, message: PassMessage?) {
        self.customerID = customerID
        self.tag = tag
        self.updatedAt = updatedAt
        self.message = message
    }
}

/// What the PassKit web service and the `apple_wallet` provider keep: which devices hold which pass, and each pass's
/// latest change.
public protocol PassStore: Sendable {
    /// The customer whose `wallet_pass_id` is `serial`.
    func customerID(walletPassID serial: String) async throws -> String?
    /// Registers a device for a pass (a registration again replaces its push token); true when the device was not
    /// registered for it.
    func registerPassDevice(_ registration: PassRegistration) async throws -> Bool
    /// Ends a device's registration for a pass; false when it was not registered.
    func unregisterPassDevice(deviceID: String, passTypeID: String, serial: String, at: Date) async throws -> Bool
    /// The serial numbers of the passes of `passTypeID` registered on a device, each with its update tag (0: never
    /// changed), by serial.
    func registeredPasses(deviceID: String, passTypeID: String) async throws -> [(serial: String, tag: Int64)]
    /// A pass's latest change, nil when it never changed.
    func passState(passTypeID: String, serial: String) async throws -> PassState?
    /// Records a change of a pass (a message, or nil: its stamps) and moves its update tag, in one transaction;
    /// a message recorded already changes nothing. Returns the push tokens of the devices registered for it.
    func recordPassUpdate(
        passTypeID: String, serial: String, customerID: String, message: PassMessage?, at: Date
    ) async throws -> [String]
    /// A customer's registrations, ended ones included, newest first.
    func passRegistrations(customerID: String) async throws -> [PassRegistration]
    /// Ends every registration with `pushToken` (APNs no longer knows it); returns how many there were.
    func unregisterPassDevices(pushToken: String, passTypeID: String, at: Date) async throws -> Int
}
