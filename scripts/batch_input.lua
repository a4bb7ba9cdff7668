-- Writes a batch inference input file in Personalize's JSON Lines format,
-- for one of the three job types, from random users and movies.
local cli = require "mlpz.cli"
local demo = require "mlpz.demo"
local cjson = require "cjson"

local TYPES = {
  ["user-personalization"] = true,
  ["similar-items"] = true,
  ["personalized-ranking"] = true,
}
local RECORDS, ITEMS_PER_RANK = 50, 20

local opts = cli.parse(arg, {
  usage = "<user-personalization|similar-items|personalized-ranking> [options]",
  description = string.format(
    "Writes batch-input-<type>-<YYYYmmdd-HHMMSS>.json (UTC time) in the current folder:\n"
      .. "%d JSON Lines records of {\"userId\"}, {\"itemId\"} or {\"userId\", \"itemList\"}\n"
      .. "with %d items, ready for a Personalize batch inference job.", RECORDS, ITEMS_PER_RANK),
  positional = "type",
  options = {
    { long = "--prefix", key = "prefix", kind = "string", arg = "PREFIX",
      help = "S3 key prefix for -b uploads (default input/)" },
  },
  epilog = "With -b BUCKET the file is also uploaded to s3://BUCKET/PREFIXNAME (the region,\n"
    .. "--profile and --endpoint-url apply to S3 here).",
})
local kind = opts.type
if not kind or not TYPES[kind] then
  cli.fail(string.format("%s: the job type must be user-personalization, similar-items or "
    .. "personalized-ranking", kind and ("unknown type '" .. kind .. "'") or "missing type"))
end
local ds = demo.open_dataset(opts)

-- Same layout as Python's json.dumps, which Personalize's samples use.
local function record(fields)
  local parts = {}
  for _, f in ipairs(fields) do
    local v = f[2]
    if type(v) == "table" then
      local items = {}
      for i, id in ipairs(v) do items[i] = cjson.encode(id) end
      v = "[" .. table.concat(items, ", ") .. "]"
    else
      v = cjson.encode(v)
    end
    parts[#parts + 1] = cjson.encode(f[1]) .. ": " .. v
  end
  return "{" .. table.concat(parts, ", ") .. "}\n"
end

local lines = {}
if kind == "similar-items" then
  for _, id in ipairs(ds:random_movies(RECORDS)) do lines[#lines + 1] = record { { "itemId", id } } end
else
  for _, user in ipairs(ds:random_users(RECORDS)) do
    if kind == "user-personalization" then
      lines[#lines + 1] = record { { "userId", user } }
    else
      lines[#lines + 1] = record { { "userId", user }, { "itemList", ds:random_movies(ITEMS_PER_RANK) } }
    end
  end
end

local name = string.format("batch-input-%s-%s.json", kind, os.date("!%Y%m%d-%H%M%S"))
-- Written beside its final name and renamed, so a failure never leaves a
-- half-written input file that a job could pick up.
local tmp = string.format("%s.tmp-%d", name, math.random(1, 1 << 30))
-- io.open's message already starts with the file name.
local f, err = io.open(tmp, "wb")
if not f then cli.fail("cannot write " .. err .. " (is the folder writable?)") end
local ok, werr = f:write(table.concat(lines))
local closed, cerr = f:close()
if not ok or not closed then
  os.remove(tmp)
  cli.fail("cannot write " .. tmp .. ": " .. tostring(werr or cerr))
end
local renamed, rerr = os.rename(tmp, name)
if not renamed then
  os.remove(tmp)
  cli.fail("cannot rename " .. tmp .. " to " .. name .. ": " .. rerr)
end
print(string.format("Wrote %d %s records to %s", #lines, kind, name))

local settings, cerr = require("mlpz.config").resolve(setmetatable({}, { __index = opts }))
if not settings then cli.fail(cerr) end
if settings.bucket then
  local prefix = settings.prefix or "input/"
  if prefix ~= "" and prefix:sub(-1) ~= "/" then prefix = prefix .. "/" end
  local url = string.format("s3://%s/%s%s", settings.bucket, prefix, name)
  local s3, serr = require("mlpz.s3").new { region = settings.region, profile = settings.profile,
    endpoint_url = settings.endpoint_url }
  local done
  if s3 then
    done, serr = s3:put_object { bucket = settings.bucket, key = prefix .. name, file = name,
      content_type = "application/json" }
  end
  if not done then
    cli.fail(string.format("upload to %s failed: %s (the file is kept in %s)", url,
      tostring(serr):match("^[^\n]*"), name), cli.EXIT_AWS)
  end
  print("Uploaded to " .. url)
end
