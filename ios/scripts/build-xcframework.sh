#!/usr/bin/env bash
# Builds ios/DashQRSyncFFI.xcframework (iOS device, iOS simulator arm64 + x86_64, macOS arm64 +
# x86_64 for `swift test`) from the Rust library, and refreshes the committed copy of the
# generated Swift API in ios/Sources/DashQRSync/. Needs macOS with Xcode.
#   ios/scripts/build-xcframework.sh [--simnet]   (--simnet: include the simulated network, for tests)
set -euo pipefail
cd "$(dirname "$0")/../.."
# (empty-array expansions below are written for macOS bash 3.2 under set -u)
features=()
if [ "${1:-}" = "--simnet" ]; then features=(--features simnet); fi
targets=(aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios aarch64-apple-darwin x86_64-apple-darwin)
for t in "${targets[@]}"; do
  rustup target add "$t" >/dev/null
  cargo build --release --lib ${features[@]+"${features[@]}"} --target "$t"
done

# Every system framework the static library needs must be in Package.swift's linkerSettings.
for t in "${targets[@]}"; do
  libs=$(cargo rustc --release --lib ${features[@]+"${features[@]}"} --target "$t" --crate-type staticlib \
    -- --print native-static-libs 2>&1 | sed -n 's/.*native-static-libs: //p' | tail -n 1)
  echo "$t native-static-libs: $libs"
  read -r -a words <<<"$libs"
  for ((i = 0; i + 1 < ${#words[@]}; i++)); do
    if [ "${words[$i]}" = "-framework" ]; then
      fw=${words[$((i + 1))]}
      if ! grep -q "linkedFramework(\"$fw\")" ios/Package.swift; then
        echo "ios/Package.swift lacks .linkedFramework(\"$fw\") needed by $t" >&2
        exit 1
      fi
    fi
  done
done

out=ios/build
rm -rf "$out" ios/DashQRSyncFFI.xcframework
mkdir -p "$out/headers/DashQRSyncFFI" "$out/ios-sim" "$out/macos"
cp bindings/generated/swift/DashQRSyncFFI.h "$out/headers/DashQRSyncFFI/"
# Xcode finds a framework's module map only under the name module.modulemap; the module-named
# subdirectory keeps it from clashing with other UniFFI frameworks' maps.
cp bindings/generated/swift/DashQRSyncFFI.modulemap "$out/headers/DashQRSyncFFI/module.modulemap"
lipo -create target/aarch64-apple-ios-sim/release/libdash_qrsync.a \
  target/x86_64-apple-ios/release/libdash_qrsync.a -output "$out/ios-sim/libdash_qrsync.a"
lipo -create target/aarch64-apple-darwin/release/libdash_qrsync.a \
  target/x86_64-apple-darwin/release/libdash_qrsync.a -output "$out/macos/libdash_qrsync.a"
xcodebuild -create-xcframework \
  -library target/aarch64-apple-ios/release/libdash_qrsync.a -headers "$out/headers" \
  -library "$out/ios-sim/libdash_qrsync.a" -headers "$out/headers" \
  -library "$out/macos/libdash_qrsync.a" -headers "$out/headers" \
  -output ios/DashQRSyncFFI.xcframework
bash ios/scripts/check-generated.sh --update
echo "ios/DashQRSyncFFI.xcframework ready; run: (cd ios && swift test)"
