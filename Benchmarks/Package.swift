// swift-tools-version: 6.1
// `make bench`: Sluice against its peers. A package of its own (as swift-nio keeps its
// benchmarks) so the peers' dependencies never enter Sluice's build or `make test`.
import PackageDescription

let package = Package(
    name: "SluiceBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Sluice", path: ".."),
        .package(url: "https://github.com/apple/swift-async-algorithms", from: "1.1.4"),
    ],
    targets: [
        .executableTarget(
            name: "sluice-bench",
            dependencies: [
                .product(name: "AsyncPatterns", package: "Sluice"),
                .product(name: "Scenarios", package: "Sluice"),
                .product(name: "Pipelines", package: "Sluice"),
                .product(name: "Dashboard", package: "Sluice"),
                .product(name: "TUI", package: "Sluice"),
                .product(name: "SluiceAgent", package: "Sluice"),
                .product(name: "SluiceWire", package: "Sluice"),
                .product(name: "PoolDoctor", package: "Sluice"),
                .product(name: "AsyncAlgorithms", package: "swift-async-algorithms"),
                "CCallgrind",
            ],
            swiftSettings: [.swiftLanguageMode(.v6), .enableUpcomingFeature("ExistentialAny")]
        ),
        // The actor index's first build alone, for callgrind and perf (issue #23).
        .executableTarget(
            name: "index-probe",
            dependencies: [.product(name: "AsyncPatterns", package: "Sluice"), "CCallgrind"],
            swiftSettings: [.swiftLanguageMode(.v6), .enableUpcomingFeature("ExistentialAny")]
        ),
        // Callgrind's client requests (valgrind's C macros), to count only a workload's run.
        .target(name: "CCallgrind"),
    ]
)
