#!/usr/bin/env bash
# Builds ios/DashQRSyncFFI.xcframework (device + simulator slices, plus macOS for `swift test`)
# and copies the generated Swift API into Sources/. Run on macOS with Xcode:
#   ios/scripts/build-xcframework.sh [--simnet]     (--simnet: include the simulated network, for tests)
set -euo pipefail
cd "$(dirname "$0")/../.."
features=""
if [ "${1:-}" = "--simnet" ]; then features="--features simnet"; fi
targets=(aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios aarch64-apple-darwin x86_64-apple-darwin)
for t in "${targets[@]}"; do
  rustup target add "$t" >/dev/null
  cargo build --release --lib $features --target "$t"
done
out=ios/build
rm -rf "$out" ios/DashQRSyncFFI.xcframework
mkdir -p "$out/headers/DashQRSyncFFI" "$out/ios-sim" "$out/macos"
cp bindings/generated/swift/DashQRSyncFFI.h "$out/headers/DashQRSyncFFI/"
# A module map in a module-named subdirectory avoids clashes with other UniFFI frameworks.
sed 's/^module DashQRSyncFFI/module DashQRSyncFFI/' bindings/generated/swift/DashQRSyncFFI.modulemap \
  > "$out/headers/DashQRSyncFFI/module.modulemap"
lipo -create target/aarch64-apple-ios-sim/release/libdash_qrsync.a \
  target/x86_64-apple-ios/release/libdash_qrsync.a -output "$out/ios-sim/libdash_qrsync.a"
lipo -create target/aarch64-apple-darwin/release/libdash_qrsync.a \
  target/x86_64-apple-darwin/release/libdash_qrsync.a -output "$out/macos/libdash_qrsync.a"
xcodebuild -create-xcframework \
  -library target/aarch64-apple-ios/release/libdash_qrsync.a -headers "$out/headers" \
  -library "$out/ios-sim/libdash_qrsync.a" -headers "$out/headers" \
  -library "$out/macos/libdash_qrsync.a" -headers "$out/headers" \
  -output ios/DashQRSyncFFI.xcframework
cp bindings/generated/swift/DashQRSync.swift ios/Sources/DashQRSync/DashQRSync.swift
echo "ios/DashQRSyncFFI.xcframework ready; run: (cd ios && swift test)"
