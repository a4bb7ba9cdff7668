#!/bin/sh
# make bench: each benchmark runs mlpz-lua and its peer in the same run, a
# few times each, and prints the median times and their ratio.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
MLPZ_DATA=${MLPZ_DATA:-$root/../shared/datasets/ml-latest-small}
export MLPZ_DATA
BIN=${MLPZ_BIN:-$root/mlpz-lua}
RUNS=${RUNS:-5}

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT

# median_time CMD...: median wall seconds of $RUNS runs; the last run's
# stdout is left in $tmp.
median_time() {
    times=""
    for _ in $(seq "$RUNS"); do
        t0=$(date +%s.%N)
        "$@" > "$tmp"
        t1=$(date +%s.%N)
        times="$times $(awk "BEGIN {print $t1 - $t0}")"
    done
    echo $times | tr ' ' '\n' | sort -n | awk '{a[NR]=$1} END {printf "%.3f", a[int((NR+1)/2)]}'
}

echo "bench 1: load ml-latest-small, then history + top genres (+ 20 recommendations in mlpz-lua) for all 610 users"
ours=$(median_time "$BIN" tests/bench/load_and_query.lua); ours_out=$(cat "$tmp")
peer=$(median_time python3 tests/bench/load_and_query.py); peer_out=$(cat "$tmp")
echo "  mlpz-lua: ${ours}s  ($ours_out)"
echo "  python3 csv peer: ${peer}s  ($peer_out)"
echo "  ratio peer/mlpz-lua: $(awk "BEGIN {printf \"%.1f\", $peer / $ours}")x"
[ "${ours_out%% recs=*}" = "${peer_out%% recs=*}" ] || { echo "  answers differ" >&2; exit 1; }
