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
        .library(name: "AsyncPatternsServices", targets: ["AsyncPatternsServices"]),
        .library(name: "SluiceAgent", targets: ["SluiceAgent"]),
        .library(name: "SluiceWire", targets: ["SluiceWire"]),
        .library(name: "PoolDoctor", targets: ["PoolDoctor"]),
        .executable(name: "sluice", targets: ["sluice"]),
        .executable(name: "sluice-indexer", targets: ["FileIndexer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
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
        // CLOCK_MONOTONIC read through the TSC where the kernel reads it so: the timestamp
        // of every event, in C for the counter read and 128-bit arithmetic.
        .target(name: "CMonotonicClock"),
        .target(
            name: "AsyncPatterns",
            dependencies: [
                "CMonotonicClock",
                .product(name: "DequeModule", package: "swift-collections"),
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
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // Patterns as swift-service-lifecycle services (an actor's run loop in a ServiceGroup):
        // a product of its own, so the engine never depends on service-lifecycle.
        .target(
            name: "AsyncPatternsServices",
            dependencies: [
                "AsyncPatterns",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
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
        // The signal handler and the runtime hook of the pool doctor, in C: what runs in a
        // signal handler must be plainly async-signal-safe.
        .target(name: "CPoolDoctor"),
        // Watches the cooperative pool of the process it runs in and names what stalls it.
        .target(name: "PoolDoctor", dependencies: ["AsyncPatterns", "CPoolDoctor"], swiftSettings: strict),
        // The in-process server a program starts to be watched and steered: a product of its
        // own, so programs that do not want it pay nothing.
        .target(
            name: "SluiceAgent",
            dependencies: [
                "AsyncPatterns", "SluiceWire", "PoolDoctor",
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
            name: "Dashboard", dependencies: ["TUI", "AsyncPatterns", "Scenarios", "SluiceWire", "PoolDoctor"],
            swiftSettings: strict),
        .target(name: "Terminal", dependencies: ["CNCurses", "TUI"], swiftSettings: strict),
        .executableTarget(
            name: "sluice",
            dependencies: [
                "AsyncPatterns", "Scenarios", "Pipelines", "TUI", "Dashboard", "Terminal", "SluiceWire", "PoolDoctor",
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
                "SluiceAgent", "SluiceWire", "PoolDoctor", "Patience",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // What crosses the socket: frames, messages, the snapshot layout, hostile input.
        .testTarget(
            name: "SluiceWireTests",
            dependencies: ["SluiceWire", "AsyncPatterns", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: strict
        ),
        // Stalls its own pool on purpose for the doctor's safety tests (Tests/e2e/doctor.sh).
        .executableTarget(
            name: "pool-doctor-probe",
            dependencies: [
                "PoolDoctor", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Tests/PoolDoctorProbe", swiftSettings: strict),
        .testTarget(name: "PoolDoctorTests", dependencies: ["PoolDoctor", "CPoolDoctor", "Patience"], swiftSettings: strict),
        .testTarget(
            name: "AsyncPatternsTests", dependencies: ["AsyncPatterns", "CMonotonicClock", "Patience"], swiftSettings: strict),
        .testTarget(
            name: "AsyncPatternsMetricsTests",
            dependencies: [
                "AsyncPatternsMetrics", "AsyncPatternsServices", "Patience",
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // What tests that run scenarios share: a run on threads of its own, stopped at the end.
        .target(name: "TestSupport", dependencies: ["AsyncPatterns", "Scenarios"], path: "Tests/TestSupport", swiftSettings: strict),
        // The one real-time wait every test uses, with the suite's one limit.
        .target(name: "Patience", path: "Tests/Patience", swiftSettings: strict),
        .testTarget(name: "ScenariosTests", dependencies: ["Scenarios", "TestSupport", "Patience"], swiftSettings: strict),
        // The command line's own parsers (`@testable import sluice`).
        .testTarget(name: "SluiceCommandTests", dependencies: ["sluice", "Scenarios"], swiftSettings: strict),
        .testTarget(name: "PipelinesTests", dependencies: ["Pipelines", "Scenarios", "AsyncPatterns", "Patience"], swiftSettings: strict),
        .testTarget(name: "TUITests", dependencies: ["TUI"], swiftSettings: strict),
        .testTarget(
            name: "DashboardTests", dependencies: ["Dashboard", "TUI", "TestSupport", "SluiceAgent", "Patience"], swiftSettings: strict),
        .testTarget(name: "TerminalTests", dependencies: ["Terminal", "TUI"], swiftSettings: strict),
    ]
)
