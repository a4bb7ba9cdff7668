-- PERSONALIZED_RANKING demo: a list of movies as given, then reranked for
-- a user, beside that user's history.
local cli = require "mlpz.cli"
local demo = require "mlpz.demo"
local report = require "mlpz.report"
local tbl = require "mlpz.table"

local LIST_SIZE = 20

local opts = cli.parse(arg, {
  usage = "[user] [-i id,id,...] [options]",
  description = "Reranks a list of movies for a user (20 random movies when -i is\n"
    .. "not given; a random user when none is given).",
  positional = "user",
})
local ds = demo.open_dataset(opts)
local out = report.new(opts.format)

local user, note = opts.user, nil
if not user then
  user = ds:random_users(1)[1]
  note = "No user_id provided so randomly selecting a user from the interactions dataset"
end
demo.check_user(ds, user)
out:section("USER INFO", { note = note, fields = { { "user_id", user } } })

local items = opts.items
note = nil
if items then
  for _, id in ipairs(items) do demo.check_item(ds, id) end
else
  items = ds:random_movies(LIST_SIZE)
  note = string.format("No item_ids provided so randomly selecting %d movies from the movies dataset",
    LIST_SIZE)
end
local rec = demo.open_backend(opts, ds, "ranking")
local _, item_rows = report.item_rows(ds, items, false)
for i, row in ipairs(item_rows) do item_rows[i] = { row[2], row[3] } end
out:section("ITEM IDS INFO", {
  note = note, fields = { { "item_ids", items } },
  headers = { "TITLE", "GENRES" }, rows = item_rows,
})

local headers, rows = report.history_rows(ds, user, 20)
out:section("RECENT USER INTERACTIONS", { headers = headers, rows = rows })
headers, rows = report.genre_rows(ds:top_genres(user))
out:section("USER TOP GENRES", { headers = headers, rows = rows })

local result = demo.check_result("GetPersonalizedRanking", rec:rank { user = user, items = items })
headers, rows = report.item_rows(ds, result.items, true)
out:section("RERANKED ITEMS", {
  note = "Ranked by the " .. result.source .. "; items it cannot score come last with no score",
  headers = headers, rows = rows,
})
out:section("UNRANKED vs RERANKED ITEMS", {
  headers = { "Unranked Movies", "Reranked Movies" },
  rows = tbl.side_by_side({ report.titles(ds, items), report.titles(ds, result.items) }),
})
out:finish()
