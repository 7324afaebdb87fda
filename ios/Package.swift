// swift-tools-version:5.9
// The DashQRSync Swift package: the UniFFI-generated Swift API over an XCFramework of the Rust
// library. Build the framework first: scripts/build-xcframework.sh (needs macOS + Xcode).
import PackageDescription

let package = Package(
    name: "DashQRSync",
    platforms: [.iOS(.v15), .macOS(.v12)],
    products: [
        .library(name: "DashQRSync", targets: ["DashQRSync"]),
    ],
    targets: [
        .binaryTarget(name: "DashQRSyncFFI", path: "DashQRSyncFFI.xcframework"),
        .target(
            name: "DashQRSync",
            dependencies: ["DashQRSyncFFI"],
            path: "Sources/DashQRSync"
        ),
        .testTarget(
            name: "DashQRSyncTests",
            dependencies: ["DashQRSync"],
            path: "Tests/DashQRSyncTests"
        ),
    ]
)
