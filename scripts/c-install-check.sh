#!/usr/bin/env bash
# CI check of the C install: installs into a temporary prefix (scripts/c-install.sh, with the
# simnet feature so that ffi/examples/sync.c can sync offline), then builds ffi/examples/sync.c
# against that prefix only and runs it: through pkg-config (shared and --static) and through
# CMake find_package(dash_qrsync 0.1 REQUIRED) (shared and static targets). Needs cc,
# pkg-config and cmake. `--debug` installs the debug build (what CI uses: its dependencies are
# already built by the test run, so the check costs seconds instead of a release build).
set -euo pipefail
install_flags=(--features simnet)
[ "${1:-}" = "--debug" ] && install_flags+=(--debug)
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
prefix="$work/prefix"
start=$(date +%s)
bash "$root/scripts/c-install.sh" "$prefix" "${install_flags[@]}"
echo "install: $(( $(date +%s) - start )) s"
ls -l "$prefix/lib" "$prefix/lib/pkgconfig" "$prefix/lib/cmake/dash_qrsync"

fail() { echo "c-install-check: $*" >&2; exit 1; }
needs_so() { readelf -d "$1" | grep -q 'NEEDED.*libdash_qrsync\.so'; }
run() {
  local out
  out="$(env -u LD_LIBRARY_PATH timeout 180 "$1" 2>&1)" || { echo "$out"; fail "$1 failed"; }
  echo "$out" | tail -1
  echo "$out" | grep -q '^synced' || fail "$1 did not sync"
}
readelf -d "$prefix/lib/libdash_qrsync.so" | grep -q 'SONAME.*libdash_qrsync\.so\.0\.1' || fail "no SONAME"

# Exported symbols: the archive only `dqs_*`; the shared library `dqs_*` and the UniFFI
# scaffolding (uniffi_*, ffi_dash_qrsync_*, UNIFFI_META_*) that the Kotlin bindings load.
foreign_a="$(nm -g --defined-only "$prefix/lib/libdash_qrsync.a" 2>/dev/null | awk 'NF==3 {print $3}' \
  | grep -v '^dqs_' || true)"
[ -z "$foreign_a" ] || fail "the archive exports $(echo "$foreign_a" | wc -l) symbols besides dqs_*, e.g. $(echo "$foreign_a" | head -3 | tr '\n' ' ')"
nm -g --defined-only "$prefix/lib/libdash_qrsync.a" | grep -q ' T dqs_client_new$' || fail "the archive lost dqs_client_new"
foreign_so="$(nm -D --defined-only "$prefix/lib/libdash_qrsync.so" | awk 'NF==3 {print $3}' \
  | grep -v -E '^(dqs_|uniffi_|ffi_dash_qrsync_|UNIFFI_META_)' || true)"
[ -z "$foreign_so" ] || fail "the shared library exports $(echo "$foreign_so" | wc -l) foreign symbols, e.g. $(echo "$foreign_so" | head -3 | tr '\n' ' ')"
echo "exports: archive $(nm -g --defined-only "$prefix/lib/libdash_qrsync.a" | grep -c ' dqs_') dqs_* only; shared library dqs_* + UniFFI scaffolding only"

export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
pkg-config --modversion dash_qrsync
src="$root/ffi/examples/sync.c"
# shellcheck disable=SC2046
# As docs/INSTALL.md writes it: no rpath or LD_LIBRARY_PATH of our own (the .pc carries it).
cc -std=c11 -Wall -Werror -DDQS_SIMNET "$src" -o "$work/sync_pc_shared" $(pkg-config --cflags --libs dash_qrsync)
needs_so "$work/sync_pc_shared" || fail "pkg-config shared build does not use the shared library"
# shellcheck disable=SC2046
cc -std=c11 -Wall -Werror -DDQS_SIMNET "$src" -o "$work/sync_pc_static" $(pkg-config --static --cflags --libs dash_qrsync)
needs_so "$work/sync_pc_static" && fail "pkg-config --static build still needs the shared library"
run "$work/sync_pc_shared"
run "$work/sync_pc_static"

# CMake's build tree records the imported library's directory itself (no CMAKE_BUILD_RPATH).
cmake -S "$root/ffi/examples/cmake" -B "$work/cmake" -DCMAKE_PREFIX_PATH="$prefix" -DDQS_SIMNET=ON >/dev/null
cmake --build "$work/cmake" >/dev/null
needs_so "$work/cmake/sync_shared" || fail "CMake shared target does not use the shared library"
needs_so "$work/cmake/sync_static" && fail "CMake static target still needs the shared library"
run "$work/cmake/sync_shared"
run "$work/cmake/sync_static"
# The version file must refuse an incompatible request.
mkdir -p "$work/cmake-too-new"
printf 'cmake_minimum_required(VERSION 3.16)\nproject(t C)\nfind_package(dash_qrsync 0.2 REQUIRED)\n' \
  > "$work/cmake-too-new/CMakeLists.txt"
if cmake -S "$work/cmake-too-new" -B "$work/cmake-too-new/b" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null 2>&1; then
  fail "find_package(dash_qrsync 0.2) accepted version 0.1"
fi
echo "C install check passed: pkg-config (shared, --static) and CMake (shared, static)"
