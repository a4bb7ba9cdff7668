-- Benchmark body: N GetRecommendations calls through mlpz.personalize
-- against the endpoint in AWS_ENDPOINT_URL (the local verifying server).
local n = tonumber(arg[1]) or 1000
local p = assert(require("mlpz.personalize").new { region = "us-east-1" })
local arn = "arn:aws:personalize:us-east-1:123456789012:campaign/user-personalization"
local items = 0
for i = 1, n do
  local r = assert(p:get_recommendations { campaignArn = arn, userId = tostring(i % 610 + 1), numResults = 25 })
  items = items + #r.itemList
end
print(string.format("calls=%d items=%d", n, items))
