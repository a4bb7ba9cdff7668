#!/bin/sh
# batch_job.lua end to end: the verifying Personalize server runs the job
# (PENDING -> IN_PROGRESS -> ACTIVE) and writes its output into moto's S3;
# the script uploads the input, waits, downloads and renders.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/servers.sh"
cd "$WORK" || exit 1
S=$ROOT/scripts
start_moto MOTO || { fail "moto server" "did not start"; exit 1; }
start_personalize PZ --s3-endpoint "$MOTO_URL" || { fail "personalize server" "did not start"; exit 1; }
export AWS_ACCESS_KEY_ID=$TEST_AK AWS_SECRET_ACCESS_KEY=$TEST_SK AWS_REGION=us-east-1
export AWS_ENDPOINT_URL_PERSONALIZE=$PZ_URL AWS_ENDPOINT_URL_PERSONALIZE_RUNTIME=$PZ_URL AWS_ENDPOINT_URL_S3=$MOTO_URL
python3 -c "import boto3; boto3.client('s3', endpoint_url='$MOTO_URL', region_name='us-east-1').create_bucket(Bucket='mlpz-batch')"
sv() {
    "$MLPZ_BIN" -e "local p = assert(require('mlpz.personalize').new{region = 'us-east-1'})
print(assert(p:describe_campaign{campaignArn = 'arn:aws:personalize:us-east-1:123456789012:campaign/$1'}).campaign.solutionVersionArn)"
}
SIMS=$(sv sims)
USERS=$(sv user-personalization)
ROLE=arn:aws:iam::123456789012:role/PersonalizeBatch
OUT=s3://mlpz-batch/output/

"$MLPZ_BIN" "$S/batch_input.lua" similar-items --records 5 --seed 1 -o sims-in.json > /dev/null 2>&1
run "full loop from a local file" "$MLPZ_BIN" "$S/batch_job.lua" --solution-version-arn "$SIMS" --role-arn "$ROLE" \
    --input sims-in.json --output "$OUT" --wait --poll-interval 0.1
expect_status 0
expect_err "uploads the input" "^Uploaded sims-in.json to s3://mlpz-batch/input/sims-in.json$"
expect_out "prints the job ARN" "^Created batch inference job arn:aws:personalize:us-east-1:123456789012:batch-inference-job/"
expect_err "status line PENDING" "PENDING +elapsed"
expect_err "status line IN_PROGRESS" "IN_PROGRESS +elapsed"
expect_err "ends ACTIVE" "ACTIVE +after"
expect_err "downloads the output" "^Downloaded s3://mlpz-batch/output/sims-in.json.out to sims-in.json.out$"
if [ -s sims-in.json.out ] && [ "$(wc -l < sims-in.json.out)" -eq 5 ]; then pass "$name: output file with 5 records"
else fail "$name: output file with 5 records" "$(ls -la)"; fi
first=$(python3 -c "import json; print(json.loads(open('sims-in.json.out').readline())['output']['recommendedItems'][0])")
title=$(python3 -c "import csv; print({r['movieId']: r['title'] for r in csv.DictReader(open('$MLPZ_DATA/movies.csv', encoding='utf-8'))}['$first'])")
if grep -qF "$title" "$WORK/out"; then pass "$name: renders titles ($title)"
else fail "$name: renders titles ($title)" "$(head -c 400 "$WORK/out")"; fi

# Created without --wait, looked at, then waited for.
"$MLPZ_BIN" "$S/batch_input.lua" user-personalization --records 3 --seed 2 -b mlpz-batch -o users-in.json > /dev/null 2>&1
run "create without --wait" "$MLPZ_BIN" "$S/batch_job.lua" --solution-version-arn "$USERS" --role-arn "$ROLE" \
    --input s3://mlpz-batch/input/users-in.json --output "$OUT" --job-name mlpz-users --num-results 7
expect_status 0
expect_out "says how to follow it" "Follow it with: mlpz-lua scripts/batch_job.lua --job-arn arn:aws:personalize:.*batch-inference-job/mlpz-users --wait"
JOB=$(sed -n 's/^Created batch inference job //p' "$WORK/out")
run "attach without --wait" "$MLPZ_BIN" "$S/batch_job.lua" --job-arn "$JOB"
expect_status 0
expect_out "shows the status" "$JOB: PENDING \(add --wait"
run "attach with --wait" "$MLPZ_BIN" "$S/batch_job.lua" --job-arn "$JOB" --wait --poll-interval 0.1
expect_status 0
python3 -c "
import json, sys
recs = [json.loads(l) for l in open('users-in.json.out')]
sys.exit(not (len(recs) == 3 and all(len(r['output']['recommendedItems']) == 7 for r in recs)))
" && pass "$name: numResults 7 reached the job" || fail "$name: numResults 7 reached the job" "$(head -c 300 users-in.json.out)"

# On a terminal: one status line rewritten in place.
name="live status line on a terminal"
why=$(python3 - "$MLPZ_BIN" "$S/batch_job.lua" "$SIMS" "$ROLE" <<'PY'
import os, pty, re, select, sys, time
bin_, script, sv, role = sys.argv[1:5]
pid, fd = pty.fork()
if pid == 0:
    os.execv(bin_, [bin_, script, "--solution-version-arn", sv, "--role-arn", role,
                    "--input", "s3://mlpz-batch/input/sims-in.json", "--output", "s3://mlpz-batch/tty/",
                    "--job-name", "mlpz-tty", "--wait", "--poll-interval", "0.3", "--format", "csv"])
out, deadline = b"", time.time() + 60
while time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 1)
    if r:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
_, status = os.waitpid(pid, 0)
if os.waitstatus_to_exitcode(status) != 0:
    print("exit status", os.waitstatus_to_exitcode(status), out[-300:])
elif not re.search(rb"\r\d{4}-\d\d-\d\d \d\d:\d\d:\d\d  PENDING +elapsed [0-9:]+\x1b\[K", out):
    print("no live PENDING line:", out[:300])
elif not re.search(rb"\r\d{4}-\d\d-\d\d \d\d:\d\d:\d\d  IN_PROGRESS +elapsed [0-9:]+\x1b\[K", out):
    print("the line was not rewritten with the next status:", out[:300])
elif re.search(rb"\n\d{4}-\d\d-\d\d \d\d:\d\d:\d\d  IN_PROGRESS", out):
    print("a new line per status, not one live line:", out[:300])
PY
)
if [ -z "$why" ]; then pass "$name: one line rewritten in place, then done"
else fail "$name: one line rewritten in place, then done" "$why"; fi

# A job that fails.
run "failing job" "$MLPZ_BIN" "$S/batch_job.lua" --solution-version-arn "$SIMS" --role-arn "$ROLE" \
    --input s3://mlpz-batch/input/sims-in.json --output "$OUT" --job-name mlpz-fail-1 --wait --poll-interval 0.1
expect_status 3
expect_err "prints failureReason" "batch inference job .*mlpz-fail-1 failed: Job mlpz-fail-1 failed: the input file could not be processed"
expect_one_line_error

# Ctrl-C while waiting: the job goes on, and --job-arn resumes.
"$MLPZ_BIN" "$S/batch_job.lua" --solution-version-arn "$SIMS" --role-arn "$ROLE" --input s3://mlpz-batch/input/sims-in.json \
    --output s3://mlpz-batch/later/ --job-name mlpz-interrupted --wait --poll-interval 30 > "$WORK/int.out" 2> "$WORK/int.err" &
pid=$!
i=0
until grep -q PENDING "$WORK/int.err" 2>/dev/null; do i=$((i + 1)); [ "$i" -gt 100 ] && break; sleep 0.1; done
kill -INT "$pid"
wait "$pid"
status=$?
name="interrupted wait"
expect_status 130
if grep -q "Stopped waiting; the job goes on. Resume with:" "$WORK/int.err" && grep -q -- "--job-arn .*mlpz-interrupted --wait" "$WORK/int.err"; then
    pass "$name: says how to resume"
else fail "$name: says how to resume" "$(cat "$WORK/int.err")"; fi
JOB=$(sed -n 's/^Created batch inference job //p' "$WORK/int.out")
run "resumed" "$MLPZ_BIN" "$S/batch_job.lua" --job-arn "$JOB" --wait --poll-interval 0.1
expect_status 0
expect_err "downloads the output" "Downloaded s3://mlpz-batch/later/sims-in.json.out"

# Bad arguments cost no call.
run "missing flags" "$MLPZ_BIN" "$S/batch_job.lua" --input x.json
expect_status 2
expect_err "lists them" "missing --solution-version-arn, --role-arn, --output"
run "bad solution version ARN" "$MLPZ_BIN" "$S/batch_job.lua" --solution-version-arn arn:x --role-arn "$ROLE" --input a --output "$OUT"
expect_status 2
expect_err "says what it should be" "is not a solution version ARN"
run "bad output" "$MLPZ_BIN" "$S/batch_job.lua" --solution-version-arn "$SIMS" --role-arn "$ROLE" --input a --output /tmp/out
expect_status 2
expect_err "wants s3://" "--output: '/tmp/out' is not an S3 URL"
run "unknown job" "$MLPZ_BIN" "$S/batch_job.lua" --job-arn arn:aws:personalize:us-east-1:123456789012:batch-inference-job/none
expect_status 3
expect_err "names the error" "DescribeBatchInferenceJob failed: ResourceNotFoundException"
run "missing local input" "$MLPZ_BIN" "$S/batch_job.lua" --solution-version-arn "$SIMS" --role-arn "$ROLE" --input nowhere.json --output "$OUT"
expect_status 2
expect_err "names it" "cannot read --input nowhere.json"
