-- Amazon Personalize clients, thin and faithful: requests are tables with
-- the API's own member names (campaignArn, userId, numResults...) encoded as
-- JSON as they are, and responses are the decoded JSON, so any member the
-- API supports passes through without a change here or in C. Signing,
-- retries and error decoding are mlpz.aws's.
local aws = require "mlpz.aws"
local session = require "mlpz.session"
local cjson = require "cjson"

local M = {}

local Client = {}
Client.__index = Client

-- opts: region, profile, endpoint_url (runtime and control plane alike),
-- runtime_endpoint_url, control_endpoint_url, credentials (from
-- aws.credentials), connect_timeout, timeout, max_attempts.
function M.new(opts)
  opts = opts or {}
  local region, creds = session.resolve(opts)
  if not region then return nil, creds end
  return setmetatable({ opts = opts, region = region, credentials = creds }, Client)
end

-- The aws.client of one endpoint, made on first use and then reused so
-- every call to it shares one keep-alive connection.
function Client:endpoint(service)
  local c = self[service]
  if c then return c end
  local o = self.opts
  local url = (service == "personalize-runtime" and o.runtime_endpoint_url)
    or (service == "personalize" and o.control_endpoint_url) or o.endpoint_url
  local err
  c, err = aws.client {
    service = service, region = self.region, profile = o.profile, endpoint_url = url,
    credentials = self.credentials, connect_timeout = o.connect_timeout,
    timeout = o.timeout, max_attempts = o.max_attempts,
  }
  if not c then return nil, err end
  self[service] = c
  return c
end

local BadResponse = {
  __tostring = function(e)
    return string.format("%s: %s (HTTP %s, request id %s)", e.code, e.message,
      tostring(e.status), tostring(e.request_id))
  end,
}

local function decode(resp)
  if resp.body == nil or resp.body == "" then return {} end
  local ok, doc = pcall(cjson.decode, resp.body)
  if not ok or type(doc) ~= "table" then
    return nil, setmetatable({ code = "SerializationException", status = resp.status,
      request_id = resp.headers["x-amzn-requestid"], retryable = false,
      message = "the response is not a JSON object" }, BadResponse)
  end
  return doc
end

local function post(self, service, path, headers, params)
  if type(params) ~= "table" then error("the request must be a table of API members", 3) end
  local c, err = self:endpoint(service)
  if not c then return nil, err end
  local resp
  resp, err = c:request { method = "POST", path = path, headers = headers,
    body = cjson.encode(params) }
  if not resp then return nil, err end
  return decode(resp)
end

local RUNTIME_JSON = { ["content-type"] = "application/json" }

-- Runtime (rest-json): POST to the operation's URI with the members as body.
function Client:get_recommendations(params)
  return post(self, "personalize-runtime", "/recommendations", RUNTIME_JSON, params)
end

function Client:get_personalized_ranking(params)
  return post(self, "personalize-runtime", "/personalize-ranking", RUNTIME_JSON, params)
end

function Client:get_action_recommendations(params)
  return post(self, "personalize-runtime", "/action-recommendations", RUNTIME_JSON, params)
end

-- Control plane (JSON 1.1): every operation is a POST to / named by
-- X-Amz-Target.
function Client:call(op, params)
  if type(op) ~= "string" or not op:match("^%u%a+$") then
    error("operation must be a name like 'ListCampaigns'", 2)
  end
  return post(self, "personalize", "/", {
    ["content-type"] = "application/x-amz-json-1.1",
    ["x-amz-target"] = "AmazonPersonalize." .. op,
  }, params or {})
end

for method, op in pairs {
  create_batch_inference_job = "CreateBatchInferenceJob",
  describe_batch_inference_job = "DescribeBatchInferenceJob",
  list_batch_inference_jobs = "ListBatchInferenceJobs",
  list_campaigns = "ListCampaigns",
  describe_campaign = "DescribeCampaign",
  describe_solution_version = "DescribeSolutionVersion",
  get_solution_metrics = "GetSolutionMetrics",
} do
  Client[method] = function(self, params) return self:call(op, params) end
end

-- Iterates over every element of a paginated List* operation, following
-- nextToken: `for c in client:pages("ListCampaigns", {}, "campaigns") do`.
-- An error ends the loop by raising it; use pcall to keep going.
function Client:pages(op, params, key)
  local request = {}
  for k, v in pairs(params or {}) do request[k] = v end
  local page, index, done = nil, 0, false
  return function()
    while true do
      if page and index < #(page[key] or {}) then
        index = index + 1
        return page[key][index]
      end
      if done then return nil end
      local err
      page, err = self:call(op, request)
      if not page then error(err, 2) end
      index = 0
      request.nextToken = page.nextToken
      done = page.nextToken == nil or page.nextToken == cjson.null
    end
  end
end

return M
