#!/bin/sh
# mlpz.personalize's runtime and control-plane calls against the verifying
# server (signatures checked with botocore, bodies with botocore's model).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/servers.sh"
ARN=arn:aws:personalize:us-east-1:123456789012:campaign
start_personalize PZ --campaign "$ARN/user-personalization" --campaign "$ARN/sims" \
    --campaign "$ARN/rerank" --campaign "$ARN/actions=personalized-actions" \
    --campaign "$ARN/extra1" --campaign "$ARN/extra2" || { fail "personalize server" "did not start"; exit 1; }
ROOT=$ROOT AWS_ACCESS_KEY_ID=$TEST_AK AWS_SECRET_ACCESS_KEY=$TEST_SK AWS_ENDPOINT_URL=$PZ_URL \
    "$MLPZ_BIN" "$ROOT/tests/cli/personalize_check.lua"
