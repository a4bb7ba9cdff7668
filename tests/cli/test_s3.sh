#!/bin/sh
# mlpz.s3 against moto's S3 server with signature verification on.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/servers.sh"
start_moto MOTO || { fail "moto server" "did not start"; exit 1; }
start_moto AUTH verify || { fail "verifying moto server" "did not start"; exit 1; }
for u in "$MOTO_URL $MOTO_AK $MOTO_SK" "$AUTH_URL $AUTH_AK $AUTH_SK"; do
    set -- $u
    python3 -c "import boto3; boto3.client('s3', endpoint_url='$1', region_name='us-east-1', aws_access_key_id='$2', aws_secret_access_key='$3').create_bucket(Bucket='mlpz-test')"
done
ROOT=$ROOT AWS_ACCESS_KEY_ID=$MOTO_AK AWS_SECRET_ACCESS_KEY=$MOTO_SK AWS_EC2_METADATA_DISABLED=true \
    AUTH_URL=$AUTH_URL AUTH_AK=$AUTH_AK AUTH_SK=$AUTH_SK \
    "$MLPZ_BIN" "$ROOT/tests/cli/s3_check.lua" "$MOTO_URL" mlpz-test "$WORK"

# batch_input.lua -b: writes the file, uploads it, prints the s3:// URL.
cd "$WORK" || exit 1
export AWS_ACCESS_KEY_ID=$MOTO_AK AWS_SECRET_ACCESS_KEY=$MOTO_SK AWS_ENDPOINT_URL_S3=$MOTO_URL AWS_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true
run "batch_input -b" "$MLPZ_BIN" "$ROOT/scripts/batch_input.lua" user-personalization --seed 3 -b mlpz-test
expect_status 0
file=$(ls batch-input-user-personalization-*.json)
expect_out "prints the s3 URL" "^Uploaded to s3://mlpz-test/input/$file$"
python3 -c "
import boto3, sys
b = boto3.client('s3', endpoint_url='$MOTO_URL', region_name='us-east-1', aws_access_key_id='x', aws_secret_access_key='y')
sys.exit(b.get_object(Bucket='mlpz-test', Key='input/$file')['Body'].read() != open('$file', 'rb').read())
" && pass "batch_input -b: the object is the file" || fail "batch_input -b: the object is the file" "differs"
run "batch_input -b --prefix" "$MLPZ_BIN" "$ROOT/scripts/batch_input.lua" similar-items -b mlpz-test --prefix jobs/in
expect_status 0
expect_out "prefix used" "^Uploaded to s3://mlpz-test/jobs/in/batch-input-similar-items-"
run "batch_input -b missing bucket" "$MLPZ_BIN" "$ROOT/scripts/batch_input.lua" similar-items -b mlpz-no-such-bucket
expect_status 3
expect_err "says what failed" "upload of batch-input-similar-items-[0-9-]+\\.json \\(kept here\\) to s3://mlpz-no-such-bucket/input/batch-input-similar-items-.* failed: NoSuchBucket"
expect_one_line_error
