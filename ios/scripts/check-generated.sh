#!/usr/bin/env bash
# The Swift package compiles ios/Sources/DashQRSync/DashQRSync.swift, a committed copy of the
# generated bindings/generated/swift/DashQRSync.swift (SwiftPM needs it inside the target's
# directory). Fails when the copy differs; --update refreshes it. Runs anywhere (no Swift needed).
#   ios/scripts/check-generated.sh [--update]
set -euo pipefail
cd "$(dirname "$0")/../.."
generated=bindings/generated/swift/DashQRSync.swift
copy=ios/Sources/DashQRSync/DashQRSync.swift
if [ "${1:-}" = "--update" ]; then
  cp "$generated" "$copy"
  echo "$copy refreshed"
  exit 0
fi
if ! cmp -s "$generated" "$copy"; then
  echo "$copy differs from $generated: run ios/scripts/check-generated.sh --update and commit it" >&2
  exit 1
fi
echo "$copy matches $generated"
