import Crypto
import CryptoExtras
public import Foundation
import SwiftASN1
import Testing
import X509
import ZIPFoundation

/// A test certificate chain as Apple's: a root, a WWDR-like intermediate, and a pass type certificate (RSA) it
/// issued; made in the test, never a committed secret.
public struct TestPassCertificates: Sendable {
    public let rootPEM: String
    public let wwdrPEM: String
    /// The pass certificate and its private key, as `certificate_env` holds them.
    public let passPEM: String

    /// A chain made once per test process: an RSA key takes long to make in a debug build, and a test that makes
    /// one holds a thread of the concurrency pool (one per core) that loopback fakes of other tests need.
    public static var shared: TestPassCertificates {
        get throws { try made.get() }
    }
    /// A second chain, for a certificate the first does not trust.
    public static var other: TestPassCertificates {
        get throws { try madeOther.get() }
    }
    private static let made = Result { try TestPassCertificates() }
    private static let madeOther = Result { try TestPassCertificates() }

    public init(passTypeID: String = "pass.com.beanthere.loyalty") throws {
        let start = Date().addingTimeInterval(-3600)
        let end = start.addingTimeInterval(86_400 * 30)
        let rootKey = P256.Signing.PrivateKey()
        let rootName = try DistinguishedName { CommonName("Nudge test root CA") }
        let root = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(rootKey.publicKey), notValidBefore: start,
            notValidAfter: end, issuer: rootName, subject: rootName, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(keyCertSign: true))
            },
            issuerPrivateKey: .init(rootKey))
        let wwdrKey = P256.Signing.PrivateKey()
        let wwdrName = try DistinguishedName {
            CommonName("Nudge test Worldwide Developer Relations CA")
            OrganizationName("Nudge tests")
        }
        let wwdr = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(wwdrKey.publicKey), notValidBefore: start,
            notValidAfter: end, issuer: rootName, subject: wwdrName, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true))
            },
            issuerPrivateKey: .init(rootKey))
        let passKey = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let pass = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(passKey.publicKey), notValidBefore: start,
            notValidAfter: end, issuer: wwdrName,
            subject: try DistinguishedName { CommonName("Pass Type ID: \(passTypeID)") },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
            },
            issuerPrivateKey: .init(wwdrKey))
        rootPEM = try root.serializeAsPEM().pemString
        wwdrPEM = try wwdr.serializeAsPEM().pemString
        passPEM = try pass.serializeAsPEM().pemString + "\n" + passKey.pkcs8PEMRepresentation
    }
}

/// Runs `openssl ARGUMENTS`; nil when there is no openssl (then a CI run fails, another skips with a reason).
public func openssl(_ arguments: [String]) throws -> (status: Int32, output: String)? {
    guard FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl") else {
        reportMissingTool("openssl is missing", skipped: "the pass signature check needs /usr/bin/openssl")
        return nil
    }
    return try runTool("/usr/bin/openssl", arguments)
}


/// The files of a zipped pass (`.pkpass`), by name.
public func passFiles(_ data: Data) throws -> [String: Data] {
    let archive = try Archive(data: data, accessMode: .read)
    var files: [String: Data] = [:]
    for entry in archive {
        var content = Data()
        _ = try archive.extract(entry) { content.append($0) }
        files[entry.path] = content
    }
    return files
}

/// Runs `body` on a thread of its own and waits for it without holding a thread of the concurrency pool: tests that
/// wait for child processes or do slow synchronous work must not starve the loopback servers of other tests, whose
/// handlers run on that pool (a thread per core).
public func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
    }
}
