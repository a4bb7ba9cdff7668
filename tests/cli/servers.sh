# Starting and stopping the local stand-ins for AWS in shell tests (sourced
# after lib.sh). Each server picks a free port and writes it to a file; every
# wait is bounded, and every server started here is stopped on exit.
TEST_AK=AKIAMLPZTEST00000001
TEST_SK='mlpz/Test+Secret/Key0000000000000000000000'
SERVER_PIDS=""
trap 'for p in $SERVER_PIDS; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$WORK"' EXIT

# wait_port FILE: prints the port once FILE exists (10 s at most).
wait_port() {
    i=0
    while [ ! -s "$1" ]; do
        i=$((i + 1))
        [ "$i" -gt 100 ] && { echo "server did not start: no $1" >&2; return 1; }
        sleep 0.1
    done
    cat "$1"
}

# start_personalize NAME [server options...]: sets NAME_URL and NAME_LOG.
start_personalize() {
    sname=$1
    shift
    python3 "$ROOT/tests/servers/personalize_server.py" --port 0 --port-file "$WORK/$sname.port" \
        --log "$WORK/$sname.log" --data "$MLPZ_DATA" "$@" 2> "$WORK/$sname.stderr" &
    SERVER_PIDS="$SERVER_PIDS $!"
    port=$(wait_port "$WORK/$sname.port") || { cat "$WORK/$sname.stderr" >&2; return 1; }
    eval "${sname}_URL=http://127.0.0.1:$port; ${sname}_LOG=$WORK/$sname.log"
}

# start_moto NAME [verify]: moto's S3 server; sets NAME_URL, and NAME_AK /
# NAME_SK, the keys of an IAM user it knows. With "verify", moto checks
# signatures once its first 4 unauthenticated actions are spent (the
# readiness probe and the 3 IAM calls below). Its checker itself rejects
# query strings and encoded keys, even from boto3, so only plain requests
# can be tried on it.
start_moto() {
    sname=$1
    command -v moto_server > /dev/null || { echo "moto_server is not installed (pip install 'moto[server]')" >&2; return 1; }
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    if [ "${2:-}" = verify ]; then
        INITIAL_NO_AUTH_ACTION_COUNT=4 moto_server -H 127.0.0.1 -p "$port" > "$WORK/$sname.stderr" 2>&1 &
    else
        moto_server -H 127.0.0.1 -p "$port" > "$WORK/$sname.stderr" 2>&1 &
    fi
    SERVER_PIDS="$SERVER_PIDS $!"
    i=0
    until curl -s -o /dev/null "http://127.0.0.1:$port/"; do
        i=$((i + 1))
        [ "$i" -gt 150 ] && { echo "moto_server did not start" >&2; cat "$WORK/$sname.stderr" >&2; return 1; }
        sleep 0.1
    done
    if [ "${2:-}" != verify ]; then
        eval "${sname}_URL=http://127.0.0.1:$port; ${sname}_AK=AKIAMOTO000000000000; ${sname}_SK=moto-accepts-any-secret"
        return 0
    fi
    keys=$(python3 - "http://127.0.0.1:$port" <<'PY'
import sys, boto3
iam = boto3.client("iam", endpoint_url=sys.argv[1], region_name="us-east-1",
                   aws_access_key_id="setup", aws_secret_access_key="setup")
iam.create_user(UserName="mlpz")
iam.put_user_policy(UserName="mlpz", PolicyName="all", PolicyDocument=
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}')
k = iam.create_access_key(UserName="mlpz")["AccessKey"]
print(k["AccessKeyId"], k["SecretAccessKey"])
PY
) || return 1
    set -- $keys
    eval "${sname}_URL=http://127.0.0.1:$port; ${sname}_AK=$1; ${sname}_SK=$2"
}

# faults URL OP KIND...: queues faults on a personalize server.
faults() {
    furl=$1 fop=$2
    shift 2
    list=$(printf '"%s",' "$@")
    curl -s -X POST -d "{\"path_or_op\": \"$fop\", \"faults\": [${list%,}]}" "$furl/__faults" > /dev/null
}

# count_requests LOG OP: API requests of OP in a server log.
count_requests() {
    grep -c "\"target\": *\"$2\"" "$1" 2>/dev/null || true
}
