-- mlpz.personalize against the verifying server (test_personalize_api.sh
-- starts it): runtime and control-plane calls with the API's own member
-- names, pagination, and errors as tables.
local t = dofile(os.getenv("ROOT") .. "/tests/lua/harness.lua")
local personalize = require "mlpz.personalize"
local cjson = require "cjson"
local ARN = "arn:aws:personalize:us-east-1:123456789012:"

local p = assert(personalize.new { region = "us-east-1" })

t.test("get_recommendations passes members through and decodes the answer", function()
  local r = assert(p:get_recommendations { campaignArn = ARN .. "campaign/user-personalization",
    userId = "42", numResults = 7, context = { DEVICE = "mobile" } })
  t.eq(#r.itemList, 7)
  t.ok(r.recommendationId, "recommendationId")
  for _, it in ipairs(r.itemList) do t.eq(type(it.itemId), "string") end
end)

t.test("get_personalized_ranking returns a permutation", function()
  local input = { "1", "260", "1196", "318" }
  local r = assert(p:get_personalized_ranking { campaignArn = ARN .. "campaign/rerank",
    userId = "42", inputList = input })
  local got = {}
  for i, it in ipairs(r.personalizedRanking) do got[i] = it.itemId end
  table.sort(got)
  local want = { table.unpack(input) }
  table.sort(want)
  t.eq(got, want)
end)

t.test("get_action_recommendations", function()
  local r, err = p:get_action_recommendations { campaignArn = ARN .. "campaign/actions", userId = "42",
    numResults = 3 }
  t.ok(r, tostring(err))
  t.eq(#r.actionList, 3)
end)

t.test("a member the model does not know is refused by the server's model check", function()
  local r, err = p:get_recommendations { campaignArn = ARN .. "campaign/user-personalization",
    userId = "42", numresults = 5 }
  t.eq(r, nil)
  t.eq(err.code, "ValidationException")
  t.eq(err.status, 400)
  t.eq(err.retryable, false)
end)

t.test("control plane: describe_campaign, get_solution_metrics, generic call", function()
  local c = assert(p:describe_campaign { campaignArn = ARN .. "campaign/rerank" })
  t.eq(c.campaign.campaignArn, ARN .. "campaign/rerank")
  local sv = c.campaign.solutionVersionArn
  local m = assert(p:get_solution_metrics { solutionVersionArn = sv })
  t.eq(type(m.metrics.normalized_discounted_cumulative_gain_at_10), "number")
  local d = assert(p:describe_solution_version { solutionVersionArn = sv })
  t.eq(d.solutionVersion.solutionVersionArn, sv)
  local same = assert(p:call("DescribeCampaign", { campaignArn = ARN .. "campaign/rerank" }))
  t.eq(same.campaign.campaignArn, c.campaign.campaignArn)
end)

t.test("pages follows nextToken over every campaign", function()
  local names, requests = {}, 0
  local call = p.call
  p.call = function(self, op, params)
    requests = requests + 1
    t.eq(params.maxResults, 2)
    return call(self, op, params)
  end
  for c in p:pages("ListCampaigns", { maxResults = 2 }, "campaigns") do names[#names + 1] = c.name end
  p.call = nil
  table.sort(names)
  t.eq(names, { "actions", "extra1", "extra2", "rerank", "sims", "user-personalization" })
  t.eq(requests, 3)
end)

t.test("batch inference job: create, then describe until ACTIVE", function()
  local sv = assert(p:describe_campaign { campaignArn = ARN .. "campaign/sims" }).campaign.solutionVersionArn
  local job = assert(p:create_batch_inference_job {
    jobName = "mlpz-check", solutionVersionArn = sv,
    roleArn = "arn:aws:iam::123456789012:role/PersonalizeBatch",
    jobInput = { s3DataSource = { path = "s3://b/input/x.json" } },
    jobOutput = { s3DataDestination = { path = "s3://b/output/" } }, numResults = 10 })
  t.ok(job.batchInferenceJobArn, "arn")
  local seen = {}
  for _ = 1, 5 do
    local d = assert(p:describe_batch_inference_job { batchInferenceJobArn = job.batchInferenceJobArn })
    seen[#seen + 1] = d.batchInferenceJob.status
    if d.batchInferenceJob.status == "ACTIVE" then break end
  end
  t.eq(seen, { "PENDING", "IN_PROGRESS", "ACTIVE" })
  local _, err = p:create_batch_inference_job {
    jobName = "mlpz-check", solutionVersionArn = sv,
    roleArn = "arn:aws:iam::123456789012:role/PersonalizeBatch",
    jobInput = { s3DataSource = { path = "s3://b/input/x.json" } },
    jobOutput = { s3DataDestination = { path = "s3://b/output/" } } }
  t.eq(err.code, "ResourceAlreadyExistsException")
end)

t.test("unknown campaign: ResourceNotFoundException with a request id", function()
  local r, err = p:describe_campaign { campaignArn = ARN .. "campaign/none" }
  t.eq(r, nil)
  t.eq(err.code, "ResourceNotFoundException")
  t.eq(err.status, 404)
  t.ok(err.request_id, "request id")
  t.ok(tostring(err):find("ResourceNotFoundException: ", 1, true), tostring(err))
end)

t.test("a body that is not JSON is an error, not a crash", function()
  local url = os.getenv("AWS_ENDPOINT_URL")
  os.execute("curl -s -X POST -d '{\"path_or_op\": \"DescribeCampaign\", \"faults\": [\"badjson\"]}' "
    .. url .. "/__faults > /dev/null")
  local r, err = p:describe_campaign { campaignArn = ARN .. "campaign/rerank" }
  t.eq(r, nil)
  t.eq(err.code, "SerializationException")
end)

t.test("bad arguments are programmer errors", function()
  t.raises(function() p:get_recommendations("42") end, "must be a table")
  t.raises(function() p:call("list campaigns", {}) end, "operation must be a name")
  t.eq(cjson.encode({}), "{}")
end)

t.done()
