// swift-tools-version: 6.1
// A package that uses AsyncPatterns as a user's code would: a dependency by path, Swift 6
// language mode (complete concurrency checking), warnings as errors. `make test` builds and
// runs it (`make consumer`).
import PackageDescription

let package = Package(
    name: "Consumer",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Sluice", path: "../..")
    ],
    targets: [
        .executableTarget(
            name: "Consumer",
            dependencies: [.product(name: "AsyncPatterns", package: "Sluice")],
            swiftSettings: [
                .swiftLanguageMode(.v6),
                .enableUpcomingFeature("ExistentialAny"),
                .unsafeFlags(["-warnings-as-errors"]),
            ]
        )
    ]
)
