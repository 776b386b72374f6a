// swift-tools-version: 6.1
import PackageDescription

let upcoming: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "Nudge",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "nudge", targets: ["nudge"]),
        .executable(name: "nudge-bench", targets: ["nudge-bench"]),
        .library(name: "NudgeCore", targets: ["NudgeCore"]),
        .library(name: "NudgeLanguage", targets: ["NudgeLanguage"]),
        .library(name: "NudgeStore", targets: ["NudgeStore"]),
        .library(name: "NudgePostgres", targets: ["NudgePostgres"]),
        .library(name: "NudgeEngine", targets: ["NudgeEngine"]),
        .library(name: "NudgeRender", targets: ["NudgeRender"]),
        .library(name: "NudgeDelivery", targets: ["NudgeDelivery"]),
        .library(name: "NudgeServer", targets: ["NudgeServer"]),
        .library(name: "NudgeProviders", targets: ["NudgeProviders"]),
        .library(name: "NudgeModel", targets: ["NudgeModel"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.8.0"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
    ],
    targets: [
        // The value types every module shares: channel, customer state, outbox message, time, JSON.
        .target(name: "NudgeCore", swiftSettings: upcoming),
        .target(
            name: "NudgeLanguage",
            dependencies: ["NudgeCore", .product(name: "Yams", package: "Yams")],
            swiftSettings: upcoming
        ),
        // One C call Swift cannot make (a variadic function): SQLite's process-wide settings.
        .target(name: "CSQLiteTuning", linkerSettings: [.linkedLibrary("sqlite3")]),
        .target(
            name: "NudgeStore",
            dependencies: [
                "NudgeCore", "NudgeLanguage", "CSQLiteTuning",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: upcoming
        ),
        .target(
            name: "NudgePostgres",
            dependencies: [
                "NudgeCore", "NudgeLanguage", "NudgeStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: upcoming
        ),
        .target(
            name: "NudgeRender",
            dependencies: [
                "NudgeCore", "NudgeLanguage",
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            swiftSettings: upcoming
        ),
        // The customer model: BG/NBD and Gamma-Gamma, fitted by maximum likelihood (pure numerics, no I/O).
        .target(
            name: "NudgeModel",
            dependencies: [.product(name: "RealModule", package: "swift-numerics")],
            swiftSettings: upcoming
        ),
        .target(
            name: "NudgeEngine",
            dependencies: [
                "NudgeCore", "NudgeLanguage", "NudgeStore", "NudgeRender", "NudgeModel",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: upcoming
        ),
        .target(
            name: "NudgeDelivery",
            dependencies: [
                "NudgeCore", "NudgeLanguage", "NudgeStore", "NudgeEngine",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
            ],
            swiftSettings: upcoming
        ),
        .target(
            name: "NudgeServer",
            dependencies: [
                "NudgeCore", "NudgeLanguage", "NudgeStore", "NudgeEngine", "NudgeDelivery",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: upcoming
        ),
        // One folder per provider: its settings and checks, its adapter, its webhook routes; and the registry.
        .target(
            name: "NudgeProviders",
            dependencies: [
                "NudgeCore", "NudgeLanguage", "NudgeStore", "NudgeEngine", "NudgeDelivery", "NudgeServer",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            swiftSettings: upcoming
        ),
        .executableTarget(
            name: "nudge",
            dependencies: [
                "NudgeCore", "NudgeLanguage", "NudgeStore", "NudgePostgres", "NudgeEngine", "NudgeRender", "NudgeDelivery", "NudgeServer",
                "NudgeProviders",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: upcoming
        ),
        .executableTarget(
            name: "nudge-bench",
            dependencies: [
                "NudgeCore", "NudgeLanguage", "NudgeEngine", "NudgeStore", "NudgePostgres",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "GRDB", package: "GRDB.swift"),
                "NudgeTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: upcoming
        ),
        // What the test targets share: a clock, child processes, a loopback HTTP server, a Standard Webhooks receiver,
        // the PostgreSQL server of the tests.
        .target(
            name: "NudgeTestSupport",
            dependencies: [
                "NudgeCore", "NudgeLanguage", "NudgePostgres",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "HummingbirdHTTP2", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            path: "Tests/NudgeTestSupport",
            swiftSettings: upcoming
        ),
        .testTarget(name: "NudgeLanguageTests", dependencies: ["NudgeLanguage", "NudgeProviders"], swiftSettings: upcoming),
        .testTarget(
            name: "NudgeStoreTests",
            dependencies: [
                "NudgeStore", "NudgeCore", "NudgeLanguage", "NudgePostgres", "NudgeTestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "NudgePostgresTests",
            dependencies: [
                "NudgeTestSupport",
                "NudgePostgres", "NudgeDelivery", "NudgeEngine", "NudgeStore", "NudgeCore", "NudgeLanguage", "NudgeProviders",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "NudgeRenderTests",
            dependencies: ["NudgeRender", "NudgeLanguage", .product(name: "Mustache", package: "swift-mustache")],
            swiftSettings: upcoming),
        .testTarget(name: "NudgeModelTests", dependencies: ["NudgeModel"], exclude: ["Fixtures"], swiftSettings: upcoming),
        .testTarget(
            name: "NudgeEngineTests",
            dependencies: [
                "NudgeTestSupport",
                "NudgeEngine", "NudgeStore", "NudgeCore", "NudgeLanguage", "NudgeRender", "NudgeProviders", "NudgePostgres",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            exclude: ["Golden"],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "NudgeDeliveryTests",
            dependencies: [
                "NudgeTestSupport",
                "NudgeDelivery", "NudgeEngine", "NudgeStore", "NudgeCore", "NudgeLanguage", "NudgeProviders", "NudgePostgres",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "HummingbirdHTTP2", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "NudgeServerTests",
            dependencies: [
                "NudgeTestSupport",
                "NudgeServer", "NudgeDelivery", "NudgeEngine", "NudgeStore", "NudgeCore", "NudgeLanguage", "NudgeProviders",
                "NudgePostgres",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "NudgeCommandTests",
            dependencies: [
                "nudge", "NudgeCore", "NudgeLanguage", "NudgeStore", "NudgeTestSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            swiftSettings: upcoming
        ),
    ]
)
