public import Foundation
import Logging
public import NudgeStore
import PostgresNIO
import NudgeCore

/// The PassKit web service's registrations and the passes' update tags, on PostgreSQL.
extension PostgresStore: PassStore {
    /// `$n`: PostgreSQL's parameters.
    private static func p(_ n: Int) -> String { "$\(n)" }

    private static func query(_ sql: String, _ values: [(any PostgresNonThrowingEncodable)?]) -> PostgresQuery {
        var bindings = PostgresBindings()
        for value in values {
            if let value { bindings.append(value) } else { bindings.appendNull() }
        }
        return PostgresQuery(unsafeSQL: sql, binds: bindings)
    }

    public func customerID(walletPassID serial: String) async throws -> String? {
        for try await id in try await client.query(Self.query(PassSQL.customer(Self.p), [serial]), logger: logger)
            .decode(String.self)
        {
            return id
        }
        return nil
    }

    public func registerPassDevice(_ registration: PassRegistration) async throws -> Bool {
        let r = registration
        return try await client.withTransaction(logger: logger) { connection in
            var held: Int64 = 0
            for try await count in try await connection.query(
                Self.query(PassSQL.isRegistered(Self.p), [r.deviceID, r.passTypeID, r.serial]), logger: logger
            ).decode(Int64.self) {
                held = count
            }
            try await connection.query(
                Self.query(
                    PassSQL.register(Self.p),
                    [r.deviceID, r.passTypeID, r.serial, r.customerID, r.pushToken, StoredInstant.millis(r.registeredAt)]),
                logger: logger)
            return held == 0
        }
    }

    /// The number of rows `sql` changed.
    private func changes(_ sql: String, _ values: [(any PostgresNonThrowingEncodable)?]) async throws -> Int {
        var changed = 0
        for try await count in try await client.query(
            Self.query("WITH changed AS (\(sql) RETURNING 1) SELECT count(*) FROM changed", values), logger: logger
        ).decode(Int64.self) {
            changed = Int(count)
        }
        return changed
    }

    public func unregisterPassDevice(deviceID: String, passTypeID: String, serial: String, at: Date) async throws -> Bool {
        try await changes(PassSQL.unregister(Self.p), [deviceID, passTypeID, serial, StoredInstant.millis(at)]) > 0
    }

    public func unregisterPassDevices(pushToken: String, passTypeID: String, at: Date) async throws -> Int {
        try await changes(PassSQL.unregisterToken(Self.p), [pushToken, passTypeID, StoredInstant.millis(at)])
    }

    public func registeredPasses(deviceID: String, passTypeID: String) async throws -> [(serial: String, tag: Int64)] {
        var passes: [(serial: String, tag: Int64)] = []
        for try await (serial, tag) in try await client.query(
            Self.query(PassSQL.registered(Self.p), [deviceID, passTypeID]), logger: logger
        ).decode((String, Int64).self) {
            passes.append((serial, tag))
        }
        return passes
    }

    public func passState(passTypeID: String, serial: String) async throws -> PassState? {
        for try await (customer, tag, updated, outbox, header, body) in try await client.query(
            Self.query(PassSQL.state(Self.p), [passTypeID, serial]), logger: logger
        ).decode((String, Int64, Int64, String?, String?, String?).self) {
            return PassState(
                customerID: customer, tag: tag, updatedAt: StoredInstant.date(updated),
                message: outbox.map { PassMessage(header: header ?? "", body: body ?? "", outboxID: $0) })
        }
        return nil
    }

    public func recordPassUpdate(
        passTypeID: String, serial: String, customerID: String, message: PassMessage?, at: Date
    ) async throws -> [String] {
        try await client.withTransaction(logger: logger) { connection in
            // The row is locked until commit: a retried delivery racing this one sees the message recorded.
            var recorded: String?
            var exists = false
            for try await outbox in try await connection.query(
                Self.query(
                    "SELECT outbox_id FROM pass_update WHERE pass_type_id = $1 AND serial = $2 FOR UPDATE",
                    [passTypeID, serial]), logger: logger
            ).decode(String?.self) {
                exists = true
                recorded = outbox
            }
            if message == nil || !exists || recorded != message?.outboxID {
                try await connection.query(
                    Self.query(
                        PassSQL.update(Self.p, nextTag: "nextval('pass_update_tag')"),
                        [
                            passTypeID, serial, customerID, StoredInstant.millis(at), message?.outboxID, message?.header,
                            message?.body,
                        ]), logger: logger)
            }
            var tokens: [String] = []
            for try await token in try await connection.query(
                Self.query(PassSQL.devices(Self.p), [passTypeID, serial]), logger: logger
            ).decode(String.self) {
                tokens.append(token)
            }
            return tokens
        }
    }

    public func passDevices(passTypeID: String, serials: [String]) async throws -> [String: [String]] {
        guard !serials.isEmpty else { return [:] }
        var devices: [String: [String]] = [:]
        for try await (serial, token) in try await client.query(
            """
            SELECT serial, push_token FROM pass_registration
            WHERE pass_type_id = \(passTypeID) AND serial = ANY(\(Array(Set(serials)))) AND unregistered_at IS NULL
            ORDER BY serial, device_id
            """, logger: logger
        ).decode((String, String).self) {
            devices[serial, default: []].append(token)
        }
        return devices
    }

    public func passRegistrations(customerID: String) async throws -> [PassRegistration] {
        var found: [PassRegistration] = []
        for try await (device, type, serial, customer, token, registered, ended) in try await client.query(
            Self.query(PassSQL.ofCustomer(Self.p), [customerID]), logger: logger
        ).decode((String, String, String, String, String, Int64, Int64?).self) {
            found.append(
                PassRegistration(
                    deviceID: device, passTypeID: type, serial: serial, customerID: customer, pushToken: token,
                    registeredAt: StoredInstant.date(registered), unregisteredAt: ended.map(StoredInstant.date)))
        }
        return found
    }
}
