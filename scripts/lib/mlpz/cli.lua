-- Command-line handling shared by every demo script: the common flags, one
-- positional id, --help text, and the error conventions (exit status 2 for
-- bad input, 3 for AWS failures), so all scripts behave the same way.
local M = {}

M.EXIT_USAGE = 2
M.EXIT_AWS = 3

-- Flags every demo understands. `key` is the field in the parsed table;
-- `kind` says how the value is read.
local COMMON = {
  { short = "-u", long = "--user-id", key = "user", kind = "id", arg = "ID",
    help = "user id (same as the positional id where the script takes a user)" },
  { short = "-i", long = "--item-id", key = "items", kind = "list", arg = "ID[,ID...]",
    help = "item id, or comma-separated item ids", alias = "--item-ids" },
  { short = "-n", long = "--num-results", key = "num_results", kind = "int", arg = "N",
    help = "number of results to request (1-500)", min = 1, max = 500 },
  { long = "--seed", key = "seed", kind = "int", arg = "N",
    help = "seed for random picks, so a run can be reproduced", min = 0 },
  { long = "--data", key = "data", kind = "string", arg = "DIR",
    help = "MovieLens folder (default: $MLPZ_DATA, ./data, .)" },
  { long = "--format", key = "format", kind = "choice", arg = "FMT",
    choices = { table = true, json = true, csv = true },
    help = "output format: table (default), json or csv" },
  { short = "-c", long = "--campaign-arn", key = "campaign_arn", kind = "string", arg = "ARN",
    help = "Personalize campaign ARN (default: the embedded local recommender)" },
  { long = "--recommender-arn", key = "recommender_arn", kind = "string", arg = "ARN",
    help = "Personalize recommender ARN (domain dataset groups), instead of -c" },
  { long = "--filter-arn", key = "filter_arn", kind = "string", arg = "ARN",
    help = "Personalize filter to apply to the recommendations" },
  { long = "--filter-values", key = "filter_values", kind = "json_object", arg = "JSON",
    help = "values of the filter's placeholders, e.g. '{\"GENRE\": \"\\\"Comedy\\\"\"}'" },
  { short = "-r", long = "--region", key = "region", kind = "string", arg = "REGION",
    help = "AWS region (default: the ARN's, then AWS_REGION, the profile's)" },
  { long = "--profile", key = "profile", kind = "string", arg = "NAME",
    help = "profile of ~/.aws/credentials and ~/.aws/config" },
  { long = "--endpoint-url", key = "endpoint_url", kind = "string", arg = "URL",
    help = "send Personalize calls to this URL instead of AWS's endpoint" },
  { short = "-b", long = "--bucket", key = "bucket", kind = "string", arg = "BUCKET",
    help = "S3 bucket for batch files" },
  { short = "-h", long = "--help", key = "help", kind = "flag", help = "show this help and exit" },
}

local function script_name()
  local s = arg and arg[0] or "mlpz-lua"
  return s:match("[^/]+$") or s
end

-- Prints "script: message" on stderr and exits with `status` (default 2).
function M.fail(message, status)
  io.stderr:write(script_name(), ": ", message, "\n")
  os.exit(status or M.EXIT_USAGE)
end

local function usage(spec, options)
  local out = { string.format("usage: mlpz-lua %s %s", script_name(), spec.usage or "[options]") }
  if spec.description then out[#out + 1] = "\n" .. spec.description end
  out[#out + 1] = "\noptions:"
  for _, o in ipairs(options) do
    local names = (o.short and (o.short .. ", ") or "    ") .. o.long
    if o.arg then names = names .. " " .. o.arg end
    out[#out + 1] = string.format("  %-28s %s", names, o.help)
  end
  if spec.epilog then out[#out + 1] = "\n" .. spec.epilog end
  return table.concat(out, "\n") .. "\n"
end

local function read_value(o, raw)
  if o.kind == "int" then
    local n = math.tointeger(tonumber(raw))
    if not n or (o.min and n < o.min) or (o.max and n > o.max) then
      local range = o.max and string.format(" from %d to %d", o.min, o.max)
        or (o.min and string.format(" >= %d", o.min) or "")
      return nil, string.format("%s needs a whole number%s, got '%s'", o.long, range, raw)
    end
    return n
  elseif o.kind == "number" then
    local n = tonumber(raw)
    if not n or n ~= n or (o.min and n < o.min) or (o.max and n > o.max) then
      return nil, string.format("%s needs a number from %s to %s, got '%s'", o.long,
        tostring(o.min), tostring(o.max), raw)
    end
    return n
  elseif o.kind == "list" then
    local list = {}
    for id in raw:gmatch("[^,%s]+") do list[#list + 1] = id end
    if #list == 0 then return nil, o.long .. " needs at least one id" end
    return list
  elseif o.kind == "choice" then
    if not o.choices[raw] then
      local names = {}
      for k in pairs(o.choices) do names[#names + 1] = k end
      table.sort(names)
      return nil, string.format("%s must be one of %s, got '%s'", o.long,
        table.concat(names, ", "), raw)
    end
    return raw
  elseif o.kind == "json_object" then
    local ok, v = pcall(require("cjson").decode, raw)
    if not ok or type(v) ~= "table" then
      return nil, string.format("%s needs a JSON object, got '%s'", o.long, raw)
    end
    return v
  elseif raw == "" then
    return nil, o.long .. " needs a non-empty value"
  end
  return raw
end

-- Parses `args` (the script's `arg` table) against the common flags plus
-- spec.options (same shape as COMMON). spec.positional names the field the
-- single positional id fills ("user" or "items"...). Returns the options
-- table; on --help prints usage and exits 0; on bad input exits 2.
function M.parse(args, spec)
  local options = {}
  for _, o in ipairs(spec.options or {}) do options[#options + 1] = o end
  for _, o in ipairs(COMMON) do options[#options + 1] = o end
  local by_name = {}
  for _, o in ipairs(options) do
    if o.short then by_name[o.short] = by_name[o.short] or o end
    by_name[o.long] = by_name[o.long] or o
    if o.alias then by_name[o.alias] = by_name[o.alias] or o end
  end

  local parsed, positionals = { format = "table" }, {}
  for _, o in ipairs(options) do
    if o.default ~= nil and parsed[o.key] == nil then parsed[o.key] = o.default end
  end
  local i, only_positionals = 1, false
  while args[i] ~= nil do
    local a = args[i]
    if only_positionals or a == "-" or a:sub(1, 1) ~= "-" then
      positionals[#positionals + 1] = a
    elseif a == "--" then
      only_positionals = true
    else
      local name, inline = a:match("^(%-%-[^=]+)=(.*)$")
      name = name or a
      local o = by_name[name]
      if not o then
        M.fail(string.format("unknown option '%s' (try --help)", name))
      end
      if o.kind == "flag" then
        if inline then M.fail(o.long .. " takes no value") end
        parsed[o.key] = true
      else
        local raw = inline
        if raw == nil then
          i = i + 1
          raw = args[i]
          if raw == nil then M.fail(string.format("%s needs a value %s", name, o.arg)) end
        end
        local v, err = read_value(o, raw)
        if v == nil then M.fail(err) end
        parsed[o.key] = v
      end
    end
    i = i + 1
  end

  if parsed.help then
    io.stdout:write(usage(spec, options))
    os.exit(0)
  end
  local max = spec.positional and 1 or 0
  if #positionals > max then
    M.fail(string.format("unexpected argument '%s' (try --help)", positionals[max + 1]))
  end
  if positionals[1] then
    local key = spec.positional
    if parsed[key] ~= nil then
      M.fail(string.format("the %s is given twice ('%s' and an option)", key, positionals[1]))
    end
    if key == "items" then
      parsed.items = read_value({ kind = "list", long = "item id" }, positionals[1])
    else
      parsed[key] = positionals[1]
    end
  end
  return parsed
end

return M
