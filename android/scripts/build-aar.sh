#!/usr/bin/env bash
# Builds the Rust library for Android with cargo-ndk into android/src/main/jniLibs, then the AAR
# with Gradle. Needs the Android SDK (ANDROID_HOME, or sdk.dir in android/local.properties, with
# platform 34: the Android Gradle plugin builds against it) and the NDK (ANDROID_NDK_HOME).
#   android/scripts/build-aar.sh [--simnet]
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -n "${ANDROID_NDK_HOME:-}" ] || { echo "$0: set ANDROID_NDK_HOME to the Android NDK (cargo-ndk needs it)" >&2; exit 2; }
if [ -z "${ANDROID_HOME:-}${ANDROID_SDK_ROOT:-}" ] && ! grep -qs '^sdk.dir=' android/local.properties; then
  echo "$0: the Android SDK is needed too (ANDROID_HOME, or sdk.dir in android/local.properties)" >&2
  exit 2
fi
# (empty-array expansions below are written for macOS bash 3.2 under set -u)
features=()
if [ "${1:-}" = "--simnet" ]; then features=(--features simnet); fi
command -v cargo-ndk >/dev/null || cargo install cargo-ndk
rustup target add aarch64-linux-android armv7-linux-androideabi x86_64-linux-android >/dev/null
# 16 KB page-size alignment, required for Android 15+ devices.
export RUSTFLAGS="${RUSTFLAGS:-} -C link-arg=-Wl,-z,max-page-size=16384"
cargo ndk -t arm64-v8a -t armeabi-v7a -t x86_64 -o android/src/main/jniLibs \
  build --release --lib ${features[@]+"${features[@]}"}
(cd android && gradle assembleRelease)
echo "AAR: android/build/outputs/aar/"
echo "publish (AAR + sources + javadoc + POM): (cd android && gradle publishReleasePublicationToMavenLocal)"
