#!/usr/bin/env sh
# Runs every fuzz target for a bounded time (default 60 s each; `fuzz/run.sh 600` for 10 min).
# Needs a nightly toolchain. Uses `cargo fuzz` when installed, otherwise builds the targets
# with the same libFuzzer instrumentation flags (sancov, no sanitizer) and runs them directly.
# Exits non-zero on the first crash; crash inputs land in fuzz/artifacts/<target>/.
set -eu
secs="${1:-60}"
cd "$(dirname "$0")"
targets="frame_decoder message_decode mnlistdiff qrinfo state_blob storage_blobs decode_and_feed"
if ! rustup toolchain list 2>/dev/null | grep -q nightly; then
  echo "fuzz: no nightly toolchain; skipped"
  exit 0
fi
if cargo +nightly fuzz --version >/dev/null 2>&1; then
  for t in $targets; do
    echo "== fuzz $t for ${secs}s (cargo fuzz)"
    cargo +nightly fuzz run "$t" -- -max_total_time="$secs" -rss_limit_mb=2048
  done
  exit 0
fi
host="$(rustc +nightly -vV | sed -n 's/^host: //p')"
RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks" \
  cargo +nightly build --release --bins --target "$host"
for t in $targets; do
  echo "== fuzz $t for ${secs}s"
  mkdir -p "corpus/$t" "artifacts/$t"
  "target/$host/release/$t" -max_total_time="$secs" -rss_limit_mb=2048 \
    -artifact_prefix="artifacts/$t/" "corpus/$t"
done
