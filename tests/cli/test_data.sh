#!/bin/sh
# make data's script: copy from ../shared, or download and unpack a zip
# (a local file:// URL stands in for grouplens.org), never a partial folder.
. "$(dirname "$0")/lib.sh"
FETCH="sh $ROOT/tools/fetch_data.sh"
SRC=$MLPZ_SHARED/datasets/ml-latest-small

run "copy from shared" $FETCH "$WORK/d1"
expect_status 0
if cmp -s "$WORK/d1/ratings.csv" "$SRC/ratings.csv" && cmp -s "$WORK/d1/movies.csv" "$SRC/movies.csv"; then
    pass "$name: files identical"
else fail "$name: files identical" "$(ls "$WORK/d1")"; fi
expect_out "counts the ratings" "100836 ratings"
run "second run" $FETCH "$WORK/d1"
expect_status 0
expect_out "leaves existing data alone" "already has"

# The download path, with ../shared out of reach.
# zipdir DIR ZIP: DIR's files under ml-latest-small/, as grouplens.org packs them.
zipdir() {
    python3 -c "
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[2], 'w', zipfile.ZIP_DEFLATED) as z:
    for f in sorted(os.listdir(sys.argv[1])):
        z.write(os.path.join(sys.argv[1], f), 'ml-latest-small/' + f)
" "$1" "$2"
}
mkdir "$WORK/zsrc" && cp "$SRC"/* "$WORK/zsrc/" && zipdir "$WORK/zsrc" "$WORK/ml.zip"
run "download" env MLPZ_SHARED="$WORK/none" MLPZ_DATA_URL="file://$WORK/ml.zip" $FETCH "$WORK/d2"
expect_status 0
expect_out "says it downloads" "downloading file://"
if cmp -s "$WORK/d2/ratings.csv" "$SRC/ratings.csv"; then pass "$name: unpacked"
else fail "$name: unpacked" "$(ls -A "$WORK/d2")"; fi
run "downloaded data loads" "$MLPZ_BIN" -e "local ds = assert(require('mlpz.dataset').open{dir='$WORK/d2'}); print(ds:stats().interactions)"
expect_out "158,371 interactions" "^158371$"

run "download fails" env MLPZ_SHARED="$WORK/none" MLPZ_DATA_URL="file://$WORK/missing.zip" $FETCH "$WORK/d3"
if [ "$status" -ne 0 ]; then pass "$name: non-zero status"; else fail "$name: non-zero status" "0"; fi
if [ -z "$(ls -A "$WORK/d3" 2>/dev/null)" ]; then pass "$name: nothing left behind"
else fail "$name: nothing left behind" "$(ls -A "$WORK/d3")"; fi

rm "$WORK/zsrc/tags.csv" && zipdir "$WORK/zsrc" "$WORK/short.zip"
run "incomplete zip" env MLPZ_SHARED="$WORK/none" MLPZ_DATA_URL="file://$WORK/short.zip" $FETCH "$WORK/d4"
if [ "$status" -ne 0 ]; then pass "$name: non-zero status"; else fail "$name: non-zero status" "0"; fi
expect_err "names the missing file" "tags.csv missing"
if [ ! -e "$WORK/d4/ratings.csv" ] && [ -z "$(ls -A "$WORK/d4" 2>/dev/null)" ]; then pass "$name: no partial data"
else fail "$name: no partial data" "$(ls -A "$WORK/d4")"; fi
