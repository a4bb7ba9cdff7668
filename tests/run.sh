#!/bin/sh
# Runs every test suite and ends with one line "N passed, N failed".
# Suites speak TAP-like lines: "ok - name" or "not ok - name: why". A suite
# that exits non-zero without reporting a failure counts as one failure.
# Usage: tests/run.sh BUILD_DIR [suite-glob]
set -u
build=${1:?usage: tests/run.sh BUILD_DIR}
only=${2:-}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
MLPZ_SHARED=${MLPZ_SHARED:-$root/../shared}
MLPZ_DATA=${MLPZ_DATA:-$MLPZ_SHARED/datasets/ml-latest-small}
MLPZ_BIN=${MLPZ_BIN:-$root/mlpz-lua}
export MLPZ_SHARED MLPZ_DATA MLPZ_BIN
if [ ! -f "$MLPZ_DATA/ratings.csv" ]; then
    echo "tests: no MovieLens data at $MLPZ_DATA (set MLPZ_DATA or MLPZ_SHARED)" >&2
    exit 2
fi
# Tests must never depend on the developer's own AWS setup or history.
TEST_HOME=$(mktemp -d)
trap 'rm -rf "$TEST_HOME"' EXIT
HOME=$TEST_HOME
export HOME
unset AWS_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN \
      AWS_REGION AWS_DEFAULT_REGION AWS_ENDPOINT_URL MLPZ_DEBUG \
      AWS_ENDPOINT_URL_PERSONALIZE AWS_ENDPOINT_URL_PERSONALIZE_RUNTIME AWS_ENDPOINT_URL_S3 \
      AWS_CONTAINER_CREDENTIALS_RELATIVE_URI AWS_CONTAINER_CREDENTIALS_FULL_URI \
      AWS_SHARED_CREDENTIALS_FILE AWS_CONFIG_FILE MLPZ_CAMPAIGN_ARN MLPZ_RECOMMENDER_ARN
# Nothing in the tests may reach a real instance metadata service: the
# tests of that source point AWS_EC2_METADATA_SERVICE_ENDPOINT at a local
# stand-in and lift this themselves.
AWS_EC2_METADATA_DISABLED=true
export AWS_EC2_METADATA_DISABLED

log=$(mktemp)
all=$(mktemp)
passed=0
failed=0
run_suite() {
    name=$1
    shift
    case "$name" in *"$only"*) ;; *) return ;; esac
    echo "# $name"
    "$@" > "$log" 2>&1
    rc=$?
    cat "$log"
    cat "$log" >> "$all"
    p=$(grep -c '^ok' "$log")
    f=$(grep -c '^not ok' "$log")
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "not ok - $name exited with status $rc"
        f=1
    fi
    passed=$((passed + p))
    failed=$((failed + f))
}

for t in "$build"/tests/test_*; do
    [ -x "$t" ] && run_suite "unit/$(basename "$t")" "$t"
done
for t in tests/lua/test_*.lua; do
    run_suite "lua/$(basename "$t")" "$MLPZ_BIN" "$t"
done
for t in tests/cli/test_*.sh; do
    run_suite "cli/$(basename "$t")" sh "$t"
done
for t in tests/servers/test_*.py; do
    [ -f "$t" ] && run_suite "servers/$(basename "$t")" python3 "$t"
done
for t in tests/repl/test_*.py; do
    [ -f "$t" ] && run_suite "repl/$(basename "$t")" python3 "$t"
done
# The test credentials (every secret key and session token the suites and
# stand-in servers use) must not appear in anything the suites printed.
leaks=$(grep -cE 'Secret(/|\+|%2F)[A-Za-z0-9]|mlpzMeta(Secret|Token)[0-9]|SessionToken/|tok/en\+1|Zm9vYmFy' "$all")
if [ -z "$only" ]; then
    if [ "$leaks" -eq 0 ]; then
        echo "ok - no secret key or session token in the output of any suite"
        passed=$((passed + 1))
    else
        echo "not ok - $leaks lines of test output hold a test secret or token"
        failed=$((failed + 1))
    fi
fi
rm -f "$log" "$all"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
