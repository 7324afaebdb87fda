#!/usr/bin/env bash
# Cross-compiles the library and a subset of its Rust tests for aarch64 Linux (the phones' CPU
# architecture) and runs them under qemu-user: the unit tests (wire, chain, BLS, engine, store)
# and full simnet syncs over loopback (real BLS signing and verification on aarch64). Needs Debian's gcc-aarch64-linux-gnu,
# libc6-dev-arm64-cross, clang and qemu-user (.ci/run installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
target=aarch64-unknown-linux-gnu
rustup target list --installed | grep -qx "$target" || rustup target add "$target"
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -L /usr/aarch64-linux-gnu"
export CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc
export AR_aarch64_unknown_linux_gnu=aarch64-linux-gnu-ar
# The C code of the build scripts (blst) is compiled against the cross sysroot.
export CFLAGS_aarch64_unknown_linux_gnu="--sysroot=/usr/aarch64-linux-gnu"
# The vectors live on the host; the emulated tests read them through the same path.
export DASH_QRSYNC_VECTORS="${DASH_QRSYNC_VECTORS:-$(cd .. && pwd)/shared/vectors}"
cargo test --target "$target" --features simnet --lib
# (tests/bls_vectors.rs — 3,000+ real signatures — passes too but takes minutes under
# emulation; run it by hand: `cargo test --target aarch64-unknown-linux-gnu --test bls_vectors`
# with the variables above.)
cargo test --target "$target" --features simnet --test sync_simnet -- \
  fresh_sync_validates_every_active_quorum_once_then_follows_the_tip \
  wallet_profile_validates_only_chainlock_and_instantsend_quorums_in_one_round_trip
echo "aarch64 tests passed under qemu"

# Android: type-check the library for aarch64-linux-android, including the logcat logging that
# only exists there. Without the NDK there is no Bionic sysroot, so the C code of the build
# script (blst) is compiled with clang against the glibc cross headers instead; `check` never
# links those objects. The real Android build (cargo-ndk) is android/scripts/build-aar.sh.
android=aarch64-linux-android
rustup target list --installed | grep -qx "$android" || rustup target add "$android"
CC_aarch64_linux_android=clang \
  CFLAGS_aarch64_linux_android="--target=aarch64-linux-gnu --sysroot=/usr/aarch64-linux-gnu" \
  AR_aarch64_linux_android=aarch64-linux-gnu-ar \
  cargo check --target "$android" --lib
echo "aarch64-linux-android type-checks"
