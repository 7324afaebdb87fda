// swift-tools-version:5.9
// The DashQRSync Swift package: the UniFFI-generated Swift API (Sources/DashQRSync/DashQRSync.swift,
// a committed copy of bindings/generated/swift/DashQRSync.swift; ios/scripts/check-generated.sh
// fails when they differ) and the concurrency layer (AsyncClient.swift), over the Rust library as
// the binary target DashQRSyncFFI.
//
// DashQRSyncFFI comes from ios/DashQRSyncFFI.xcframework when it exists (development: build it
// with ios/scripts/build-xcframework.sh on a Mac), else from the release zip below
// (releaseURL/releaseChecksum are rewritten by ios/scripts/release-xcframework.sh).
import Foundation
import PackageDescription

// PLACEHOLDERS until the first release: this URL does not exist yet and the checksum is zeros
// (see ios/README.md); a local DashQRSyncFFI.xcframework is used when present.
let releaseURL = "https://github.com/dash-qrsync/dash-qrsync/releases/download/v0.1.0/DashQRSyncFFI.xcframework.zip"
let releaseChecksum = "0000000000000000000000000000000000000000000000000000000000000000"

let localFramework = Context.packageDirectory + "/DashQRSyncFFI.xcframework"
let ffi: Target = FileManager.default.fileExists(atPath: localFramework)
    ? .binaryTarget(name: "DashQRSyncFFI", path: "DashQRSyncFFI.xcframework")
    : .binaryTarget(name: "DashQRSyncFFI", url: releaseURL, checksum: releaseChecksum)

let package = Package(
    name: "DashQRSync",
    platforms: [.iOS(.v15), .macOS(.v12)],
    products: [
        .library(name: "DashQRSync", targets: ["DashQRSync"]),
    ],
    targets: [
        ffi,
        .target(
            name: "DashQRSync",
            dependencies: ["DashQRSyncFFI"],
            path: "Sources/DashQRSync",
            // What the static Rust library needs from the system beyond libSystem
            // (ffi/README.md; build-xcframework.sh compares it with rustc's
            // --print native-static-libs for every Apple target).
            linkerSettings: [.linkedFramework("Security")]
        ),
        .testTarget(
            name: "DashQRSyncTests",
            dependencies: ["DashQRSync"],
            path: "Tests/DashQRSyncTests"
        ),
    ]
)
