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

-- opts.kind: "local" (default when no campaign or recommender ARN is given)
-- or "personalize".
function M.open(opts)
  opts = opts or {}
  local kind = opts.kind
    or ((opts.campaign_arn or opts.recommender_arn) and "personalize" or "local")
  if kind == "local" then
    return open_local(opts)
  elseif kind == "personalize" then
    return nil, "the Personalize backend is not part of this build yet; "
      .. "run without -c/--campaign-arn to use the embedded local recommender"
  end
  error("unknown backend kind '" .. tostring(kind) .. "' (use local or personalize)", 2)
end

return M
