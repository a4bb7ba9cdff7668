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

echo
echo "bench 2: 1,000 GetRecommendations calls against the local verifying Personalize server"
echo "  (the Python server's verification takes most of the wall time, the same for both"
echo "  clients; CPU time is each client's own cost)"
port_file=$(mktemp -u)
python3 tests/servers/personalize_server.py --port 0 --port-file "$port_file" --log /dev/null \
    --data "$MLPZ_DATA" 2> /dev/null &
server=$!
trap 'rm -f "$tmp" "$port_file"; kill $server 2>/dev/null' EXIT
i=0
while [ ! -s "$port_file" ]; do
    i=$((i + 1)); [ "$i" -gt 300 ] && { echo "server did not start" >&2; exit 1; }
    sleep 0.1
done
url=http://127.0.0.1:$(cat "$port_file")
export AWS_ENDPOINT_URL=$url AWS_ACCESS_KEY_ID=AKIAMLPZTEST00000001 \
    AWS_SECRET_ACCESS_KEY='mlpz/Test+Secret/Key0000000000000000000000' AWS_EC2_METADATA_DISABLED=true
connections() { curl -s "$url/__stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["api_connections"])'; }
c0=$(connections)
set -- $(python3 tests/bench/run_timed.py "$tmp" "$BIN" tests/bench/get_recommendations.lua 1000)
ours_wall=$1 ours_cpu=$2 ours_out=$(cat "$tmp")
c1=$(connections)
set -- $(python3 tests/bench/run_timed.py "$tmp" python3 tests/bench/get_recommendations.py 1000)
peer_wall=$1 peer_cpu=$2 peer_out=$(cat "$tmp")
c2=$(connections)
echo "  mlpz-lua: wall ${ours_wall}s, cpu ${ours_cpu}s  ($ours_out over $((c1 - c0)) connection(s))"
echo "  boto3:    wall ${peer_wall}s, cpu ${peer_cpu}s  ($peer_out over $((c2 - c1)) connection(s))"
echo "  ratio boto3/mlpz-lua: wall $(awk "BEGIN {printf \"%.2f\", $peer_wall / $ours_wall}")x, cpu $(awk "BEGIN {printf \"%.1f\", $peer_cpu / $ours_cpu}")x"
[ "$ours_out" = "$peer_out" ] || { echo "  answers differ" >&2; exit 1; }
[ $((c1 - c0)) -eq 1 ] || { echo "  mlpz-lua did not reuse its connection" >&2; exit 1; }
