-- Writes a batch inference input file in Personalize's JSON Lines format,
-- for one of the three job types, from random picks or from id files.
local cli = require "mlpz.cli"
local demo = require "mlpz.demo"
local cjson = require "cjson"

local TYPES = {
  ["user-personalization"] = true,
  ["similar-items"] = true,
  ["personalized-ranking"] = true,
}

local opts = cli.parse(arg, {
  usage = "<user-personalization|similar-items|personalized-ranking> [options]",
  description = "Writes a Personalize batch inference input file: JSON Lines records of\n"
    .. "{\"userId\"}, {\"itemId\"} or {\"userId\", \"itemList\"}, laid out as Personalize's\n"
    .. "samples are. By default batch-input-<type>-<YYYYmmdd-HHMMSS>.json (UTC) in the\n"
    .. "current folder, 50 records from random users or movies, 20 items per ranking record.",
  positional = "type",
  options = {
    { long = "--records", key = "records", kind = "int", arg = "N", min = 1, max = 1000000,
      help = "number of records (default 50, or every id of --users/--items)" },
    { long = "--items-per-rank", key = "items_per_rank", kind = "int", arg = "N", min = 1, max = 500,
      help = "items in each personalized-ranking itemList (default 20)" },
    { long = "--users", key = "users_file", kind = "string", arg = "FILE",
      help = "user ids, one per line, instead of random users" },
    { long = "--items", key = "items_file", kind = "string", arg = "FILE",
      help = "item ids, one per line: the records of similar-items, the pool of ranking lists" },
    { short = "-o", long = "--output", key = "output", kind = "string", arg = "FILE",
      help = "output file (default batch-input-<type>-<time>.json)" },
    { long = "--prefix", key = "prefix", kind = "string", arg = "PREFIX",
      help = "S3 key prefix for -b uploads (default input/)" },
  },
  epilog = "With -b BUCKET the file is also uploaded to s3://BUCKET/PREFIX<file name> (the\n"
    .. "region, --profile and --endpoint-url apply to S3 here). Id files may have blank\n"
    .. "lines and # comments; an id the dataset does not know stops the run before\n"
    .. "anything is written.",
})
local kind = opts.type
if not kind or not TYPES[kind] then
  cli.fail(string.format("%s: the job type must be user-personalization, similar-items or "
    .. "personalized-ranking", kind and ("unknown type '" .. kind .. "'") or "missing type"))
end
local ds = demo.open_dataset(opts)

-- Reads ids, one per line; every unknown id is reported as file:line and the
-- run stops before writing anything.
local function read_ids(path, known, what)
  local f, err = io.open(path, "rb")
  if not f then cli.fail("cannot read " .. err) end
  local ids, bad, n = {}, {}, 0
  for line in f:lines() do
    n = n + 1
    local id = line:gsub("#.*", ""):match("^%s*(.-)%s*$")
    if id ~= "" then
      if known(id) then ids[#ids + 1] = id
      else bad[#bad + 1] = string.format("%s:%d: unknown %s id '%s'", path, n, what, id) end
    end
  end
  f:close()
  if #bad > 0 then
    for i = 1, #bad - 1 do io.stderr:write(bad[i], "\n") end
    cli.fail(bad[#bad] .. string.format(" (%d unknown id%s in %s; nothing written)",
      #bad, #bad > 1 and "s" or "", path))
  end
  if #ids == 0 then cli.fail(path .. ": no ids (one id per line)") end
  return ids
end

local users = opts.users_file and read_ids(opts.users_file, function(id) return ds:has_user(id) end, "user")
local items = opts.items_file and read_ids(opts.items_file, function(id) return ds:movie(id) ~= nil end, "item")
local per_rank = opts.items_per_rank or 20
if items and kind == "personalized-ranking" and #items < per_rank then
  cli.fail(string.format("%s has %d items, fewer than --items-per-rank %d", opts.items_file, #items, per_rank))
end

local function first(list, n)
  return n and table.move(list, 1, math.min(n, #list), 1, {}) or list
end

-- n distinct picks from a list (a partial Fisher-Yates shuffle of a copy).
-- Lua's generator is seeded with --seed, so picks from an --items file
-- repeat too.
if opts.seed then math.randomseed(opts.seed) end
local function pick_from(list, n)
  local pool = table.move(list, 1, #list, 1, {})
  for i = 1, n do
    local j = math.random(i, #pool)
    pool[i], pool[j] = pool[j], pool[i]
  end
  return table.move(pool, 1, n, 1, {})
end

-- Same layout as Python's json.dumps, which Personalize's samples use.
local function record(fields)
  local parts = {}
  for _, f in ipairs(fields) do
    local v = f[2]
    if type(v) == "table" then
      local encoded = {}
      for i, id in ipairs(v) do encoded[i] = cjson.encode(id) end
      v = "[" .. table.concat(encoded, ", ") .. "]"
    else
      v = cjson.encode(v)
    end
    parts[#parts + 1] = cjson.encode(f[1]) .. ": " .. v
  end
  return "{" .. table.concat(parts, ", ") .. "}\n"
end

local lines = {}
if kind == "similar-items" then
  for _, id in ipairs(items and first(items, opts.records) or ds:random_movies(opts.records or 50)) do
    lines[#lines + 1] = record { { "itemId", id } }
  end
else
  for _, user in ipairs(users and first(users, opts.records) or ds:random_users(opts.records or 50)) do
    if kind == "user-personalization" then
      lines[#lines + 1] = record { { "userId", user } }
    else
      local list = items and pick_from(items, per_rank) or ds:random_movies(per_rank)
      lines[#lines + 1] = record { { "userId", user }, { "itemList", list } }
    end
  end
end

local name = opts.output or string.format("batch-input-%s-%s.json", kind, os.date("!%Y%m%d-%H%M%S"))
demo.write_file(name, table.concat(lines))
print(string.format("Wrote %d %s records to %s", #lines, kind, name))

local settings = demo.settings(opts)
if settings.bucket then
  local prefix = settings.prefix or "input/"
  if prefix ~= "" and prefix:sub(-1) ~= "/" then prefix = prefix .. "/" end
  local key = prefix .. (name:match("[^/]+$") or name)
  local url = string.format("s3://%s/%s", settings.bucket, key)
  local s3, serr = require("mlpz.s3").new { region = settings.region, profile = settings.profile,
    endpoint_url = settings.endpoint_url }
  local done
  if s3 then
    done, serr = s3:put_object { bucket = settings.bucket, key = key, file = name,
      content_type = "application/json" }
  end
  if not done then demo.fail_aws(string.format("upload of %s (kept here) to %s", name, url), serr) end
  print("Uploaded to " .. url)
end
