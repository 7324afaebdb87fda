#!/usr/bin/env bash
# Regenerates include/dash_qrsync.h from src/c_api/ with cbindgen (ffi/cbindgen.toml), by running
# the header test in update mode. Commit the result; tests/c_header.rs fails while it is stale.
set -euo pipefail
cd "$(dirname "$0")/.."
DQS_UPDATE_HEADER=1 cargo test --quiet --test c_header
git --no-pager diff --stat -- include/dash_qrsync.h
