// swift-tools-version: 6.1
//
// CommuneSync: offline-first sync of Vietnam's commune personnel register.
// Dependencies point one way, from the programs inward to the pure core (SyncCore).
import PackageDescription

let package = Package(
    name: "CommuneSync",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "syncd", targets: ["syncd"]),
        .executable(name: "synchub", targets: ["synchub"]),
        .executable(name: "syncctl", targets: ["syncctl"]),
        .executable(name: "syncbench", targets: ["syncbench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.5.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.0"),
        .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.24.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        // Test-only: parse and validate Sources/HubHTTP/openapi.yaml. External loading (async
        // reference fetching) is not needed and slows the build, so its trait is off.
        .package(url: "https://github.com/mattpolzin/OpenAPIKit.git", from: "6.4.0", traits: []),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        // The reports as an Excel workbook (.xlsx is a ZIP of XML parts).
        .package(url: "https://github.com/weichsel/ZIPFoundation.git", from: "0.9.20"),
    ],
    targets: [
        // Pure and deterministic: causality, the merge, the rules. Standard library only.
        .target(name: "SyncCore"),

        // System libraries with tiny typed shims (variadic C calls are invisible to Swift).
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CGzip", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),

        // The register itself, whatever stores it: its tables, dates, assignment terms, row
        // scope, the rules' verdicts, labels and reports. No storage, no SQL dialect of its own.
        .target(name: "Register", dependencies: ["SyncCore"]),
        // The merge around the core, once for every store: a batch of row states merged
        // (MergeBatch), captured writes folded (WriteFold), the rules across rows run (RuleRun)
        // and what the conflict ledger must record. A store only loads and saves in batches.
        .target(name: "MergeEngine", dependencies: ["SyncCore", "Register"]),
        // A SQLite replica of the register: schema, capture triggers, applying remote changes.
        .target(name: "Replica", dependencies: ["SyncCore", "Register", "MergeEngine", "CSQLite"]),

        // The /v1 wire: message types, compact change groups, gzip.
        .target(name: "SyncProtocol", dependencies: ["SyncCore", "CGzip"]),
        // One sync round over libcurl: push, pull, snapshot, backoff.
        .target(name: "SyncClient", dependencies: ["SyncProtocol", "Replica", "Register", "MergeEngine", "CCurl", "SyncConfig"]),
        // The district hub's logic, whatever stores it and however it is reached: push and
        // serve, credentials and scope, review decisions, reorganisation, duplicates, reports;
        // and the storage seam (HubStorage) the stores implement. No HTTP server, no database
        // driver, no SQLite: it does not depend on them, so it cannot import them.
        .target(
            name: "HubCore",
            dependencies: [
                "SyncCore", "SyncProtocol", "SyncConfig", "Register", "MergeEngine",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // The hub's store on a SQLite file: the district register is a replica (Replica).
        .target(name: "HubSQLite", dependencies: ["HubCore", "Replica", "Register", "MergeEngine", "SyncCore", "SyncProtocol", "SyncConfig"]),
        // The hub's store on PostgreSQL, for several hub processes on one database.
        .target(
            name: "HubPostgres",
            dependencies: [
                "HubCore", "Register", "MergeEngine", "SyncCore", "SyncProtocol",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // The register's reports as an Excel workbook, the format district offices exchange.
        // Registers built from the source articles' figures, as SQL (syncbench fixture, the report tests).
        .target(name: "ArticleRegisters"),
        .target(name: "Workbook", dependencies: ["Register", .product(name: "ZIPFoundation", package: "ZIPFoundation")]),
        // The review desk's pages: what district reviewers read and decide from (HTML).
        .target(name: "ReviewDesk", dependencies: ["HubCore", "Register", "MergeEngine", "SyncCore", "SyncProtocol"]),
        // The hub over HTTP: routes, middleware, TLS, metrics, the desk's routes and sessions.
        .target(
            name: "HubHTTP",
            dependencies: [
                "HubCore", "ReviewDesk", "SyncProtocol", "Register", "MergeEngine", "SyncConfig", "SyncCore", "Workbook",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            exclude: ["openapi.yaml"]),
        // Reading commune.toml and hub.toml.
        .target(name: "SyncConfig", dependencies: ["SyncCore", .product(name: "TOMLKit", package: "TOMLKit"), .product(name: "Logging", package: "swift-log")]),

        .executableTarget(
            name: "syncd",
            dependencies: [
                "Replica", "Register", "MergeEngine", "SyncClient", "SyncConfig", "SyncProtocol",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]),
        .executableTarget(
            name: "synchub",
            dependencies: [
                "Replica", "Register", "MergeEngine", "HubCore", "HubSQLite", "HubPostgres", "HubHTTP", "SyncConfig", "Workbook",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]),
        .executableTarget(
            name: "syncctl",
            dependencies: [
                "Replica", "Register", "MergeEngine", "SyncClient", "SyncConfig", "SyncCore", "SyncProtocol",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .executableTarget(
            name: "syncbench",
            dependencies: [
                "CSQLite", "Replica", "Register", "MergeEngine", "HubCore", "HubSQLite", "HubPostgres", "HubHTTP", "SyncClient", "SyncProtocol",
                "ArticleRegisters",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        .testTarget(
            name: "SyncCoreTests",
            dependencies: [
                "SyncCore", "TestSupport",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]),
        // What the test suites share: temporary files, the sqlite3 shell, processes.
        .target(name: "TestSupport", dependencies: ["Replica", "Register", "MergeEngine", "SyncCore"], path: "Tests/Support"),
        .testTarget(name: "ReplicaTests", dependencies: ["Replica", "Register", "MergeEngine", "SyncCore", "TestSupport"]),
        // The hub in-process: its logic on the storage it runs on, its routes over HTTP.
        .testTarget(
            name: "HubTests",
            dependencies: [
                "HubCore", "HubSQLite", "HubPostgres", "HubHTTP", "ReviewDesk", "Replica", "Register", "MergeEngine", "SyncCore", "SyncProtocol", "TestSupport",
                "Workbook", "ArticleRegisters", "SyncConfig",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ]),
        .testTarget(
            name: "ProtocolTests",
            dependencies: [
                "SyncProtocol", "SyncClient", "Replica", "HubCore", "HubSQLite", "HubPostgres", "HubHTTP", "ReviewDesk", "SyncConfig", "SyncCore",
                "TestSupport",
                .product(name: "OpenAPIKit", package: "OpenAPIKit"),
                .product(name: "Yams", package: "Yams"),
            ]),
        // Hub and communes as separate processes: the executables are built for them.
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "TestSupport", "Replica", "Register", "MergeEngine", "SyncClient", "SyncCore", "SyncProtocol", "syncd", "synchub", "syncctl", "syncbench",
                "ArticleRegisters", "HubCore", "HubSQLite",
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
    ]
)
