-- One recommender interface, two implementations: the embedded local
-- recommender (mlpz.recommender, trained from the dataset) and an Amazon
-- Personalize campaign. Scripts call recommend/similar/rank the same way and
-- get {items = {{id =, score =}, ...}, source = ...} or nil, err.
local M = {}

local Local = {}
Local.__index = Local

local function check_n(n)
  n = n or 25
  if math.type(n) ~= "integer" or n < 1 or n > 10000 then
    error("n must be an integer from 1 to 10000", 3)
  end
  return n
end

local function wrap(self, list, err)
  if not list then return nil, err end
  return { items = list, source = self.source }
end

function Local:recommend(req)
  return wrap(self, self.model:recommend(req.user, check_n(req.n),
    { exclude_seen = req.exclude_seen }))
end

function Local:similar(req)
  return wrap(self, self.model:similar(req.item, check_n(req.n)))
end

function Local:rank(req)
  if type(req.items) ~= "table" then error("rank needs items, a list of ids", 2) end
  return wrap(self, self.model:rank(req.user, req.items))
end

local function open_local(opts)
  local ds = opts.dataset
  if not ds then error("backend.open{kind = 'local'} needs dataset = ds", 3) end
  local model = require("mlpz.recommender").new(ds)
  return setmetatable({ kind = "local", model = model,
    source = "embedded local recommender" }, Local)
end

-- Personalize: the runtime API of a campaign or a recommender.
local Remote = {}
Remote.__index = Remote

local ARN_KINDS = { campaign = true, recommender = true, filter = true }

-- Checks an ARN of the given kind; returns its region, or nil, err.
function M.parse_arn(arn, kind)
  local partition, region, account, rkind, name =
    tostring(arn):match("^arn:(aws[%w%-]*):personalize:([%w%-]+):(%d+):(%a+)/([%w%-_%.]+)$")
  if not partition or #account ~= 12 or rkind ~= kind or not ARN_KINDS[kind] then
    return nil, string.format("'%s' is not a Personalize %s ARN "
      .. "(expected arn:aws:personalize:REGION:ACCOUNT:%s/NAME)", tostring(arn), kind, kind)
  end
  return region, name
end

function Remote:target(params)
  if self.campaign_arn then params.campaignArn = self.campaign_arn
  else params.recommenderArn = self.recommender_arn end
  if self.filter_arn then
    params.filterArn = self.filter_arn
    params.filterValues = self.filter_values
  end
  return params
end

local function items_of(list, err)
  if not list then return nil, err end
  local items = {}
  for i, it in ipairs(list) do
    -- JSON null decodes to cjson.null, a lightuserdata: no score.
    items[i] = { id = it.itemId, score = type(it.score) == "number" and it.score or nil }
  end
  return items
end

function Remote:recommend(req)
  local resp, err = self.client:get_recommendations(self:target {
    userId = tostring(req.user), numResults = check_n(req.n) })
  if not resp then return nil, err end
  return { items = items_of(resp.itemList or {}), source = self.source,
    recommendation_id = resp.recommendationId }
end

function Remote:similar(req)
  local resp, err = self.client:get_recommendations(self:target {
    itemId = tostring(req.item), numResults = check_n(req.n) })
  if not resp then return nil, err end
  return { items = items_of(resp.itemList or {}), source = self.source,
    recommendation_id = resp.recommendationId }
end

function Remote:rank(req)
  if type(req.items) ~= "table" then error("rank needs items, a list of ids", 2) end
  if not self.campaign_arn then
    return nil, "GetPersonalizedRanking needs a campaign ARN (-c): recommenders do not rerank"
  end
  local ids = {}
  for i, id in ipairs(req.items) do ids[i] = tostring(id) end
  local params = self:target { userId = tostring(req.user), inputList = ids }
  local resp, err = self.client:get_personalized_ranking(params)
  if not resp then return nil, err end
  return { items = items_of(resp.personalizedRanking or {}), source = self.source,
    recommendation_id = resp.recommendationId }
end

local function open_personalize(opts)
  local arn, kind = opts.campaign_arn, "campaign"
  if not arn then arn, kind = opts.recommender_arn, "recommender" end
  if not arn then return nil, "the personalize backend needs campaign_arn or recommender_arn" end
  local arn_region, err = M.parse_arn(arn, kind)
  if not arn_region then return nil, err end
  if opts.filter_arn then
    local ok, ferr = M.parse_arn(opts.filter_arn, "filter")
    if not ok then return nil, ferr end
  end
  local client
  client, err = require("mlpz.personalize").new {
    -- The campaign lives in its ARN's region unless one is forced.
    region = opts.region or arn_region, profile = opts.profile,
    endpoint_url = opts.endpoint_url, credentials = opts.credentials,
    timeout = opts.timeout, connect_timeout = opts.connect_timeout,
    max_attempts = opts.max_attempts,
  }
  if not client then return nil, err end
  return setmetatable({
    kind = "personalize", client = client, source = "Personalize " .. kind .. " " .. arn,
    campaign_arn = kind == "campaign" and arn or nil,
    recommender_arn = kind == "recommender" and arn or nil,
    filter_arn = opts.filter_arn, filter_values = opts.filter_values,
  }, Remote)
end

-- opts.kind: "local" (default when no campaign or recommender ARN is given)
-- or "personalize" (opts: campaign_arn or recommender_arn, region, profile,
-- endpoint_url, filter_arn, filter_values, credentials, timeout...).
function M.open(opts)
  opts = opts or {}
  local kind = opts.kind
    or ((opts.campaign_arn or opts.recommender_arn) and "personalize" or "local")
  if kind == "local" then
    return open_local(opts)
  elseif kind == "personalize" then
    return open_personalize(opts)
  end
  error("unknown backend kind '" .. tostring(kind) .. "' (use local or personalize)", 2)
end

return M
