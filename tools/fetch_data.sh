#!/bin/sh
# Prepares the MovieLens ml-latest-small files in DEST (default ./data):
# from ../shared/datasets when this checkout has it, otherwise downloaded from
# grouplens.org. Nothing is left half-written: files land in a temporary
# folder first and are moved into place at the end.
set -eu
dest=${1:-data}
url=${MLPZ_DATA_URL:-https://files.grouplens.org/datasets/movielens/ml-latest-small.zip}
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${MLPZ_SHARED:-$root/../shared}/datasets/ml-latest-small

if [ -f "$dest/movies.csv" ] && [ -f "$dest/ratings.csv" ]; then
    echo "data: $dest already has movies.csv and ratings.csv"
    exit 0
fi
mkdir -p "$dest"
tmp=$(mktemp -d "$dest/.fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

if [ -f "$shared/ratings.csv" ]; then
    echo "data: copying ml-latest-small from $shared"
    cp "$shared"/*.csv "$shared/README.txt" "$tmp/"
else
    command -v curl >/dev/null || { echo "data: curl is missing: run make deps" >&2; exit 1; }
    command -v unzip >/dev/null || { echo "data: unzip is missing: run make deps" >&2; exit 1; }
    echo "data: downloading $url"
    curl -fL --retry 3 --connect-timeout 20 -o "$tmp/ml.zip" "$url"
    unzip -q -o "$tmp/ml.zip" -d "$tmp"
    mv "$tmp"/ml-latest-small/* "$tmp/"
fi
for f in movies.csv ratings.csv links.csv tags.csv README.txt; do
    [ -s "$tmp/$f" ] || { echo "data: $f missing from the download" >&2; exit 1; }
done
for f in movies.csv ratings.csv links.csv tags.csv README.txt; do
    mv "$tmp/$f" "$dest/$f"
done
echo "data: ready in $dest ($(($(wc -l < "$dest/ratings.csv") - 1)) ratings)"
