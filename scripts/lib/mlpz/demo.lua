-- What every demo does before its own work: open the dataset named by the
-- flags, open the backend, check ids, and pick random ones reproducibly.
-- Failures end the script with one line on stderr (status 2 for bad input,
-- 3 for recommender/AWS failures), never a traceback.
local cli = require "mlpz.cli"
local dataset = require "mlpz.dataset"
local backend = require "mlpz.backend"

local M = {}

local function thousands(n)
  local s = tostring(n)
  while true do
    local t, k = s:gsub("^(%d+)(%d%d%d)", "%1,%2")
    s = t
    if k == 0 then return s end
  end
end
M.thousands = thousands

-- Opens the dataset (opts.data, $MLPZ_DATA, ./data, .) seeded with
-- opts.seed.
function M.open_dataset(opts)
  local ds, err = dataset.open { dir = opts.data, seed = opts.seed }
  if not ds then cli.fail(err) end
  return ds
end

-- Opens the backend once the script's ids are checked, so that a bad id
-- gets its one-line error alone, and says on stderr what was loaded and
-- which recommender answers.
function M.open_backend(opts, ds)
  local rec, err = backend.open {
    dataset = ds, campaign_arn = opts.campaign_arn, region = opts.region,
  }
  if not rec then cli.fail(err, cli.EXIT_AWS) end
  local s = ds:stats()
  io.stderr:write(string.format("Loaded %s movies and %s interactions (%s users) from %s\n",
    thousands(s.movies), thousands(s.interactions), thousands(s.users), s.dir))
  if rec.kind == "local" then
    io.stderr:write("No campaign ARN given (-c): using the embedded local recommender\n")
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

-- Fails with status 3 when a backend call returned nil, err.
function M.check_result(result, err, what)
  if not result then cli.fail(what .. " failed: " .. tostring(err), cli.EXIT_AWS) end
  return result
end

return M
