public import Foundation
import GRDB
import NudgeCore

/// The PassKit web service's registrations and the passes' update tags, on SQLite.
extension AppDatabase: PassStore {
    /// `?n`: SQLite's numbered parameters.
    private static func p(_ n: Int) -> String { "?\(n)" }

    public func customerID(walletPassID serial: String) throws -> String? {
        try reader.read { db in try String.fetchOne(db, sql: PassSQL.customer(Self.p), arguments: [serial]) }
    }

    public func registerPassDevice(_ registration: PassRegistration) throws -> Bool {
        try writer.write { db in
            let r = registration
            let held = try Int.fetchOne(
                db, sql: PassSQL.isRegistered(Self.p), arguments: [r.deviceID, r.passTypeID, r.serial]) ?? 0
            try db.execute(
                sql: PassSQL.register(Self.p),
                arguments: [
                    r.deviceID, r.passTypeID, r.serial, r.customerID, r.pushToken, StoredInstant.millis(r.registeredAt),
                ])
            return held == 0
        }
    }

    public func unregisterPassDevice(deviceID: String, passTypeID: String, serial: String, at: Date) throws -> Bool {
        try writer.write { db in
            try db.execute(
                sql: PassSQL.unregister(Self.p), arguments: [deviceID, passTypeID, serial, StoredInstant.millis(at)])
            return db.changesCount > 0
        }
    }

    public func unregisterPassDevices(pushToken: String, passTypeID: String, at: Date) throws -> Int {
        try writer.write { db in
            try db.execute(sql: PassSQL.unregisterToken(Self.p), arguments: [pushToken, passTypeID, StoredInstant.millis(at)])
            return db.changesCount
        }
    }

    public func registeredPasses(deviceID: String, passTypeID: String) throws -> [(serial: String, tag: Int64)] {
        try reader.read { db in
            try Row.fetchAll(db, sql: PassSQL.registered(Self.p), arguments: [deviceID, passTypeID]).map { ($0[0], $0[1]) }
        }
    }

    public func passState(passTypeID: String, serial: String) throws -> PassState? {
        try reader.read { db in
            try Row.fetchOne(db, sql: PassSQL.state(Self.p), arguments: [passTypeID, serial]).map(Self.passState)
        }
    }

    /// `customer_id, tag, updated_at, outbox_id, header, body`.
    static func passState(_ row: Row) -> PassState {
        let outboxID: String? = row[3]
        return PassState(
            customerID: row[0], tag: row[1], updatedAt: StoredInstant.date(row[2]),
            message: outboxID.map { PassMessage(header: row[4] ?? "", body: row[5] ?? "", outboxID: $0) })
    }

    public func recordPassUpdate(
        passTypeID: String, serial: String, customerID: String, message: PassMessage?, at: Date
    ) throws -> [String] {
        try writer.write { db in
            let recorded = try String.fetchOne(
                db, sql: "SELECT outbox_id FROM pass_update WHERE pass_type_id = ?1 AND serial = ?2",
                arguments: [passTypeID, serial])
            if message == nil || recorded != message?.outboxID {
                try db.execute(
                    sql: PassSQL.update(Self.p, nextTag: "(SELECT coalesce(max(tag), 0) + 1 FROM pass_update)"),
                    arguments: [
                        passTypeID, serial, customerID, StoredInstant.millis(at), message?.outboxID, message?.header,
                        message?.body,
                    ])
            }
            return try String.fetchAll(db, sql: PassSQL.devices(Self.p), arguments: [passTypeID, serial])
        }
    }

    public func passDevices(passTypeID: String, serials: [String]) throws -> [String: [String]] {
        try reader.read { db in
            var devices: [String: [String]] = [:]
            let statement = try db.makeStatement(sql: PassSQL.devices(Self.p))
            for serial in Set(serials) {
                let tokens = try String.fetchAll(statement, arguments: [passTypeID, serial])
                if !tokens.isEmpty { devices[serial] = tokens }
            }
            return devices
        }
    }

    public func passRegistrations(customerID: String) throws -> [PassRegistration] {
        try reader.read { db in
            try Row.fetchAll(db, sql: PassSQL.ofCustomer(Self.p), arguments: [customerID]).map { row in
                let ended: Int64? = row[6]
                return PassRegistration(
                    deviceID: row[0], passTypeID: row[1], serial: row[2], customerID: row[3], pushToken: row[4],
                    registeredAt: StoredInstant.date(row[5]), unregisteredAt: ended.map(StoredInstant.date))
            }
        }
    }
}
