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
