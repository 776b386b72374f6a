/// The SQL of the wallet points sync, the same on SQLite and PostgreSQL but for how parameters are written
/// (`placeholder(n)`: `?` or `$n`).
package enum WalletSyncSQL {
    /// The passes whose card differs from `wallet_sync`: parameters 1 and 2 the platform (or null: every pass but
    /// Apple's), 3 the offer when `offer`. A customer's card is the offer's, else the one updated last (ties by offer id).
    package static func due(offer: Bool, placeholder: (Int) -> String) -> String {
        let card =
            offer
            ? "p.offer_id = \(placeholder(3))"
            : """
            p.offer_id = (SELECT q.offer_id FROM progress q WHERE q.customer_id = c.id
                            ORDER BY q.updated_at DESC, q.offer_id LIMIT 1)
            """
        return """
            SELECT c.id, c.wallet_pass_id, coalesce(o.name, o.id), p.stamps
            FROM customer c
            JOIN progress p ON p.customer_id = c.id AND \(card)
            JOIN offer o ON o.id = p.offer_id
            LEFT JOIN wallet_sync s ON s.pass_id = c.wallet_pass_id
            WHERE c.wallet_pass_id IS NOT NULL AND c.wallet_pass_id <> ''
              AND (CAST(\(placeholder(1)) AS TEXT) IS NULL AND coalesce(c.wallet_platform, 'google') <> 'apple'
                   OR c.wallet_platform = \(placeholder(2)))
              AND (s.pass_id IS NULL OR s.stamps <> p.stamps OR s.label <> coalesce(o.name, o.id))
            ORDER BY c.wallet_pass_id
            """
    }

    /// Records one pass's points: parameters pass id, customer id, label, stamps, when.
    package static func record(placeholder: (Int) -> String) -> String {
        """
        INSERT INTO wallet_sync (pass_id, customer_id, label, stamps, synced_at)
        VALUES (\(placeholder(1)), \(placeholder(2)), \(placeholder(3)), \(placeholder(4)), \(placeholder(5)))
        ON CONFLICT (pass_id) DO UPDATE SET customer_id = excluded.customer_id, label = excluded.label,
          stamps = excluded.stamps, synced_at = excluded.synced_at
        """
    }
}
