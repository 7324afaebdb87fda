#!/usr/bin/env bash
# Regenerates the checked-in Swift and Kotlin bindings from the UNSTRIPPED debug library
# (library mode; the project's own uniffi-bindgen pins the same uniffi version as the library).
#   bindings/generate.sh            write into bindings/
#   bindings/generate.sh --check    regenerate into a temp dir and fail on any difference
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet --all-features --lib
cargo build --quiet -p uniffi-bindgen
lib=target/debug/libdash_qrsync.so
[ -f "$lib" ] || lib=target/debug/libdash_qrsync.dylib
out=bindings
if [ "${1:-}" = "--check" ]; then
  out=$(mktemp -d)
fi
for lang in kotlin swift; do
  target/debug/uniffi-bindgen generate "$lib" --language "$lang" --no-format \
    -c bindings/uniffi.toml --out-dir "$out/generated/$lang" >/dev/null
done
# Kotlin: an error's `message` is the library's sentence, not UniFFI's `reason=<sentence>`
# (the one post-processing step; `reason` stays available as a property).
kt="$out/generated/kotlin/org/dash/qrsync/dash_qrsync.kt"
sed -i.bak 's/get() = "reason=\${ `reason` }"/get() = `reason`/' "$kt"
rm -f "$kt.bak"
if grep -q 'reason=\$' "$kt"; then
  echo "generate.sh: a Kotlin error message still has the reason= prefix" >&2
  exit 1
fi
if [ "${1:-}" = "--check" ]; then
  if ! diff -r bindings/generated "$out/generated"; then
    echo "bindings/generated is stale: run bindings/generate.sh and commit it" >&2
    exit 1
  fi
  rm -rf "$out"
  echo "bindings are current"
fi
