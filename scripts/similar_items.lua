-- SIMILAR_ITEMS demo: a movie beside the movies the recommender finds
-- similar to it.
local cli = require "mlpz.cli"
local demo = require "mlpz.demo"
local report = require "mlpz.report"

local SHOWN = 20

local opts = cli.parse(arg, {
  usage = "[item] [options]",
  description = "Shows a movie beside the movies similar to it (a random movie\n"
    .. "when none is given).",
  positional = "items",
})
local ds = demo.open_dataset(opts)
local out = report.new(opts.format)

if opts.items and #opts.items > 1 then
  cli.fail("similar_items.lua takes one item id, got " .. #opts.items)
end
local note
local item = opts.items and opts.items[1]
if not item then
  item = ds:random_movies(1)[1]
  note = "No item_id provided so randomly selecting a movie from the movies dataset"
end
demo.check_item(ds, item)
local rec = demo.open_backend(opts, ds, "similar_items")
local movie = ds:movie(item)
out:section("ITEM INFO", {
  note = note,
  fields = { { "item_id", item }, { "Title", movie.title },
    { "Genres", table.concat(movie.genres, "|") } },
})

local n = opts.num_results or 50
local result = demo.check_result("GetRecommendations", rec:similar { item = item, n = n })
local shown = table.move(result.items, 1, SHOWN, 1, {})
local headers, rows = report.item_rows(ds, shown, false)
out:section("ITEM RECOMMENDATIONS", {
  note = string.format("First %d of %d similar items from the %s", #shown, #result.items, result.source),
  headers = headers, rows = rows,
})
out:finish()
