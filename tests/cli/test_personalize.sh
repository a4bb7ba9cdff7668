#!/bin/sh
# The demos against the local verifying Personalize server: every request's
# signature is recomputed there with botocore's signer and its body checked
# against botocore's model. Answers are cross-checked with boto3 on the same
# server; failures must end in one line and exit status 3.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/servers.sh"
cd "$WORK" || exit 1
S=$ROOT/scripts
ARN=arn:aws:personalize:us-east-1:123456789012:campaign
start_personalize PZ || { fail "personalize server" "did not start"; exit 1; }
start_personalize TOK --session-token 'tok/en+1' --expired-token || { fail "token server" "did not start"; exit 1; }
export AWS_ACCESS_KEY_ID=$TEST_AK AWS_SECRET_ACCESS_KEY=$TEST_SK AWS_ENDPOINT_URL=$PZ_URL
export AWS_EC2_METADATA_DISABLED=true
ALL_OUT=$WORK/all-output
: > "$ALL_OUT"
keep() { cat "$WORK/out" "$WORK/err" >> "$ALL_OUT"; }

# boto3's answer for the same request, as ids one per line.
boto() {
    python3 - "$@" <<'PY'
import sys, boto3, os
c = boto3.client("personalize-runtime", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name="us-east-1")
kind, arn, who = sys.argv[1:4]
if kind == "user":
    r = c.get_recommendations(campaignArn=arn, userId=who, numResults=50)["itemList"]
elif kind == "item":
    r = c.get_recommendations(campaignArn=arn, itemId=who, numResults=50)["itemList"]
else:
    r = c.get_personalized_ranking(campaignArn=arn, userId=who, inputList=sys.argv[4].split(","))["personalizedRanking"]
print("\n".join(i["itemId"] for i in r))
PY
}

run "ranking -c" "$MLPZ_BIN" "$S/ranking.lua" 42 --seed 1 -c "$ARN/rerank" --format json
keep
expect_status 0
expect_err "names the campaign" "Using the Personalize campaign $ARN/rerank"
python3 -c "import json,sys; d=json.load(open('$WORK/out')); print(','.join(d['item_ids_info']['item_ids'])); print('\n'.join(r['ITEM_ID'] for r in d['reranked_items']['rows']), file=open('$WORK/ours','w'))" > "$WORK/ids"
boto rank "$ARN/rerank" 42 "$(cat "$WORK/ids")" > "$WORK/theirs"
if [ -s "$WORK/ours" ] && cmp -s "$WORK/ours" "$WORK/theirs"; then pass "ranking -c: same order as boto3 gets"
else fail "ranking -c: same order as boto3 gets" "$(paste -d' ' "$WORK/ours" "$WORK/theirs" | head -5)"; fi
if grep '"target": "GetPersonalizedRanking"' "$PZ_LOG" | grep -q '"signature_ok": true'; then pass "ranking -c: the server verified the signature"
else fail "ranking -c: the server verified the signature" "$(tail -2 "$PZ_LOG")"; fi

run "user_personalization -c" "$MLPZ_BIN" "$S/user_personalization.lua" 42 -c "$ARN/user-personalization" --format json
keep
expect_status 0
python3 -c "import json; d=json.load(open('$WORK/out')); print('\n'.join(r['ITEM_ID'] for r in d['user_recommendations']['rows']))" > "$WORK/ours"
boto user "$ARN/user-personalization" 42 | sed -n 1,20p > "$WORK/theirs"
if [ -s "$WORK/ours" ] && cmp -s "$WORK/ours" "$WORK/theirs"; then pass "user_personalization -c: the first 20 of boto3's 50"
else fail "user_personalization -c: the first 20 of boto3's 50" "$(paste -d' ' "$WORK/ours" "$WORK/theirs" | head -5)"; fi

run "similar_items -c" "$MLPZ_BIN" "$S/similar_items.lua" 260 -c "$ARN/sims" --format csv
keep
expect_status 0
sed -n '/^ITEM_ID,/,$p' "$WORK/out" | tail -n +2 | cut -d, -f1 > "$WORK/ours"
boto item "$ARN/sims" 260 | sed -n 1,20p > "$WORK/theirs"
if [ -s "$WORK/ours" ] && cmp -s "$WORK/ours" "$WORK/theirs"; then pass "similar_items -c: boto3's items"
else fail "similar_items -c: boto3's items" "$(paste -d' ' "$WORK/ours" "$WORK/theirs" | head -5)"; fi

# --- where the ARN comes from ------------------------------------------------
run "ARN from MLPZ_RANKING_CAMPAIGN_ARN" env MLPZ_RANKING_CAMPAIGN_ARN="$ARN/rerank" "$MLPZ_BIN" "$S/ranking.lua" 1 --seed 1
expect_status 0
expect_err "uses it" "campaign $ARN/rerank"
mkdir -p "$HOME/.config/mlpz"
printf 'return { campaigns = { similar_items = "%s/sims" } }\n' "$ARN" > "$HOME/.config/mlpz/config.lua"
run "ARN from ~/.config/mlpz/config.lua" "$MLPZ_BIN" "$S/similar_items.lua" 1
expect_status 0
expect_err "uses it" "campaign $ARN/sims"
printf 'return { campaigns = { similar_items = "%s/nope" } }\n' "$ARN" > mlpz.config.lua
run "./mlpz.config.lua before the home one" "$MLPZ_BIN" "$S/similar_items.lua" 1
expect_status 3
expect_err "uses it" "campaign/nope"
run "a flag before both" "$MLPZ_BIN" "$S/similar_items.lua" 1 -c "$ARN/sims"
expect_status 0
printf 'return { campaings = {} }\n' > mlpz.config.lua
run "misspelt config setting" "$MLPZ_BIN" "$S/similar_items.lua" 1
expect_status 2
expect_err "names file and setting" "mlpz.config.lua: unknown setting 'campaings'"
expect_one_line_error
printf 'os.execute("touch pwned") return {}\n' > mlpz.config.lua
run "config file cannot run code" "$MLPZ_BIN" "$S/similar_items.lua" 1
expect_status 2
if [ ! -e pwned ]; then pass "$name: nothing ran"; else fail "$name: nothing ran" "pwned exists"; fi
rm -f mlpz.config.lua "$HOME/.config/mlpz/config.lua"

run "filter" "$MLPZ_BIN" "$S/user_personalization.lua" 42 -c "$ARN/user-personalization" \
    --filter-arn arn:aws:personalize:us-east-1:123456789012:filter/genre --filter-values '{"GENRE": "\"Comedy\""}'
expect_status 0
if python3 -c "
import json, sys
for l in open('$PZ_LOG'):
    e = json.loads(l)
    if e['target'] == 'GetRecommendations' and e['status'] == 200: last = e
sys.exit(0 if last['signature_ok'] else 1)"; then pass "filter: accepted by the model check"
else fail "filter: accepted by the model check" "$(tail -1 "$PZ_LOG")"; fi
run "bad filter values" "$MLPZ_BIN" "$S/user_personalization.lua" 42 -c "$ARN/user-personalization" --filter-values 'GENRE=Comedy'
expect_status 2
expect_err "asks for JSON" "--filter-values needs a JSON object"

# --- failures: one line, status 3, a hint ---------------------------------------
run "invalid ARN" "$MLPZ_BIN" "$S/ranking.lua" 42 -c "arn:aws:personalize:us-east-1:42:campaign/x"
expect_status 3
expect_err "says what an ARN looks like" "not a Personalize campaign ARN \(expected arn:aws:personalize:REGION:ACCOUNT:campaign/NAME\)"
expect_one_line_error
run "unknown campaign" "$MLPZ_BIN" "$S/ranking.lua" 42 -c "$ARN/missing"
keep
expect_status 3
expect_err "names the error and what to check" "GetPersonalizedRanking failed: ResourceNotFoundException.*check the ARN and its region"
expect_one_line_error
run "wrong secret" env AWS_SECRET_ACCESS_KEY=wrong-secret-value-0000000000000000000000 "$MLPZ_BIN" "$S/similar_items.lua" 1 -c "$ARN/sims"
keep
expect_status 3
expect_err "says to check the secret" "InvalidSignatureException.*check the secret access key"
expect_one_line_error
if grep -q wrong-secret-value "$WORK/err"; then fail "wrong secret: not echoed" "the secret is in stderr"; else pass "wrong secret: not echoed"; fi
run "unknown key" env AWS_ACCESS_KEY_ID=AKIANOTKNOWN00000000 "$MLPZ_BIN" "$S/similar_items.lua" 1 -c "$ARN/sims"
keep
expect_status 3
expect_err "says to check the key" "UnrecognizedClientException.*check your AWS access key id"
run "expired token" env AWS_ENDPOINT_URL="$TOK_URL" AWS_SESSION_TOKEN='tok/en+1' "$MLPZ_BIN" "$S/similar_items.lua" 1 -c "$ARN/sims"
keep
expect_status 3
expect_err "says to refresh" "ExpiredTokenException.*session token has expired"
expect_one_line_error

before=$(count_requests "$PZ_LOG" GetRecommendations)
faults "$PZ_URL" GetRecommendations throttle throttle
run "two throttles" "$MLPZ_BIN" "$S/similar_items.lua" 1 -c "$ARN/sims"
keep
expect_status 0
after=$(count_requests "$PZ_LOG" GetRecommendations)
if [ $((after - before)) -eq 3 ]; then pass "two throttles: 3 requests, then success"
else fail "two throttles: 3 requests, then success" "$((after - before)) requests"; fi
before=$after
faults "$PZ_URL" GetRecommendations throttle throttle throttle throttle
run "throttled beyond retries" "$MLPZ_BIN" "$S/similar_items.lua" 1 -c "$ARN/sims"
keep
expect_status 3
expect_err "says so" "ThrottlingException.*kept throttling"
expect_one_line_error
after=$(count_requests "$PZ_LOG" GetRecommendations)
if [ $((after - before)) -eq 3 ]; then pass "throttled beyond retries: stops after 3 attempts"
else fail "throttled beyond retries: stops after 3 attempts" "$((after - before)) requests"; fi
curl -s -X POST "$PZ_URL/__reset" > /dev/null

closed=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
run "network failure" env AWS_ENDPOINT_URL="http://127.0.0.1:$closed" "$MLPZ_BIN" "$S/similar_items.lua" 1 -c "$ARN/sims"
keep
expect_status 3
expect_err "says what to check" "ConnectionError.*check your network"
expect_one_line_error

if grep -qF -e "$TEST_SK" -e 'tok/en+1' "$ALL_OUT" "$PZ_LOG" "$TOK_LOG" "$WORK/PZ.stderr"; then
    fail "no secret or token in any output or log" "found"
else pass "no secret or token in any output or log"; fi
