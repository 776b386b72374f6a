import Foundation
import Logging
import NudgeCore
import NudgeDelivery
import NudgeLanguage
import NudgeProviders
import NudgeStore
import NudgeTestSupport
import Testing

@Suite("Apple Wallet: pass registrations in the store, messages announced to a loopback APNs with the pass certificate")
struct AppleWalletDeliveryTests {
    static let passType = "pass.com.beanthere.loyalty"

    static func customers(_ fixture: DeliveryFixture) async throws {
        try await GoogleWalletTests.importCSV(
            fixture, .customers,
            """
            id,name,signed_up_at,wallet_pass_id,wallet_platform
            ana,Ana,2026-11-01,ana-pass,apple
            ben,Ben,2026-11-01,ben-pass,apple

            """)
    }

    static func registration(_ device: String, _ serial: String, _ customer: String, token: String, at: Date)
        -> PassRegistration
    {
        PassRegistration(
            deviceID: device, passTypeID: passType, serial: serial, customerID: customer, pushToken: token, registeredAt: at)
    }

    @Test("registrations, update tags and messages of passes, kept and erased alike on both stores", arguments: Backend.available)
    func passStore(_ backend: Backend) async throws {
        let fixture = try await DeliveryFixture.make(backend)
        try await Self.customers(fixture)
        let store = fixture.store
        let now = DeliveryFixture.start
        #expect(try await store.customerID(walletPassID: "ana-pass") == "ana")
        #expect(try await store.customerID(walletPassID: "nobody-pass") == nil)

        #expect(try await store.registerPassDevice(Self.registration("d1", "ana-pass", "ana", token: "t1", at: now)))
        // Again, with a new push token: not new, and the token replaced.
        #expect(try await !store.registerPassDevice(Self.registration("d1", "ana-pass", "ana", token: "t2", at: now + 60)))
        #expect(try await store.registerPassDevice(Self.registration("d2", "ana-pass", "ana", token: "t3", at: now + 60)))
        #expect(try await store.registerPassDevice(Self.registration("d1", "ben-pass", "ben", token: "t2", at: now + 60)))
        #expect(try await store.passDevices(passTypeID: Self.passType, serials: ["ana-pass", "ben-pass", "x"]) == [
            "ana-pass": ["t2", "t3"], "ben-pass": ["t2"],
        ])
        #expect(try await store.passDevices(passTypeID: "pass.other", serials: ["ana-pass"]).isEmpty)
        #expect(try await store.registeredPasses(deviceID: "d1", passTypeID: Self.passType).map { "\($0.serial)=\($0.tag)" } == [
            "ana-pass=0", "ben-pass=0",
        ])

        // A message moves the pass's tag once, however often it is recorded; a change of stamps moves it again and
        // keeps the message.
        let message = PassMessage(header: "Two stamps to go", body: "Almost there", outboxID: "msg_1")
        #expect(try await store.passState(passTypeID: Self.passType, serial: "ana-pass") == nil)
        #expect(
            try await store.recordPassUpdate(passTypeID: Self.passType, serial: "ana-pass", customerID: "ana", message: message, at: now + 120)
                == ["t2", "t3"])
        let first = try #require(try await store.passState(passTypeID: Self.passType, serial: "ana-pass"))
        #expect(first.message == message && first.customerID == "ana" && first.updatedAt == now + 120)
        _ = try await store.recordPassUpdate(passTypeID: Self.passType, serial: "ana-pass", customerID: "ana", message: message, at: now + 180)
        #expect(try await store.passState(passTypeID: Self.passType, serial: "ana-pass") == first)
        _ = try await store.recordPassUpdate(passTypeID: Self.passType, serial: "ben-pass", customerID: "ben", message: nil, at: now + 200)
        _ = try await store.recordPassUpdate(passTypeID: Self.passType, serial: "ana-pass", customerID: "ana", message: nil, at: now + 240)
        let second = try #require(try await store.passState(passTypeID: Self.passType, serial: "ana-pass"))
        let ben = try #require(try await store.passState(passTypeID: Self.passType, serial: "ben-pass"))
        #expect(second.tag > ben.tag && ben.tag > first.tag)
        #expect(second.message == message && ben.message == nil && second.updatedAt == now + 240)
        #expect(try await store.registeredPasses(deviceID: "d1", passTypeID: Self.passType).map(\.tag) == [second.tag, ben.tag])

        // Unregistering ends a registration (kept for history); registering again starts it anew.
        #expect(try await store.unregisterPassDevice(deviceID: "d2", passTypeID: Self.passType, serial: "ana-pass", at: now + 300))
        #expect(try await !store.unregisterPassDevice(deviceID: "d2", passTypeID: Self.passType, serial: "ana-pass", at: now + 301))
        #expect(try await store.passDevices(passTypeID: Self.passType, serials: ["ana-pass"]) == ["ana-pass": ["t2"]])
        let history = try await store.passRegistrations(customerID: "ana")
        #expect(history.map(\.deviceID) == ["d2", "d1"])
        #expect(history.first?.unregisteredAt == now + 300 && history.last?.unregisteredAt == nil)
        #expect(history.last?.registeredAt == now && history.last?.pushToken == "t2")
        // APNs no longer knows t2: both its registrations end.
        #expect(try await store.unregisterPassDevices(pushToken: "t2", passTypeID: Self.passType, at: now + 400) == 2)
        #expect(try await store.passDevices(passTypeID: Self.passType, serials: ["ana-pass", "ben-pass"]).isEmpty)
        #expect(try await store.registerPassDevice(Self.registration("d2", "ana-pass", "ana", token: "t4", at: now + 500)))
        #expect(try await store.passRegistrations(customerID: "ana").first { $0.deviceID == "d2" }?.registeredAt == now + 500)

        // Erasure removes the customer's registrations and pass.
        let erased = try await store.erase(customerID: "ana", pseudonym: "p-ana", keyCheck: "k", newKey: nil, at: now + 600)
        #expect(erased.first { $0.table == "pass_registration" }?.rows == 2)
        #expect(erased.first { $0.table == "pass_update" }?.rows == 1)
        #expect(try await store.passRegistrations(customerID: "ana").isEmpty)
        #expect(try await store.passState(passTypeID: Self.passType, serial: "ana-pass") == nil)
        #expect(try await store.passState(passTypeID: Self.passType, serial: "ben-pass") != nil)
    }

    /// The `apple_wallet` adapter of nudge.yaml's settings, pushing to `url` with `certificates`' pass certificate.
    static func adapter(
        _ url: String, caFile: String, certificates: TestPassCertificates, store: any Store, clock: TestClock
    ) throws -> AppleWalletAdapter {
        let settings = [
            "provider": "apple_wallet", "pass_type_id": passType, "team_id": "ABCDE12345", "certificate_env": "PASS_CERT",
            "wwdr_certificate": "wwdr.pem", "template": "member", "auth_secret_env": "PASS_SECRET", "base_url": url,
            "ca_file": caFile, "timeout": "\(Int(loopbackTimeout))s",
        ]
        let context = Adapters.Context(
            channel: .wallet, settings: settings, environment: ["PASS_CERT": certificates.passPEM, "PASS_SECRET": "s"],
            client: { Adapters.makeHTTPClient() }, passes: store)
        return try #require(try Providers.named("apple_wallet")?.makeAdapter(context) as? AppleWalletAdapter)
    }

    static func message(_ id: String, to serial: String, customer: String) -> OutboundMessage {
        var record = DeliveryFixture.message(id, customer: customer, channel: "wallet", body: "Your free coffee is close")
        record.recipient = serial
        record.headingKey = "header"
        record.heading = "Two stamps to go"
        return OutboundMessage(record: record, sentAt: DeliveryFixture.start)
    }

    @Test("a message is recorded on the pass once and pushed as {} to its devices; dead tokens are unregistered, unreachable APNs retried", arguments: Backend.available)
    func delivery(_ backend: Backend) async throws {
        let fixture = try await DeliveryFixture.make(backend)
        try await Self.customers(fixture)
        let store = fixture.store
        let clock = TestClock(DeliveryFixture.start)
        let certificates = try TestPassCertificates.shared
        try await FakePassAPNs.with(passTypeID: Self.passType, trusting: certificates) { apns, url, caFile in
            let wallet = try Self.adapter(url, caFile: caFile, certificates: certificates, store: store, clock: clock)
            // No device holds Ben's pass: nothing to tell, the message fails (the plan suppresses it beforehand).
            await #expect(throws: DeliveryError.self) { try await wallet.deliver(Self.message("m0", to: "ben-pass", customer: "ben")) }
            #expect(apns.received.isEmpty)

            _ = try await store.registerPassDevice(Self.registration("d1", "ana-pass", "ana", token: "aaaa0001", at: clock.now))
            _ = try await store.registerPassDevice(Self.registration("d2", "ana-pass", "ana", token: "dead0002", at: clock.now))
            apns.markDead("dead0002")
            // APNs fails for the live device (the other is dead): the message is retried, and the retry does not
            // change the pass again.
            apns.enqueue(500)
            do {
                _ = try await wallet.deliver(Self.message("m1", to: "ana-pass", customer: "ana"))
                Issue.record("APNs failed: the delivery must too")
            } catch DeliveryError.transient {
            } catch {
                Issue.record("a transient failure was expected, not \(error)")
            }
            let recorded = try #require(try await store.passState(passTypeID: Self.passType, serial: "ana-pass"))
            #expect(recorded.message?.outboxID == "m1" && recorded.message?.header == "Two stamps to go")
            _ = try await wallet.deliver(Self.message("m1", to: "ana-pass", customer: "ana"))
            #expect(try await store.passState(passTypeID: Self.passType, serial: "ana-pass") == recorded)
            let pushes = apns.received
            #expect(pushes.allSatisfy { $0.topic == Self.passType && $0.payload == "{}" })
            #expect(pushes.map { "\($0.device) \($0.status)" } == ["aaaa0001 500", "dead0002 410", "aaaa0001 200"])
            // The dead token was unregistered on the way.
            #expect(pushes.contains { $0.device == "dead0002" && $0.status == 410 })
            #expect(try await store.passDevices(passTypeID: Self.passType, serials: ["ana-pass"]) == ["ana-pass": ["aaaa0001"]])

            // Every device registered for the pass is told, not only the first to answer.
            _ = try await store.registerPassDevice(Self.registration("d3", "ana-pass", "ana", token: "cccc0003", at: clock.now))
            let before = apns.received.count
            _ = try await wallet.deliver(Self.message("m1b", to: "ana-pass", customer: "ana"))
            #expect(apns.received.dropFirst(before).map { "\($0.device) \($0.status)" } == ["aaaa0001 200", "cccc0003 200"])
            _ = try await store.unregisterPassDevice(deviceID: "d3", passTypeID: Self.passType, serial: "ana-pass", at: clock.now)

            // Every device gone: the message fails for good.
            apns.markDead("aaaa0001")
            do {
                _ = try await wallet.deliver(Self.message("m2", to: "ana-pass", customer: "ana"))
                Issue.record("every device is gone: the delivery must fail")
            } catch DeliveryError.permanent(let reason) {
                #expect(reason.contains("no longer knows any device"))
            }
            #expect(try await store.passDevices(passTypeID: Self.passType, serials: ["ana-pass"]).isEmpty)
        }
    }

    @Test("APNs refuses a client without a certificate of the pass chain: nothing reaches it", arguments: [Backend.sqlite])
    func untrustedCertificate(_ backend: Backend) async throws {
        let fixture = try await DeliveryFixture.make(backend)
        try await Self.customers(fixture)
        let clock = TestClock(DeliveryFixture.start)
        let trusted = try TestPassCertificates.shared
        let other = try TestPassCertificates.other
        try await FakePassAPNs.with(passTypeID: Self.passType, trusting: trusted) { apns, url, caFile in
            _ = try await fixture.store.registerPassDevice(Self.registration("d1", "ana-pass", "ana", token: "aaaa0001", at: clock.now))
            let wallet = try Self.adapter(url, caFile: caFile, certificates: other, store: fixture.store, clock: clock)
            await #expect(throws: DeliveryError.self) { try await wallet.deliver(Self.message("m1", to: "ana-pass", customer: "ana")) }
            #expect(apns.received.isEmpty)
        }
    }

    @Test("after a run, the Apple passes whose stamps changed get a new tag and a push; unchanged ones nothing", arguments: Backend.available)
    func stampsAnnounced(_ backend: Backend) async throws {
        let fixture = try await DeliveryFixture.make(backend)
        try await Self.customers(fixture)
        try await GoogleWalletTests.importCSV(fixture, .offers, "id,name,stamps_required\ncoffee,Coffee card,10\n")
        try await GoogleWalletTests.importCSV(
            fixture, .progress, "customer_id,offer_id,stamps,updated_at\nana,coffee,7,2026-11-20\nben,coffee,2,2026-11-20\n")
        let store = fixture.store
        let clock = TestClock(DeliveryFixture.start)
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let certificates = try TestPassCertificates.shared
        try await FakePassAPNs.with(passTypeID: Self.passType, trusting: certificates) { apns, url, caFile in
            _ = try await store.registerPassDevice(Self.registration("d1", "ana-pass", "ana", token: "aaaa0001", at: clock.now))
            let wallet = try Self.adapter(url, caFile: caFile, certificates: certificates, store: store, clock: clock)
            var report = try await wallet.afterRun(store: store, now: clock.now, logger: logger)
            // Both passes are brought up to date; only Ana's has a device to tell.
            #expect((report.updated, report.failed) == (2, 0))
            #expect(apns.received.map(\.device) == ["aaaa0001"])
            let tag = try #require(try await store.passState(passTypeID: Self.passType, serial: "ana-pass")?.tag)
            report = try await wallet.afterRun(store: store, now: clock.now, logger: logger)
            #expect((report.updated, report.failed) == (0, 0))
            #expect(apns.received.count == 1)
            try await GoogleWalletTests.importCSV(fixture, .progress, "customer_id,offer_id,stamps,updated_at\nana,coffee,8,2026-11-24\n")
            apns.enqueue(500)
            report = try await wallet.afterRun(store: store, now: clock.now, logger: logger)
            #expect((report.updated, report.failed) == (0, 1), "APNs failed: tried again next run")
            report = try await wallet.afterRun(store: store, now: clock.now, logger: logger)
            #expect((report.updated, report.failed) == (1, 0))
            #expect(try #require(try await store.passState(passTypeID: Self.passType, serial: "ana-pass")?.tag) > tag)
            #expect(apns.received.map(\.status) == [200, 500, 200])
        }
    }
}
