// swift-tools-version: 6.1
// A small HTTP server that runs patterns and serves their numbers at /metrics through
// swift-prometheus, for a real Prometheus to scrape (`make metrics-server`, and the test
// Tests/e2e/prometheus.sh). A package of its own: Sluice's build never pays for
// swift-prometheus or NIOHTTP1.
import PackageDescription

let package = Package(
    name: "MetricsServer",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Sluice", path: "../.."),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        .executableTarget(
            name: "MetricsServer",
            dependencies: [
                .product(name: "AsyncPatterns", package: "Sluice"),
                .product(name: "AsyncPatternsMetrics", package: "Sluice"),
                .product(name: "AsyncPatternsServices", package: "Sluice"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: [
                .swiftLanguageMode(.v6),
                .enableUpcomingFeature("ExistentialAny"),
                .unsafeFlags(["-warnings-as-errors"]),
            ]
        )
    ]
)
