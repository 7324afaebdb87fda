#!/usr/bin/env bash
# The quick starts in docs/BINDINGS.md must be the code the tests run: compares the fenced block
# after `<!-- quick-start:kotlin -->` (and `:swift`) with the lines between the
# `// quick-start:begin` and `// quick-start:end` markers of the test that runs it,
# ignoring indentation. Runs anywhere (no Kotlin or Swift needed).
#   bindings/kotlin/check-quickstart.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
doc=docs/BINDINGS.md

# The fenced block after the marker line, leading whitespace removed.
doc_block() {
  awk -v marker="<!-- quick-start:$1 -->" '
    $0 == marker { found = 1; next }
    found == 1 && /^```/ { found = 2; next }
    found == 2 && /^```/ { exit }
    found == 2 { print }
  ' "$doc" | sed 's/^[[:space:]]*//'
}

# The lines between the markers of a test file, leading whitespace removed.
test_block() {
  awk '
    /\/\/ quick-start:begin/ { on = 1; next }
    /\/\/ quick-start:end/ { on = 0 }
    on { print }
  ' "$1" | sed 's/^[[:space:]]*//'
}

status=0
check() {
  local lang=$1 test=$2 a b
  a=$(doc_block "$lang")
  b=$(test_block "$test")
  if [ -z "$a" ] || [ -z "$b" ]; then
    echo "$lang quick start: marker missing in $doc or $test" >&2
    status=1
  elif [ "$a" != "$b" ]; then
    echo "$lang quick start in $doc differs from $test:" >&2
    diff <(printf '%s\n' "$a") <(printf '%s\n' "$b") >&2 || true
    status=1
  else
    echo "$lang quick start in $doc is the code $test runs"
  fi
}
check kotlin bindings/kotlin/src/test/kotlin/org/dash/qrsync/QuickStartTest.kt
check swift ios/Tests/DashQRSyncTests/SyncTests.swift
exit $status
