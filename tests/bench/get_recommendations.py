"""Peer of get_recommendations.lua: the same N calls with boto3."""
import os
import sys

import boto3

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
c = boto3.client("personalize-runtime", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name="us-east-1")
arn = "arn:aws:personalize:us-east-1:123456789012:campaign/user-personalization"
items = 0
for i in range(1, n + 1):
    r = c.get_recommendations(campaignArn=arn, userId=str(i % 610 + 1), numResults=25)
    items += len(r["itemList"])
print(f"calls={n} items={items}")
