// swift-tools-version: 6.1
import PackageDescription

let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "Sluice",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "AsyncPatterns", targets: ["AsyncPatterns"]),
        .library(name: "Scenarios", targets: ["Scenarios"]),
        .library(name: "Pipelines", targets: ["Pipelines"]),
        .library(name: "TUI", targets: ["TUI"]),
        .library(name: "Dashboard", targets: ["Dashboard"]),
        .library(name: "AsyncPatternsMetrics", targets: ["AsyncPatternsMetrics"]),
        .library(name: "SluiceAgent", targets: ["SluiceAgent"]),
        .library(name: "SluiceWire", targets: ["SluiceWire"]),
        .executable(name: "sluice", targets: ["sluice"]),
        .executable(name: "sluice-indexer", targets: ["FileIndexer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        // `make docs`: the DocC archive of AsyncPatterns (a plugin: nothing of it is linked).
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // No pkgConfig: SwiftPM would warn about (and drop) its -D_XOPEN_SOURCE flags; the
        // shim header defines what they enable and the module map links ncursesw.
        .systemLibrary(name: "CNCurses"),
        .target(
            name: "AsyncPatterns",
            dependencies: [
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            swiftSettings: strict
        ),
        // The swift-metrics bridge: a separate product so the engine itself never depends on
        // swift-metrics; only servers that export metrics pay for it.
        .target(
            name: "AsyncPatternsMetrics",
            dependencies: [
                "AsyncPatterns",
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: strict
        ),
        // What crosses the agent's socket and the plumbing both ends share: frames, messages,
        // the socket directory, the viewer's connection. The dashboard needs only this.
        .target(
            name: "SluiceWire",
            dependencies: [
                "AsyncPatterns",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // The in-process server a program starts to be watched and steered: a product of its
        // own, so programs that do not want it pay nothing.
        .target(
            name: "SluiceAgent",
            dependencies: [
                "AsyncPatterns", "SluiceWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .target(name: "Scenarios", dependencies: ["AsyncPatterns"], swiftSettings: strict),
        // Pipeline files: the TOML subset, the file model and its checks, queueing theory,
        // the virtual clock, and the file as a Scenario. The dashboard never names it.
        .target(
            name: "Pipelines",
            dependencies: ["AsyncPatterns", "Scenarios"],
            swiftSettings: strict),
        // The terminal kit: cells, layout, widgets, the Backend protocol. Knows nothing else.
        .target(name: "TUI", swiftSettings: strict),
        .target(
            name: "Dashboard", dependencies: ["TUI", "AsyncPatterns", "Scenarios", "SluiceWire"], swiftSettings: strict),
        .target(name: "Terminal", dependencies: ["CNCurses", "TUI"], swiftSettings: strict),
        .executableTarget(
            name: "sluice",
            dependencies: [
                "AsyncPatterns", "Scenarios", "Pipelines", "TUI", "Dashboard", "Terminal", "SluiceWire",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        // A real program to attach to: walks a tree, hashes files, exposes knobs.
        .executableTarget(
            name: "FileIndexer",
            dependencies: ["AsyncPatterns", "SluiceAgent"],
            path: "Examples/FileIndexer",
            swiftSettings: strict
        ),
        .testTarget(
            name: "SluiceAgentTests",
            dependencies: [
                "SluiceAgent", "SluiceWire",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "AsyncPatternsTests", dependencies: ["AsyncPatterns"], swiftSettings: strict),
        .testTarget(
            name: "AsyncPatternsMetricsTests",
            dependencies: [
                "AsyncPatternsMetrics",
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "ScenariosTests", dependencies: ["Scenarios"], swiftSettings: strict),
        .testTarget(name: "PipelinesTests", dependencies: ["Pipelines", "Scenarios", "AsyncPatterns"], swiftSettings: strict),
        .testTarget(name: "TUITests", dependencies: ["TUI"], swiftSettings: strict),
        .testTarget(name: "DashboardTests", dependencies: ["Dashboard", "TUI"], swiftSettings: strict),
        .testTarget(name: "TerminalTests", dependencies: ["Terminal", "TUI"], swiftSettings: strict),
    ]
)
