#!/usr/bin/env bash
# Line, region and function coverage of the library under the Rust test suite, per file,
# per module and in total.
#
#   bash scripts/coverage.sh            # build instrumented, run the suite, print the figures
#   bash scripts/coverage.sh --report   # only print the figures again from the last run's data
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
run=1
for a in "$@"; do
  case "$a" in
    --html) html=1 ;;
    --report) run=0 ;;
    *) echo "usage: $0 [--html] [--report]" >&2; exit 2 ;;
  esac
done

if ! cargo llvm-cov --version >/dev/null 2>&1; then
  echo "== installing cargo-llvm-cov"
  cargo install cargo-llvm-cov --locked
fi
rustup component add llvm-tools-preview >/dev/null 2>&1 || true

export DASH_QRSYNC_VECTORS="${DASH_QRSYNC_VECTORS:-$(pwd)/../shared/vectors}"
if [ "$run" = 1 ] && [ ! -f "$DASH_QRSYNC_VECTORS/manifest.json" ]; then
  echo "!! WARNING: real-network vectors not found at $DASH_QRSYNC_VECTORS; vector tests will SKIP" >&2
fi

ignore='(^|/)src/simnet/|(^|/)src/bin/|(^|/)fuzz/|(^|/)uniffi-bindgen/|(^|/)tests/|(^|/)benches/'
out=target/llvm-cov
mkdir -p "$out"

# Keep going past a failing test so that the report still covers everything that ran; the
# script's exit status is the suite's.
status=0
if [ "$run" = 1 ]; then
  echo "== running the suite instrumented (cargo llvm-cov --all-features)"
  cargo llvm-cov --all-features --no-report --no-fail-fast || status=$?
fi

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

KINDS = ("lines", "regions", "functions")
data = json.load(open(sys.argv[1]))
root = sys.argv[2].rstrip("/") + "/"
files = []  # (name, {kind: (count, covered)})
for d in data["data"]:
    for f in d["files"]:
        name = f["filename"]
        if name.startswith(root):
            name = name[len(root):]
        s = f["summary"]
        files.append((name, {k: (s[k]["count"], s[k]["covered"]) for k in KINDS}))

def pct(c, n):
    return 100.0 * c / n if n else 100.0

def module(name):
    parts = name.split("/")
    return "src/" + parts[1] + "/" if parts[0] == "src" and len(parts) > 2 else name

def add(into, counts):
    for k in KINDS:
        n, c = counts[k]
        into[k][0] += n
        into[k][1] += c

def row(label, t):
    cells = "".join(f" {t[k][1]:>6} / {t[k][0]:<6} {pct(t[k][1], t[k][0]):5.1f}" for k in KINDS)
    print(f"  {label:<34}{cells}")

header = f"  {'(covered / all, %)':<34}" + "".join(f" {k:^22}" for k in KINDS)
modules = defaultdict(lambda: {k: [0, 0] for k in KINDS})
total = {k: [0, 0] for k in KINDS}
no_bindings = {k: [0, 0] for k in KINDS}
for name, counts in files:
    add(modules[module(name)], counts)
    add(total, counts)
    if not name.startswith("src/bindings/"):
        add(no_bindings, counts)

print("\nper file:")
print(header)
for name, counts in sorted(files):
    row(name, counts)
print("\nper module:")
print(header)
for key in sorted(modules):
    row(key, modules[key])
print()
row("TOTAL", total)
row("without src/bindings/ (UniFFI)", no_bindings)
print(
    "\nTOTAL coverage of the library: "
    + ", ".join(f"{k} {total[k][1]} / {total[k][0]} = {pct(total[k][1], total[k][0]):.1f} %" for k in KINDS)
)
PY
if [ "$status" -ne 0 ]; then
  echo "!! the test suite failed (exit $status): the figures cover the tests that ran" >&2
fi
exit "$status"
