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
# Swift: the same for `localizedDescription`: UniFFI renders `QrSyncError.InvalidConfig(reason:
# "…")`; every case of our error enums carries one `reason`, which becomes the description.
python3 - "$out/generated/swift/DashQRSync.swift" <<'PY'
import re, sys
path = sys.argv[1]
src = open(path).read()
out, pos = [], 0
for m in re.finditer(r"enum (\w+): Swift\.Error, Equatable, Hashable, Foundation\.LocalizedError \{", src):
    body_end = src.index("\n}\n", m.end())
    body = src[m.end():body_end]
    cases = re.findall(r"case (\w+)\(\s*(?:/\*\*.*?\*/)?\s*reason: String\s*\)", body, re.S)
    all_cases = re.findall(r"^\s*case (\w+)", body, re.M)
    old = "    public var errorDescription: String? {\n        String(reflecting: self)\n    }"
    if not cases or sorted(cases) != sorted(all_cases) or old not in body:
        sys.exit(f"generate.sh: cannot give {m.group(1)} the library's sentence as its description")
    pats = ", ".join(f"let .{c}(reason)" for c in cases)
    new = ("    public var errorDescription: String? {\n        switch self {\n"
           f"        case {pats}:\n            return reason\n        }}\n    }}")
    out.append(src[pos:m.end()] + body.replace(old, new))
    pos = body_end
out.append(src[pos:])
open(path, "w").write("".join(out))
PY
if grep -n 'String(reflecting: self)' "$out/generated/swift/DashQRSync.swift" | grep -v Uniffi; then
  echo "generate.sh: a Swift error description is still UniFFI's rendering" >&2
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
