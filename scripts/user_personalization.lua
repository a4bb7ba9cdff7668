-- USER_PERSONALIZATION demo: a user's recent history and favourite genres
-- beside what the recommender suggests for them.
local cli = require "mlpz.cli"
local demo = require "mlpz.demo"
local report = require "mlpz.report"
local tbl = require "mlpz.table"

local SHOWN = 20

local opts = cli.parse(arg, {
  usage = "[user] [options]",
  description = "Shows a user's recent interactions and top genres beside the\n"
    .. "recommendations for them (a random user when none is given).",
  positional = "user",
})
local ds = demo.open_dataset(opts)
local out = report.new(opts.format)

local note
local user = opts.user
if not user then
  user = ds:random_users(1)[1]
  note = "No user_id provided so randomly selecting a user from the interactions dataset"
end
demo.check_user(ds, user)
local rec = demo.open_backend(opts, ds, "user_personalization")
out:section("USER INFO", { note = note, fields = { { "user_id", user } } })

local headers, rows = report.history_rows(ds, user, SHOWN)
out:section("RECENT USER INTERACTIONS", { headers = headers, rows = rows })

local user_genres = ds:top_genres(user)
headers, rows = report.genre_rows(user_genres)
out:section("USER TOP GENRES", { headers = headers, rows = rows })

local n = opts.num_results or 50
local result = demo.check_result("GetRecommendations", rec:recommend { user = user, n = n })
local shown = table.move(result.items, 1, SHOWN, 1, {})
headers, rows = report.item_rows(ds, shown, true)
out:section("USER RECOMMENDATIONS", {
  note = string.format("First %d of %d recommendations from the %s", #shown, #result.items, result.source),
  headers = headers, rows = rows,
})

local rec_genres = ds:top_genres(report.ids(result.items))
out:section("TOP USER vs RECOMMENDATIONS GENRES", {
  headers = { "User Top Genres", "Recs Top Genres" },
  rows = tbl.side_by_side({ report.genre_names(user_genres), report.genre_names(rec_genres) }),
})
out:finish()
