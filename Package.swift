// swift-tools-version:5.9
// The root manifest that SwiftPM reads when an app adds this repository by URL. It is
// ios/Package.swift with the paths under ios/ and the release xcframework only (development
// builds use ios/Package.swift and a local ios/DashQRSyncFFI.xcframework). releaseURL and
// releaseChecksum are rewritten by ios/scripts/release-xcframework.sh for each release; until
// the first release is published they are placeholders. See ios/README.md and docs/BINDINGS.md.
import PackageDescription

let releaseURL = "https://github.com/dash-qrsync/dash-qrsync/releases/download/v0.1.0/DashQRSyncFFI.xcframework.zip"
let releaseChecksum = "0000000000000000000000000000000000000000000000000000000000000000"

let package = Package(
    name: "DashQRSync",
    platforms: [.iOS(.v15), .macOS(.v12)],
    products: [.library(name: "DashQRSync", targets: ["DashQRSync"])],
    targets: [
        .binaryTarget(name: "DashQRSyncFFI", url: releaseURL, checksum: releaseChecksum),
        .target(
            name: "DashQRSync",
            dependencies: ["DashQRSyncFFI"],
            path: "ios/Sources/DashQRSync",
            // What the static Rust library needs beyond libSystem (ffi/README.md).
            linkerSettings: [.linkedFramework("Security")]
        ),
    ]
)
