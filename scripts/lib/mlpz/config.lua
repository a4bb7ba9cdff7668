-- Where a demo's Personalize settings come from, most specific first:
-- command-line flags, environment variables, ./mlpz.config.lua, then
-- ~/.config/mlpz/config.lua ($XDG_CONFIG_HOME honoured). Config files are
-- Lua tables, read as data: they run with an empty environment, so they can
-- use no library and touch nothing.
--
--   return {
--     region = "us-east-1", profile = "dev",
--     campaigns = { ranking = "arn:aws:personalize:...:campaign/rerank",
--                   user_personalization = "...", similar_items = "..." },
--     recommenders = { user_personalization = "arn:...:recommender/x" },
--     filter_arn = "arn:...:filter/f",
--   }
local M = {}

-- Settings a config file may hold, and the type each must have.
local KNOWN = {
  region = "string", profile = "string", endpoint_url = "string",
  campaigns = "table", recommenders = "table", filter_arn = "string",
  filter_values = "table", bucket = "string", prefix = "string",
}

function M.paths()
  local home = os.getenv("HOME")
  local xdg = os.getenv("XDG_CONFIG_HOME")
  if (not xdg or xdg == "") and home then xdg = home .. "/.config" end
  local paths = { "./mlpz.config.lua" }
  if xdg then paths[#paths + 1] = xdg .. "/mlpz/config.lua" end
  return paths
end

-- Reads one config file: the table, or nil when the file does not exist,
-- or nil, err naming the file when it is not a valid config.
function M.read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local text = f:read("a")
  f:close()
  local chunk, err = load(text, "@" .. path, "t", {})
  if not chunk then return nil, err end
  local ok, conf = pcall(chunk)
  if not ok then return nil, tostring(conf) end
  if type(conf) ~= "table" then
    return nil, path .. ": must return a table (return { campaigns = { ranking = \"arn:...\" } })"
  end
  for k, v in pairs(conf) do
    if not KNOWN[k] then
      return nil, string.format("%s: unknown setting '%s' (known: campaigns, recommenders, "
        .. "region, profile, endpoint_url, filter_arn, filter_values, bucket, prefix)", path, tostring(k))
    end
    if type(v) ~= KNOWN[k] then
      return nil, string.format("%s: '%s' must be a %s, got a %s", path, k, KNOWN[k], type(v))
    end
  end
  return conf
end

local function env(name)
  local v = os.getenv(name)
  if v and v ~= "" then return v end
end

-- Fills opts (the parsed flags) for the demo named `demo`
-- ("ranking", "user_personalization", "similar_items") from the
-- environment and config files, without overriding a flag. Returns opts, or
-- nil, err for a bad config file.
function M.resolve(opts, demo)
  local files = {}
  for _, path in ipairs(M.paths()) do
    local conf, err = M.read(path)
    if err then return nil, err end
    if conf then files[#files + 1] = conf end
  end
  local function from_files(key, sub)
    for _, conf in ipairs(files) do
      local v = conf[key]
      if sub then v = type(v) == "table" and v[sub] or nil end
      if v ~= nil then return v end
    end
  end
  local function pick(key, env_names, file_key, sub)
    if opts[key] ~= nil then return end
    for _, name in ipairs(env_names) do
      local v = env(name)
      if v then opts[key] = v return end
    end
    opts[key] = from_files(file_key or key, sub)
  end
  local function arn_vars(kind)
    local names = { "MLPZ_" .. kind .. "_ARN" }
    if demo then table.insert(names, 1, "MLPZ_" .. demo:upper() .. "_" .. kind .. "_ARN") end
    return names
  end
  -- A campaign and a recommender are alternatives: the first one found,
  -- flags before environment before files, wins.
  if not opts.recommender_arn then pick("campaign_arn", arn_vars("CAMPAIGN"), "campaigns", demo) end
  if not opts.campaign_arn then pick("recommender_arn", arn_vars("RECOMMENDER"), "recommenders", demo) end
  pick("filter_arn", { "MLPZ_FILTER_ARN" })
  pick("filter_values", {})
  -- The AWS variables keep their meaning: a config file only fills in what
  -- they leave unset (mlpz.aws reads them itself).
  pick("region", { "AWS_REGION", "AWS_DEFAULT_REGION" })
  pick("profile", { "AWS_PROFILE" })
  if not (env("AWS_ENDPOINT_URL") or env("AWS_ENDPOINT_URL_PERSONALIZE")
      or env("AWS_ENDPOINT_URL_PERSONALIZE_RUNTIME") or env("AWS_ENDPOINT_URL_S3")) then
    pick("endpoint_url", {})
  end
  pick("bucket", { "MLPZ_BUCKET" })
  pick("prefix", {})
  return opts
end

return M
