#!/bin/sh
# Regenerates samples/: every demo's real output with --seed 1 (stderr's
# progress lines first, as a terminal shows them), plus JSON and CSV forms
# and one batch input file of each type.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${MLPZ_BIN:-$root/mlpz-lua}
out=$root/samples
MLPZ_DATA=${MLPZ_DATA:-$root/../shared/datasets/ml-latest-small}
export MLPZ_DATA
mkdir -p "$out"
cd "$out"
run() {
    name=$1
    shift
    { echo "\$ mlpz-lua $*"; "$bin" "$root/scripts/$@" 2>&1; } > "$name.tmp"
    sed -i "s#$MLPZ_DATA#ml-latest-small#" "$name.tmp"
    mv "$name.tmp" "$name"
}
run ranking-42.txt ranking.lua 42 --seed 1
run ranking-302-items.txt ranking.lua 302 -i 3795,5802,7845,25834,45074,1447,6365,3769,1835,46972,7477,2334,5470,179119,3648,71248,4016,93855,6687,31737
run user_personalization.txt user_personalization.lua --seed 1
run user_personalization-595.txt user_personalization.lua 595
run similar_items.txt similar_items.lua --seed 1
run similar_items-260.txt similar_items.lua 260
seeds=$root/../shared/seed-samples
for kind in user-personalization similar-items personalized-ranking; do
    src=$(ls "$seeds"/batch-output-$kind-*.json)
    { echo "\$ mlpz-lua batch_output.lua $(basename "$src")"; "$bin" "$root/scripts/batch_output.lua" "$src" 2>&1; } \
        | sed "s#$seeds/##g; s#$MLPZ_DATA#ml-latest-small#" > batch_output-$kind.txt.tmp
    mv batch_output-$kind.txt.tmp batch_output-$kind.txt
done
"$bin" "$root/scripts/ranking.lua" 42 --seed 1 --format json 2>/dev/null > ranking-42.json
"$bin" "$root/scripts/user_personalization.lua" 595 --format csv 2>/dev/null > user_personalization-595.csv
# Fixed names (the default carries the time), so regenerating changes only
# what the code changed.
rm -f batch-input-*.json
for kind in user-personalization similar-items personalized-ranking; do
    "$bin" "$root/scripts/batch_input.lua" "$kind" --seed 1 -o "batch-input-$kind-seed1.json" > /dev/null 2>&1
done
ls "$out"
