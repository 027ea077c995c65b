// swift-tools-version:6.2
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "airlock",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "airlock", targets: ["airlock"])
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CCurl", pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(
            name: "CArchive", pkgConfig: "libarchive",
            providers: [.apt(["libarchive-dev"])]),
        .systemLibrary(
            name: "CZlib", pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]),
        .target(name: "CFileSync"),
        .target(name: "CChildProcess"),
        .target(
            name: "AirlockCore",
            dependencies: [
                "CZlib",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),
        .target(
            name: "AirlockStore",
            dependencies: ["AirlockCore", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings),
        .target(
            name: "AirlockCatalog",
            dependencies: [
                "AirlockCore", "AirlockStore", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),
        .target(
            name: "AirlockUpstream",
            dependencies: [
                "AirlockCore", "CCurl", "CArchive", "CFileSync",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),
        .target(
            name: "AirlockPolicy",
            dependencies: ["AirlockCore", .product(name: "TOMLKit", package: "TOMLKit")],
            resources: [.copy("Resources/license-categories.json"), .copy("Resources/default-policy.toml"), .copy("Resources/python-stdlib.txt")],
            swiftSettings: swiftSettings),
        .target(
            name: "AirlockProvenance",
            dependencies: [
                "AirlockCore", .product(name: "Crypto", package: "swift-crypto"), .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            resources: [.copy("Resources/sigstore-trusted-root.json"), .copy("Resources/SOURCE.md")],
            swiftSettings: swiftSettings),
        .target(
            name: "AirlockConfig",
            dependencies: ["AirlockCore", "AirlockPolicy", "AirlockPublish"],
            swiftSettings: swiftSettings),
        .target(
            name: "AirlockLockfile",
            dependencies: ["AirlockCore", .product(name: "TOMLKit", package: "TOMLKit")],
            swiftSettings: swiftSettings),
        .target(
            name: "AirlockPublish",
            dependencies: ["AirlockCore", "AirlockStore", "AirlockCatalog", "AirlockLockfile"],
            swiftSettings: swiftSettings),
        .target(
            name: "AirlockSync",
            dependencies: [
                "AirlockCore", "AirlockStore", "AirlockCatalog", "AirlockUpstream", "AirlockPolicy", "AirlockPublish", "AirlockProvenance",
                "CChildProcess",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),
        .target(
            name: "AirlockServer",
            dependencies: [
                "AirlockCore", "AirlockStore", "AirlockCatalog", "AirlockPolicy", "AirlockPublish",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            resources: [.copy("Resources/openapi.json"), .copy("Resources/templates")],
            swiftSettings: swiftSettings),
        .target(
            name: "AirlockTransfer",
            dependencies: [
                "AirlockCore", "AirlockStore", "AirlockCatalog", "AirlockPublish", "CArchive", .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings),
        .target(
            name: "AirlockDaemon",
            dependencies: [
                "AirlockCore", "AirlockConfig", "AirlockCatalog", "AirlockPolicy", "AirlockPublish", "AirlockSync",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings),
        .executableTarget(
            name: "airlock",
            dependencies: [
                "AirlockCore", "AirlockStore", "AirlockCatalog", "AirlockUpstream", "AirlockPolicy",
                "AirlockPublish", "AirlockSync", "AirlockServer", "AirlockConfig", "AirlockDaemon", "AirlockTransfer", "AirlockLockfile",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),
        .executableTarget(
            name: "PolicyBenchmark",
            dependencies: ["AirlockCore", "AirlockPolicy"],
            path: "bench/PolicyBenchmark",
            swiftSettings: swiftSettings),
        .executableTarget(
            name: "AirlockFuzz",
            dependencies: [
                "AirlockCore", "AirlockPolicy", "AirlockUpstream", "AirlockServer", "AirlockProvenance",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "fuzz/AirlockFuzz",
            swiftSettings: swiftSettings),
        .target(
            name: "AirlockTestSupport",
            dependencies: [
                "AirlockCore", "AirlockUpstream", "CChildProcess", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"), .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "AirlockTests",
            dependencies: [
                "AirlockCore", "AirlockStore", "AirlockCatalog", "AirlockUpstream", "AirlockPolicy",
                "AirlockPublish", "AirlockSync", "AirlockServer", "AirlockConfig", "AirlockDaemon", "AirlockTransfer", "AirlockTestSupport",
                "airlock",
                "AirlockProvenance",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings),
    ]
)
