-- mlpz.recommender on ml-latest-small, cross-checked against an independent
-- python3 count over ratings.csv (interactions derived as the AWS notebooks
-- do: a click for every rating > 1, a watch for every rating > 3).
local t = dofile "tests/lua/harness.lua"
local dataset = require "mlpz.dataset"
local recommender = require "mlpz.recommender"

local data = assert(os.getenv("MLPZ_DATA"), "MLPZ_DATA is not set")

local PY = [==[
import csv, sys, collections
d = sys.argv[1]
users_of = collections.defaultdict(set)   # movie -> users with a rating > 1
items_of = collections.defaultdict(set)   # user -> movies rated > 1
rows = collections.Counter()              # movie -> interaction rows
ratings = collections.Counter()           # movie -> ratings of any value
for r in csv.DictReader(open(d + "/ratings.csv", newline="")):
    x = float(r["rating"]); u = r["userId"]; m = r["movieId"]
    ratings[m] += 1
    if x > 1:
        users_of[m].add(u); items_of[u].add(m); rows[m] += 1
    if x > 3:
        rows[m] += 1
movies = [r["movieId"] for r in csv.DictReader(open(d + "/movies.csv", newline="", encoding="utf-8"))]
print("pairs", sum(len(s) for s in items_of.values()))
print("rows", sum(rows.values()))
print("users", len(items_of))
def co(q):
    c = collections.Counter()
    for u in users_of[q]:
        for m in items_of[u]:
            if m != q: c[m] += 1
    return c
for q in ("260", "1"):
    c = co(q)
    ranked = sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))
    cut = ranked[49][1]
    # every movie at least as co-occurring as the 50th, so ties do not matter
    print("co" + q, *[m for m, k in ranked if k >= cut])
pop = sorted(rows.items(), key=lambda kv: -kv[1])
print("poprows", *[k for m, k in pop[:30]])
print("rowsof", *[m + "=" + str(k) for m, k in pop[:200]])
print("top", *[m for m, k in pop[:11]])
# a movie rated once (> 1) by the user with the fewest movies
lone = min((m for m in users_of if ratings[m] == 1),
           key=lambda m: (len(items_of[next(iter(users_of[m]))]), int(m)))
lu = next(iter(users_of[lone]))
print("lone", lone, lu, *sorted(items_of[lu] - {lone}))
# a catalogue movie without any interaction
print("dead", min((m for m in movies if m not in users_of), key=int))
for u in ("1", "42", "414"):
    print("seen" + u, *sorted(items_of[u]))
]==]

-- Runs the python cross-check once; returns key -> list of words.
local function python_facts()
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write(PY)
  f:close()
  local p = assert(io.popen("python3 " .. path .. " '" .. data .. "'"))
  local facts = {}
  for line in p:lines() do
    local words = {}
    for w in line:gmatch("%S+") do words[#words + 1] = w end
    facts[table.remove(words, 1)] = words
  end
  p:close()
  os.remove(path)
  return facts
end

local ds = assert(dataset.open { dir = data })
local py = python_facts()
local model = recommender.new(ds)

local function set(list)
  local s = {}
  for _, v in ipairs(list) do s[v] = true end
  return s
end

local function ids(list)
  local out = {}
  for i, e in ipairs(list) do out[i] = e.id end
  return out
end

local function sum(list)
  local s = 0
  for _, e in ipairs(list) do s = s + (e.score or 0) end
  return s
end

local function descending(list)
  for i = 2, #list do
    if list[i].score and list[i - 1].score and list[i].score > list[i - 1].score then
      return false
    end
  end
  return true
end

t.test("python cross-check ran", function()
  t.ok(py.pairs and py.co260 and py.lone and py.dead, "python3 output incomplete")
end)

t.test("info before training", function()
  local info = model:info()
  t.eq(info.trained, false, "trained")
  t.eq(info.users, tonumber(py.users[1]), "users")
  t.eq(info.interactions, tonumber(py.rows[1]), "interactions")
  t.ok(info.items >= 9700, "items " .. info.items)
  t.ok(info.algorithm:find("cosine"), "algorithm " .. info.algorithm)
end)

t.test("train under a second, then info", function()
  local clock = os.clock()
  local secs = model:train()
  local first = model:recommend("1", 10)
  local elapsed = os.clock() - clock
  print(string.format("# train %.4f s, train + first query %.4f s (cpu)", secs, elapsed))
  t.ok(type(secs) == "number" and secs >= 0 and secs < 1, "train seconds " .. tostring(secs))
  t.ok(elapsed < 1, "train + first query took " .. elapsed)
  t.eq(#first, 10)
  local info = model:info()
  t.eq(info.trained, true, "trained")
  t.eq(info.train_seconds, secs, "train_seconds")
  t.eq(info.pairs, tonumber(py.pairs[1]), "distinct user-item pairs")
end)

for _, q in ipairs { "260", "1" } do
  t.test("similar(" .. q .. ") are mostly its top co-occurring movies", function()
    local sims = assert(model:similar(q, 10))
    t.eq(#sims, 10)
    local co = set(py["co" .. q])
    local hits = 0
    for _, e in ipairs(sims) do
      t.ok(e.id ~= q, "the movie itself is excluded")
      t.ok(type(e.score) == "number" and e.score > 0 and e.score <= 1, "score in (0, 1]")
      if co[e.id] then hits = hits + 1 end
    end
    t.ok(hits >= 7, hits .. " of 10 among the 50 most co-occurring")
    t.ok(descending(sims), "scores descending")
  end)
end

t.test("popularity discount: similar(260) is not the global top 10", function()
  local top = set(py.top)
  local outside = 0
  for _, e in ipairs(assert(model:similar("260", 10))) do
    if not top[e.id] then outside = outside + 1 end
  end
  t.ok(outside >= 5, outside .. " of 10 outside the global top 10")
end)

t.test("a movie rated once: its user's other movies, then popular fill", function()
  local movie, user = py.lone[1], py.lone[2]
  local others = {}
  for i = 3, #py.lone do others[#others + 1] = py.lone[i] end
  local sims = assert(model:similar(tonumber(movie), #others + 10))
  t.eq(#sims, #others + 10)
  local scored = {}
  for i = 1, #others do
    t.ok(sims[i].score and sims[i].score > 0, "#" .. i .. " scored")
    scored[#scored + 1] = sims[i].id
  end
  table.sort(scored)
  table.sort(others)
  t.eq(scored, others, "scored items are user " .. user .. "'s other movies")
  for i = #others + 1, #sims do
    t.eq(sims[i].score, nil, "fill #" .. i .. " has no score")
    t.ok(sims[i].id ~= movie, "the movie itself is excluded")
  end
end)

t.test("a movie without interactions: all popular fill", function()
  local sims = assert(model:similar(py.dead[1], 10))
  t.eq(#sims, 10)
  local rows_of = {}
  for _, kv in ipairs(py.rowsof) do
    local m, k = kv:match("^(.-)=(%d+)$")
    rows_of[m] = tonumber(k)
  end
  for i, e in ipairs(sims) do
    t.eq(e.score, nil, "fill #" .. i .. " has no score")
    t.eq(rows_of[e.id], tonumber(py.poprows[i]), "fill #" .. i .. " (" .. e.id .. ") rows")
  end
end)

for _, u in ipairs { "1", "42", "414" } do
  t.test("recommend(" .. u .. ") excludes seen, descending, normalised", function()
    local seen = set(py["seen" .. u])
    local recs = assert(model:recommend(u, 25))
    t.eq(#recs, 25)
    for _, e in ipairs(recs) do
      t.ok(not seen[e.id], e.id .. " was seen by user " .. u)
      t.ok(type(e.score) == "number" and e.score > 0, "positive score")
    end
    t.ok(descending(recs), "scores descending")
    t.ok(sum(recs) <= 1 + 1e-9, "top 25 sum " .. sum(recs))
    t.ok(recs[1].score < 0.1, "top score is a small share: " .. recs[1].score)
    local all = assert(model:recommend(tonumber(u), 10000))
    t.eq(#all, model:info().items - #py["seen" .. u], "every unseen item")
    t.ok(math.abs(sum(all) - 1) < 1e-9, "whole catalogue sums to 1: " .. sum(all))
    t.ok(descending(all), "whole catalogue descending")
  end)
end

t.test("recommend with exclude_seen = false can return seen items", function()
  local seen = set(py.seen1)
  local recs = assert(model:recommend("1", 50, { exclude_seen = false }))
  local n = 0
  for _, e in ipairs(recs) do if seen[e.id] then n = n + 1 end end
  t.ok(n > 0, "no seen item among 50")
  local all = assert(model:recommend("1", 10000, { exclude_seen = false }))
  t.eq(#all, model:info().items)
  t.ok(math.abs(sum(all) - 1) < 1e-9, "sum " .. sum(all))
end)

t.test("rank: permutation, unknown ids last, normalised", function()
  local input = { "1", 260, "2571", "nope", "318", "1", py.dead[1], 356, "x 9", "4993" }
  local ranked = assert(model:rank(42, input))
  local distinct = { "1", "260", "2571", "nope", "318", py.dead[1], "356", "x 9", "4993" }
  t.eq(#ranked, #distinct, "duplicates kept once")
  local got = ids(ranked)
  table.sort(got)
  local want = { table.unpack(distinct) }
  table.sort(want)
  t.eq(got, want, "a permutation of the distinct input")
  local known = #distinct - 3
  for i = 1, known do
    t.ok(type(ranked[i].score) == "number" and ranked[i].score > 0, "#" .. i .. " scored")
  end
  t.eq(ids { ranked[known + 1], ranked[known + 2], ranked[known + 3] },
    { "nope", py.dead[1], "x 9" }, "unknown ids last in input order")
  for i = known + 1, #ranked do t.eq(ranked[i].score, nil, "unknown id has no score") end
  t.ok(descending(ranked), "scores descending")
  t.ok(math.abs(sum(ranked) - 1) < 1e-9, "scores sum to 1: " .. sum(ranked))
  t.eq(model:rank("42", {}), {}, "empty input")
end)

t.test("rank agrees with recommend's order", function()
  local recs = assert(model:recommend("42", 20))
  local shuffled = {}
  for i = #recs, 1, -1 do shuffled[#shuffled + 1] = recs[i].id end
  t.eq(ids(assert(model:rank("42", shuffled))), ids(recs))
end)

t.test("deterministic across two models", function()
  local other = recommender.new(ds)
  t.eq(other:recommend("414", 100), model:recommend("414", 100), "recommend")
  t.eq(other:similar("260", 100), model:similar("260", 100), "similar")
  t.eq(other:similar(py.dead[1], 20), model:similar(py.dead[1], 20), "similar fill")
  local items = ids(assert(model:similar("1", 30)))
  t.eq(other:rank("7", items), model:rank("7", items), "rank")
end)

t.test("unknown ids are nil, err", function()
  local r, err = model:recommend("no-such-user", 10)
  t.eq(r, nil)
  t.eq(err, "unknown user id 'no-such-user'")
  r, err = model:rank(999999, { "1" })
  t.eq(r, nil)
  t.eq(err, "unknown user id '999999'")
  r, err = model:similar("no-such-movie", 10)
  t.eq(r, nil)
  t.eq(err, "unknown item id 'no-such-movie'")
end)

t.test("bad arguments raise", function()
  -- Method calls number arguments after self, as luaL_argerror reports them.
  t.raises(function() recommender.new("data") end, "bad argument #1")
  t.raises(function() model:recommend("1", 0) end, "n must be 1..10000")
  t.raises(function() model:recommend("1", 10001) end, "n must be 1..10000")
  t.raises(function() model:recommend("1", 2.5) end, "bad argument #2")
  t.raises(function() model:recommend("1") end, "bad argument #2")
  t.raises(function() model:recommend({}, 10) end, "bad argument #1")
  t.raises(function() model:recommend(1.5, 10) end, "bad argument #1")
  t.raises(function() model:recommend("1", 10, 5) end, "bad argument #3")
  t.raises(function() model:recommend("1", 10, { exclude_seen = "no" }) end,
    "exclude_seen must be a boolean")
  t.raises(function() model:similar("1", -1) end, "n must be 1..10000")
  t.raises(function() model:similar(true, 10) end, "bad argument #1")
  t.raises(function() model:rank("1", "1,2") end, "bad argument #2")
  t.raises(function() model:rank("1", { "1", false }) end, "item 2 is not a string or integer id")
  t.raises(function() model.recommend("1", "1", 10) end, "bad argument #1")
  t.raises(function() model.similar(ds, "1", 10) end, "mlpz.recommender expected")
end)

t.test("tostring", function()
  t.ok(tostring(model):find("^mlpz.recommender %(%d+ users, %d+ items, trained%)$"),
    tostring(model))
end)

t.done()
