/// The SQL of `PassStore`, the same on SQLite and PostgreSQL but for how parameters are written (`p(n)`: `?n` or
/// `$n`) and how the next update tag is drawn.
package enum PassSQL {
    /// The customer holding a pass: parameter 1 the serial.
    package static func customer(_ p: (Int) -> String) -> String {
        "SELECT id FROM customer WHERE wallet_pass_id = \(p(1)) ORDER BY id LIMIT 1"
    }

    /// Whether a device is registered for a pass: parameters device, pass type, serial.
    package static func isRegistered(_ p: (Int) -> String) -> String {
        """
        SELECT count(*) FROM pass_registration
        WHERE device_id = \(p(1)) AND pass_type_id = \(p(2)) AND serial = \(p(3)) AND unregistered_at IS NULL
        """
    }

    /// Registers a device: parameters device, pass type, serial, customer, push token, when. A registration that
    /// ended starts again; one that holds keeps its time and takes the new token.
    package static func register(_ p: (Int) -> String) -> String {
        """
        INSERT INTO pass_registration (device_id, pass_type_id, serial, customer_id, push_token, registered_at)
        VALUES (\(p(1)), \(p(2)), \(p(3)), \(p(4)), \(p(5)), \(p(6)))
        ON CONFLICT (device_id, pass_type_id, serial) DO UPDATE SET customer_id = excluded.customer_id,
          push_token = excluded.push_token,
          registered_at = CASE WHEN pass_registration.unregistered_at IS NULL
            THEN pass_registration.registered_at ELSE excluded.registered_at END,
          unregistered_at = NULL
        """
    }

    /// Ends a registration: parameters device, pass type, serial, when.
    package static func unregister(_ p: (Int) -> String) -> String {
        """
        UPDATE pass_registration SET unregistered_at = \(p(4))
        WHERE device_id = \(p(1)) AND pass_type_id = \(p(2)) AND serial = \(p(3)) AND unregistered_at IS NULL
        """
    }

    /// Ends the registrations of a push token: parameters token, pass type, when.
    package static func unregisterToken(_ p: (Int) -> String) -> String {
        """
        UPDATE pass_registration SET unregistered_at = \(p(3))
        WHERE push_token = \(p(1)) AND pass_type_id = \(p(2)) AND unregistered_at IS NULL
        """
    }

    /// A device's passes with their tags: parameters device, pass type.
    package static func registered(_ p: (Int) -> String) -> String {
        """
        SELECT r.serial, coalesce(u.tag, 0) FROM pass_registration r
        LEFT JOIN pass_update u ON u.pass_type_id = r.pass_type_id AND u.serial = r.serial
        WHERE r.device_id = \(p(1)) AND r.pass_type_id = \(p(2)) AND r.unregistered_at IS NULL
        ORDER BY r.serial
        """
    }

    /// A pass's latest change: parameters pass type, serial.
    package static func state(_ p: (Int) -> String) -> String {
        """
        SELECT customer_id, tag, updated_at, outbox_id, header, body FROM pass_update
        WHERE pass_type_id = \(p(1)) AND serial = \(p(2))
        """
    }

    /// Records a change and moves the tag to `nextTag`: parameters pass type, serial, customer, when, outbox id,
    /// header, body (the last three null for a change of stamps, which keeps the message).
    package static func update(_ p: (Int) -> String, nextTag: String) -> String {
        """
        INSERT INTO pass_update (pass_type_id, serial, customer_id, tag, updated_at, outbox_id, header, body)
        VALUES (\(p(1)), \(p(2)), \(p(3)), \(nextTag), \(p(4)), \(p(5)), \(p(6)), \(p(7)))
        ON CONFLICT (pass_type_id, serial) DO UPDATE SET customer_id = excluded.customer_id, tag = excluded.tag,
          updated_at = excluded.updated_at,
          outbox_id = coalesce(excluded.outbox_id, pass_update.outbox_id),
          header = CASE WHEN excluded.outbox_id IS NULL THEN pass_update.header ELSE excluded.header END,
          body = CASE WHEN excluded.outbox_id IS NULL THEN pass_update.body ELSE excluded.body END
        """
    }

    /// The push tokens of a pass's devices: parameters pass type, serial.
    package static func devices(_ p: (Int) -> String) -> String {
        """
        SELECT push_token FROM pass_registration
        WHERE pass_type_id = \(p(1)) AND serial = \(p(2)) AND unregistered_at IS NULL ORDER BY device_id
        """
    }

    /// A customer's registrations: parameter customer.
    package static func ofCustomer(_ p: (Int) -> String) -> String {
        """
        SELECT device_id, pass_type_id, serial, customer_id, push_token, registered_at, unregistered_at
        FROM pass_registration WHERE customer_id = \(p(1))
        ORDER BY coalesce(unregistered_at, registered_at) DESC, device_id
        """
    }
}
