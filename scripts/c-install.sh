#!/usr/bin/env bash
# Installs the C library into a prefix, in one command:
#
#   scripts/c-install.sh PREFIX [--features simnet] [--debug]
#
# PREFIX/include/dash_qrsync.h
# PREFIX/lib/libdash_qrsync.a                  only dqs_* exported (one object, other globals local)
# PREFIX/lib/libdash_qrsync.so.X.Y.Z, .so.X.Y (the SONAME; 0.x releases break ABI on minor bumps), .so
# PREFIX/lib/pkgconfig/dash_qrsync.pc          `pkg-config --libs` links the shared library,
# PREFIX/lib/pkgconfig/dash_qrsync-shared.pc   `pkg-config --static --libs` the archive + system libs
# PREFIX/lib/cmake/dash_qrsync/dash_qrsyncConfig.cmake, dash_qrsyncConfigVersion.cmake
#
# Why not cargo-c (`cargo cinstall`): it is the ecosystem's tool, but it is not on a fresh machine
# and compiling it from crates.io costs minutes of CI time each run (see docs/INSTALL.md); its
# pkg-config file also lets `--static` pick the shared library whenever both are installed.
# Linux (GNU ld or lld) only: other systems link through their own packaging (ios/, android/).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
[ $# -ge 1 ] || { echo "usage: $0 PREFIX [--features simnet] [--debug]" >&2; exit 2; }
prefix="$1"; shift
features=(); profile=release; profile_flag=(--release)
while [ $# -gt 0 ]; do
  case "$1" in
    --features) features=(--features "$2"); shift 2 ;;
    --debug) profile=debug; profile_flag=(); shift ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done
[ "$(uname -s)" = Linux ] || { echo "$0: Linux only" >&2; exit 2; }
mkdir -p "$prefix"
prefix="$(cd "$prefix" && pwd)"

version="$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -1)"
major_minor="${version%.*}"
soname="libdash_qrsync.so.$major_minor"

cd "$root"
# One build of the library's three crate types; the SONAME only affects the cdylib's link.
log="$(mktemp)"
cargo rustc -p dash-qrsync --lib "${profile_flag[@]}" "${features[@]}" -- \
  -C "link-arg=-Wl,-soname,$soname" --print native-static-libs 2>&1 | tee "$log" >&2
# The system libraries the archive needs, as rustc reports them (only printed when it relinks).
native="$(sed -n 's/.*native-static-libs: //p' "$log" | tail -1)"
rm -f "$log"
[ -n "$native" ] || native="-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc"
out="$root/target/$profile"
readelf -d "$out/libdash_qrsync.so" | grep -q "SONAME.*\[$soname\]" \
  || { echo "$0: $out/libdash_qrsync.so has no SONAME $soname (stale build?)" >&2; exit 1; }

lib="$prefix/lib"
install -d "$prefix/include" "$lib/pkgconfig" "$lib/cmake/dash_qrsync"
install -m 644 include/dash_qrsync.h "$prefix/include/"
# The archive exports only the C API: its objects (the library, Rust's std, the BLS library's
# C and assembly) are linked into one relocatable object whose globals other than `dqs_*` are
# made local, so an app that links blst (or another Rust staticlib) itself does not clash. The
# shared library needs nothing of the kind: rustc's version script exports only the C API and
# the UniFFI scaffolding the Kotlin bindings load from the same .so.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"${LD:-ld}" -r --whole-archive "$out/libdash_qrsync.a" -o "$work/dash_qrsync.o"
# (.llvmbc/.llvmcmd: embedded bitcode no linker of the archive uses; merged by `ld -r` into a
# section that tools then misread.)
"${OBJCOPY:-objcopy}" -R .llvmbc -R .llvmcmd --wildcard --keep-global-symbol='dqs_*' \
  "$work/dash_qrsync.o"
rm -f "$lib/libdash_qrsync.a"
"${AR:-ar}" rcs "$lib/libdash_qrsync.a" "$work/dash_qrsync.o"
chmod 644 "$lib/libdash_qrsync.a"
install -m 755 "$out/libdash_qrsync.so" "$lib/libdash_qrsync.so.$version"
ln -sf "libdash_qrsync.so.$version" "$lib/$soname"
ln -sf "$soname" "$lib/libdash_qrsync.so"

subst() {
  sed -e "s|@PREFIX@|$prefix|g" -e "s|@VERSION@|$version|g" -e "s|@NATIVE_STATIC_LIBS@|$native|g" "$1"
}
subst ffi/dash_qrsync.pc.in > "$lib/pkgconfig/dash_qrsync.pc"
subst ffi/dash_qrsync-shared.pc.in > "$lib/pkgconfig/dash_qrsync-shared.pc"
subst ffi/cmake/dash_qrsyncConfig.cmake > "$lib/cmake/dash_qrsync/dash_qrsyncConfig.cmake"
subst ffi/cmake/dash_qrsyncConfigVersion.cmake.in > "$lib/cmake/dash_qrsync/dash_qrsyncConfigVersion.cmake"
echo "installed dash-qrsync $version (${features[*]:-no extra features}) into $prefix"
