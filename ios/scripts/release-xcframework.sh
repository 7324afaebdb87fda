#!/usr/bin/env bash
# Zips ios/DashQRSyncFFI.xcframework (built by build-xcframework.sh WITHOUT --simnet) for a
# release and points Package.swift's binary target at it:
#   ios/scripts/release-xcframework.sh <download-url-of-the-zip>
# Writes ios/build/DashQRSyncFFI.xcframework.zip and rewrites releaseURL/releaseChecksum in
# ios/Package.swift (and in ./Package.swift when the repository has a root manifest). Upload the
# zip to that URL and commit the manifest(s). Needs macOS (ditto; swift for the checksum).
set -euo pipefail
cd "$(dirname "$0")/../.."
url=${1:?usage: ios/scripts/release-xcframework.sh <download-url-of-the-zip>}
[ -d ios/DashQRSyncFFI.xcframework ] || { echo "build it first: ios/scripts/build-xcframework.sh" >&2; exit 1; }
zip=ios/build/DashQRSyncFFI.xcframework.zip
mkdir -p ios/build
rm -f "$zip"
ditto -c -k --sequesterRsrc --keepParent ios/DashQRSyncFFI.xcframework "$zip"
sum=$(swift package compute-checksum "$zip")
for manifest in ios/Package.swift Package.swift; do
  [ -f "$manifest" ] || continue
  tmp=$(mktemp)
  sed -e "s|^let releaseURL = \".*\"|let releaseURL = \"$url\"|" \
      -e "s|^let releaseChecksum = \".*\"|let releaseChecksum = \"$sum\"|" "$manifest" >"$tmp"
  # The rewrite must have happened (a pattern that matches nothing would change nothing).
  if ! grep -qF "let releaseURL = \"$url\"" "$tmp" || ! grep -qF "let releaseChecksum = \"$sum\"" "$tmp"; then
    rm -f "$tmp"
    echo "$manifest has no releaseURL/releaseChecksum lines to rewrite" >&2
    exit 1
  fi
  mv "$tmp" "$manifest"
  echo "$manifest -> $url ($sum)"
done
echo "upload $zip to $url, then commit the manifest(s)"
