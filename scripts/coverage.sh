#!/usr/bin/env bash
# Line coverage of the library under the Rust test suite, per module and in total.
#
#   bash scripts/coverage.sh            # build instrumented, run the suite, print the figures
#   bash scripts/coverage.sh --html     # also write an HTML report (target/llvm-cov/html)
#
# Counted: everything under src/ except the simulator (src/simnet/), the CLI (src/bin/) and the
# fuzz targets (fuzz/, outside the workspace's default members anyway); the project's
# uniffi-bindgen tool, tests/ and benches/ are not library code either. The UniFFI layer
# (src/bindings/) counts: tests/uniffi_surface.rs reaches it from Rust.
#
# Everything is rebuilt instrumented in cargo-llvm-cov's own target directory
# (target/llvm-cov-target), so the normal build is not disturbed. Expect a long first run.
# The real-network vectors are read from $DASH_QRSYNC_VECTORS (default ../shared/vectors);
# without them the vector tests skip and the figure drops.
set -euo pipefail
cd "$(dirname "$0")/.."

html=0
for a in "$@"; do
  case "$a" in
    --html) html=1 ;;
    *) echo "usage: $0 [--html]" >&2; exit 2 ;;
  esac
done

if ! cargo llvm-cov --version >/dev/null 2>&1; then
  echo "== installing cargo-llvm-cov"
  cargo install cargo-llvm-cov --locked
fi
rustup component add llvm-tools-preview >/dev/null 2>&1 || true

export DASH_QRSYNC_VECTORS="${DASH_QRSYNC_VECTORS:-$(pwd)/../shared/vectors}"
if [ ! -f "$DASH_QRSYNC_VECTORS/manifest.json" ]; then
  echo "!! WARNING: real-network vectors not found at $DASH_QRSYNC_VECTORS; vector tests will SKIP" >&2
fi

ignore='(^|/)src/simnet/|(^|/)src/bin/|(^|/)fuzz/|(^|/)uniffi-bindgen/|(^|/)tests/|(^|/)benches/'
out=target/llvm-cov
mkdir -p "$out"

echo "== running the suite instrumented (cargo llvm-cov --all-features)"
# Keep going past a failing test so that the report still covers everything that ran; the
# script's exit status is the suite's.
status=0
cargo llvm-cov --all-features --no-report --no-fail-fast || status=$?

echo "== report"
cargo llvm-cov report --ignore-filename-regex "$ignore" --json --summary-only \
  --output-path "$out/summary.json"
if [ "$html" = 1 ]; then
  cargo llvm-cov report --ignore-filename-regex "$ignore" --html --output-dir "$out"
  echo "HTML report: $out/html/index.html"
fi

python3 - "$out/summary.json" "$(pwd)" <<'PY'
import json, sys
from collections import defaultdict

data = json.load(open(sys.argv[1]))
root = sys.argv[2].rstrip("/") + "/"
files = []
for d in data["data"]:
    for f in d["files"]:
        name = f["filename"]
        if name.startswith(root):
            name = name[len(root):]
        lines = f["summary"]["lines"]
        files.append((name, lines["count"], lines["covered"]))

def pct(c, n):
    return 100.0 * c / n if n else 100.0

modules = defaultdict(lambda: [0, 0])
for name, n, c in files:
    parts = name.split("/")
    if parts[0] == "src" and len(parts) > 2:
        key = "src/" + parts[1] + "/"
    else:
        key = name
    modules[key][0] += n
    modules[key][1] += c

print("\nper file (lines covered / lines, %):")
for name, n, c in sorted(files):
    print(f"  {name:<36} {c:>6} / {n:<6} {pct(c, n):6.1f}")
print("\nper module:")
for key in sorted(modules):
    n, c = modules[key]
    print(f"  {key:<36} {c:>6} / {n:<6} {pct(c, n):6.1f}")
tn = sum(n for _, n, _ in files)
tc = sum(c for _, _, c in files)
nb = [(n, c) for name, n, c in files if not name.startswith("src/bindings/")]
print(f"\nTOTAL line coverage of the library: {tc} / {tn} = {pct(tc, tn):.1f} %")
print(
    "  without the UniFFI layer (src/bindings/): "
    f"{pct(sum(c for _, c in nb), sum(n for n, _ in nb)):.1f} %"
)
PY
if [ "$status" -ne 0 ]; then
  echo "!! the test suite failed (exit $status): the figures cover the tests that ran" >&2
fi
exit "$status"
