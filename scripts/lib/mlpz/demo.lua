-- What every demo does before its own work: open the dataset named by the
-- flags, open the backend, check ids, and pick random ones reproducibly.
-- Failures end the script with one line on stderr (status 2 for bad input,
-- 3 for recommender/AWS failures), never a traceback.
local cli = require "mlpz.cli"
local dataset = require "mlpz.dataset"
local backend = require "mlpz.backend"
local config = require "mlpz.config"

local M = {}

local thousands = require("mlpz.report").thousands

-- Opens the dataset (opts.data, $MLPZ_DATA, ./data, .) seeded with
-- opts.seed.
function M.open_dataset(opts)
  local ds, err = dataset.open { dir = opts.data, seed = opts.seed }
  if not ds then cli.fail(err) end
  return ds
end

-- The flags completed from the environment and config files (mlpz.config)
-- for the demo named `demo`, without changing opts; a bad config file ends
-- the script with one line.
function M.settings(opts, demo)
  local settings, err = config.resolve(setmetatable({}, { __index = opts }), demo)
  if not settings then cli.fail(err) end
  return settings
end

-- Says on stderr what was loaded.
function M.announce_dataset(ds)
  local s = ds:stats()
  io.stderr:write(string.format("Loaded %s movies and %s interactions (%s users) from %s\n",
    thousands(s.movies), thousands(s.interactions), thousands(s.users), s.dir))
end

-- Opens the backend once the script's ids are checked, so that a bad id
-- gets its one-line error alone, and says on stderr what was loaded and
-- which recommender answers. `demo` names the script's campaign in the
-- environment and config files (see mlpz.config).
function M.open_backend(opts, ds, demo)
  local settings = M.settings(opts, demo)
  local rec, err = backend.open {
    dataset = ds, campaign_arn = settings.campaign_arn, recommender_arn = settings.recommender_arn,
    -- Only a --region flag overrides the region an ARN names.
    region = opts.region, profile = settings.profile, endpoint_url = settings.endpoint_url,
    filter_arn = settings.filter_arn, filter_values = settings.filter_values,
  }
  if not rec then cli.fail(err, cli.EXIT_AWS) end
  M.announce_dataset(ds)
  if rec.kind == "local" then
    io.stderr:write("No campaign ARN given (-c): using the embedded local recommender\n")
  else
    io.stderr:write("Using the " .. rec.source .. "\n")
  end
  return rec
end

-- Range of the numeric ids in a list, to tell users what is valid.
local function id_range(ids)
  local lo, hi
  for _, id in ipairs(ids) do
    local n = tonumber(id)
    if n then lo, hi = math.min(lo or n, n), math.max(hi or n, n) end
  end
  return lo and string.format("ids %d to %d", lo, hi) or "see the data files"
end

function M.check_user(ds, user)
  if not ds:has_user(user) then
    local ids = ds:user_ids()
    cli.fail(string.format(
      "unknown user id '%s': this dataset has %s users (%s); omit the id for a random user",
      user, thousands(#ids), id_range(ids)))
  end
  return user
end

function M.check_item(ds, item)
  if not ds:movie(item) then
    local ids = ds:movie_ids()
    cli.fail(string.format(
      "unknown item id '%s': not in movies.csv (%s movies, %s); find ids with "
        .. "mlpz-lua -e \"for _, m in ipairs(require('mlpz.dataset').open():search('toy story')) do print(m.id, m.title) end\"",
      item, thousands(#ids), id_range(ids)))
  end
  return item
end

-- What to check for each AWS error code a demo can meet.
local HINTS = {
  ResourceNotFoundException = "check the ARN and its region (`aws personalize list-campaigns` lists them)",
  InvalidSignatureException = "check the secret access key of your AWS credentials",
  SignatureDoesNotMatch = "check the secret access key of your AWS credentials",
  UnrecognizedClientException = "check your AWS access key id, or choose another --profile",
  InvalidClientTokenId = "check your AWS access key id, or choose another --profile",
  ExpiredTokenException = "the session token has expired: refresh your credentials (e.g. `aws sso login`)",
  AccessDeniedException = "your AWS identity is not allowed this call: check its IAM policy",
  ThrottlingException = "Personalize kept throttling after every retry: try again later or raise "
    .. "the campaign's minProvisionedTPS",
  ConnectionError = "check your network, the region and --endpoint-url",
  Timeout = "no answer in time: check your network, the region and --endpoint-url",
}

-- Ends the script with status 3 and one line: what failed, the AWS error
-- (err is an mlpz.aws error table {code, message, status, request_id}, or
-- a string) and what to check.
function M.fail_aws(what, err)
  local text, hint = tostring(err), nil
  if type(err) == "table" then
    hint = HINTS[err.code]
    -- AWS appends the expected canonical request to signature errors, on
    -- lines of their own: the first line says it all.
    local message = tostring(err.message or ""):match("^[^\n]*")
    text = string.format("%s: %s", tostring(err.code), message)
    if err.status then text = text .. string.format(" (HTTP %s", tostring(err.status))
      .. (err.request_id and (", request id " .. tostring(err.request_id)) or "") .. ")" end
  end
  cli.fail(string.format("%s failed: %s%s", what, text:gsub("%s+", " "), hint and ("; " .. hint) or ""),
    cli.EXIT_AWS)
end

-- Returns result, or ends the script through fail_aws when a backend call
-- returned nil, err. `what` comes first so the call's results can be
-- passed whole: demo.check_result("GetRecommendations", rec:recommend{...}).
function M.check_result(what, result, err)
  if result then return result end
  M.fail_aws(what, err)
end

-- Writes text to path through a temporary file beside it and a rename, so
-- a failure never leaves a half-written file; fails the script (status 2)
-- with one line otherwise.
function M.write_file(path, text)
  local tmp = string.format("%s.tmp-%d", path, math.random(1, 1 << 30))
  -- io.open's message already starts with the file name.
  local f, err = io.open(tmp, "wb")
  if not f then cli.fail("cannot write " .. err .. " (is the folder writable?)") end
  local ok, werr = f:write(text)
  local closed, cerr = f:close()
  if not ok or not closed then
    os.remove(tmp)
    cli.fail("cannot write " .. tmp .. ": " .. tostring(werr or cerr))
  end
  local renamed, rerr = os.rename(tmp, path)
  if not renamed then
    os.remove(tmp)
    cli.fail("cannot rename " .. tmp .. " to " .. path .. ": " .. tostring(rerr))
  end
end

return M
