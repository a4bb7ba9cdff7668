# Shared helpers for the shell test suites: each check prints one
# "ok - name" or "not ok - name: why" line.
set -u
: "${MLPZ_BIN:?run through tests/run.sh}"
: "${MLPZ_DATA:?run through tests/run.sh}"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

pass() { echo "ok - $1"; }
fail() { echo "not ok - $1: $2"; }

# run NAME CMD...: runs CMD, keeping stdout in $WORK/out, stderr in
# $WORK/err and the status in $status.
run() {
    name=$1
    shift
    "$@" > "$WORK/out" 2> "$WORK/err"
    status=$?
}

expect_status() {
    if [ "$status" -eq "$1" ]; then pass "$name: exit status $1"
    else fail "$name: exit status $1" "got $status; stderr: $(head -c 400 "$WORK/err")"; fi
}

# expect_out|expect_err NAME PATTERN (grep -E)
expect_out() {
    if grep -Eq -- "$2" "$WORK/out"; then pass "$name: $1"
    else fail "$name: $1" "stdout lacks /$2/: $(head -c 300 "$WORK/out")"; fi
}
expect_err() {
    if grep -Eq -- "$2" "$WORK/err"; then pass "$name: $1"
    else fail "$name: $1" "stderr lacks /$2/: $(head -c 300 "$WORK/err")"; fi
}

# The error contract: one error line ("script.lua: ..."), the last thing on
# stderr, no traceback. Progress lines ("Loaded ...", "Using ...") may come
# before it.
expect_one_line_error() {
    errors=$(grep -Ec '^([a-z_]+\.lua|mlpz-lua): ' "$WORK/err")
    if [ "$errors" -eq 1 ] && tail -n 1 "$WORK/err" | grep -Eq '^([a-z_]+\.lua|mlpz-lua): ' \
        && ! grep -q traceback "$WORK/err"; then pass "$name: one-line error"
    else fail "$name: one-line error" "$(head -c 600 "$WORK/err")"; fi
}

# expect_py NAME PYTHON-CODE: runs python3 with $WORK/out on stdin; the code
# prints nothing on success, a reason on failure.
expect_py() {
    why=$(python3 -c "$2" < "$WORK/out" 2>&1)
    if [ -z "$why" ]; then pass "$name: $1"; else fail "$name: $1" "$why"; fi
}
