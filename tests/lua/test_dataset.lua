-- mlpz.dataset on the real ml-latest-small, cross-checked against an
-- independent Python reading of ratings.csv and movies.csv (csv module,
-- the notebooks' derivation written out again), plus the API's handling
-- of bad input.
local t = dofile "tests/lua/harness.lua"
local dataset = require "mlpz.dataset"
local cjson = require "cjson"

local SHARED = os.getenv("MLPZ_SHARED") or "../shared"
local DATA = os.getenv("MLPZ_DATA") or (SHARED .. "/datasets/ml-latest-small")
local BIN = os.getenv("MLPZ_BIN")
local USERS = {"1", "42", "302", "595", "610"}
local GENRE_LIST = {"1", "1", "293", "no-such-movie", "2571", "318"}

local function sh_quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

-- Everything the test compares, computed by Python from the raw files.
local PY = [=[
import csv, datetime, json, os, re, sys
from collections import Counter, defaultdict

D = os.environ["MLPZ_DATA"]
users = sys.argv[1].split(",")
genre_list = sys.argv[2].split(",")
with open(os.path.join(D, "movies.csv"), encoding="utf-8", newline="") as f:
    movies = list(csv.DictReader(f))
with open(os.path.join(D, "ratings.csv"), newline="") as f:
    ratings = list(csv.DictReader(f))
position = {m["movieId"]: i for i, m in enumerate(movies)}
genres_of = {m["movieId"]: m["genres"].split("|") for m in movies}

# The notebooks: a click for every rating > 1, then a watch for every > 3.
rows = [(r["userId"], r["movieId"], int(r["timestamp"]), "click")
        for r in ratings if float(r["rating"]) > 1]
rows += [(r["userId"], r["movieId"], int(r["timestamp"]), "watch")
         for r in ratings if float(r["rating"]) > 3]

def date(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")

def count_genres(items):
    c = Counter(g for it in items for g in genres_of.get(it, []) if g != "(no genres listed)")
    return [{"genre": g, "count": n} for g, n in sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))]

def movie(m):
    out = {"id": m["movieId"], "title": m["title"], "genres": m["genres"].split("|")}
    y = re.search(r"\((\d{4})\)[ \t]*$", m["title"])
    if y:
        out["year"] = int(y.group(1))
    return out

by_user = defaultdict(list)
item_users = defaultdict(set)
for i, (u, item, ts, ev) in enumerate(rows):
    by_user[u].append((ts, i, item, ev))
    item_users[item].add(u)
tss = [r[2] for r in rows]
out = {
    "stats": {"users": len(by_user), "items": len(item_users), "movies": len(movies),
              "interactions": len(rows), "events": dict(Counter(r[3] for r in rows)),
              "first": date(min(tss)), "last": date(max(tss))},
    "user_ids": list(dict.fromkeys(r[0] for r in rows)),
    "movie_ids": [m["movieId"] for m in movies],
    "users": {},
}
for u in users:
    mine = sorted(by_user[u], key=lambda r: (r[0], r[1]), reverse=True)
    full = [{"item": it, "event": ev, "ts": ts, "date": date(ts)} for ts, _, it, ev in mine]
    uniq, seen = [], set()
    for row in full:
        if row["item"] not in seen:
            seen.add(row["item"])
            uniq.append(row)
    out["users"][u] = {"all20": full[:20], "unique20": uniq[:20], "n": len(full),
                       "n_unique": len(uniq), "genres": count_genres(seen)}
pop = sorted(item_users, key=lambda it: (-len(item_users[it]), position[it]))[:10]
out["popular"] = [{"id": it, "count": len(item_users[it])} for it in pop]
out["list_genres"] = count_genres(genre_list)
picks = ["1", "293", "11", "27008", "5952"]
picks.append(next(m["movieId"] for m in movies if m["genres"] == "(no genres listed)"))
picks.append(next(m["movieId"] for m in movies if not re.search(r"\(\d{4}\)[ \t]*$", m["title"])))
picks.append(next(m["movieId"] for m in movies if '"' in m["title"]))
out["movies"] = [movie(m) for m in movies if m["movieId"] in picks]
fold = lambda s: s.encode("utf-8").lower()
def search(text, n):
    return [m["movieId"] for m in movies if fold(text) in fold(m["title"])][:n]
out["search"] = {"star wars": search("star wars", 1000), "THE": search("THE", 20),
                 "LÉON": search("LÉON", 1000), "léon": search("léon", 1000)}
out["dates"] = {str(ts): date(ts) for ts in (0, -1, 951782400, 964982703, 2**31)}
print(json.dumps(out))
]=]

local function python(code, ...)
  local prog = os.tmpname()
  local f = assert(io.open(prog, "wb")); f:write(code); f:close()
  local args = {}
  for i, a in ipairs({...}) do args[i] = sh_quote(a) end
  local p = assert(io.popen("python3 " .. prog .. " " .. table.concat(args, " "), "r"))
  local out = p:read("a")
  local ok, how, code_ = p:close()
  os.remove(prog)
  assert(ok, "python3 failed: " .. tostring(how) .. " " .. tostring(code_))
  return out
end

-- t.eq for lists of rows, naming the first row that differs.
local function eq_rows(got, want_, what)
  if t.same(got, want_) then return end
  local function show(r)
    if type(r) ~= "table" then return tostring(r) end
    local keys = {}
    for k in pairs(r) do keys[#keys + 1] = k end
    table.sort(keys)
    for i, k in ipairs(keys) do
      local v = r[k]
      keys[i] = k .. "=" .. (type(v) == "table" and "{" .. table.concat(v, ",") .. "}" or tostring(v))
    end
    return "{" .. table.concat(keys, " ") .. "}"
  end
  for i = 1, math.max(#got, #want_) do
    if not t.same(got[i], want_[i]) then
      error(string.format("%s: row %d is %s, want %s (%d rows, want %d)", what, i,
        show(got[i]), show(want_[i]), #got, #want_), 2)
    end
  end
  error(what .. ": tables differ outside the list part", 2)
end

local want = cjson.decode(python(PY, table.concat(USERS, ","), table.concat(GENRE_LIST, ",")))
local ds = assert(dataset.open{dir = DATA, seed = 1})

t.test("stats match the independent count", function()
  local s = ds:stats()
  for _, k in ipairs{"users", "items", "movies", "interactions", "first", "last"} do
    t.eq(s[k], want.stats[k], k)
  end
  t.eq(s.events, want.stats.events, "events")
  t.eq(s.interactions, 158371, "the published figure")
  t.eq(s.events.click + s.events.watch, s.interactions, "clicks + watches")
  t.eq(s.dir, DATA)
  t.eq(s.source, DATA .. "/ratings.csv")
  t.eq(s.derived, true)
end)

t.test("tostring names the folder and the counts", function()
  t.eq(tostring(ds), string.format("mlpz.dataset: %s (%d users, %d movies, %d interactions)",
    DATA, want.stats.users, want.stats.movies, want.stats.interactions))
end)

t.test("movie lookups match movies.csv", function()
  t.ok(#want.movies >= 7, "python picked the movies")
  for _, m in ipairs(want.movies) do
    eq_rows({ds:movie(m.id)}, {m}, "movie " .. m.id)
    t.eq(ds:movie(tonumber(m.id)), m, "movie " .. m.id .. " by integer")
  end
  local leon = ds:movie(293)
  t.eq(leon.title:sub(1, 5), "L\xc3\xa9on", "UTF-8 bytes kept")
  t.eq(leon.year, 1994)
  t.eq(ds:movie("999999999"), nil, "unknown movie")
  t.eq(ds:movie(""), nil, "empty id")
  t.eq(ds:movie("293\0"), nil, "id with a NUL byte")
end)

t.test("has_user and has_item", function()
  t.eq(ds:has_user("42"), true)
  t.eq(ds:has_user(42), true, "integer id")
  t.eq(ds:has_user(42.0), true, "integral float id")
  t.eq(ds:has_user("0"), false)
  t.eq(ds:has_user("042"), false, "ids are strings, not numbers")
  t.eq(ds:has_item(293), true)
  t.eq(ds:has_item("nope"), false)
end)

for _, u in ipairs(USERS) do
  local w = want.users[u]
  t.test("history of user " .. u .. " matches python", function()
    eq_rows(ds:history(u, {limit = 20, unique = true}), w.unique20, "unique, newest 20")
    eq_rows(ds:history(u, {limit = 20}), w.all20, "all rows, newest 20")
    t.eq(#ds:history(u), w.n, "every row")
    t.eq(#ds:history(u, {unique = true}), w.n_unique, "every item once")
    t.eq(ds:history(tonumber(u), {limit = 3}), ds:history(u, {limit = 3}), "integer id")
    t.eq(ds:history(u, {limit = 0}), {}, "limit 0")
  end)
  t.test("top genres of user " .. u .. " match python", function()
    eq_rows(ds:top_genres(u), w.genres, "all genres")
    local top3 = {table.unpack(w.genres, 1, 3)}
    t.eq(ds:top_genres(u, 3), top3, "n = 3")
    t.eq(ds:top_genres(tonumber(u), 3), top3, "integer id")
  end)
end

t.test("top genres of a list count every entry", function()
  eq_rows(ds:top_genres(GENRE_LIST), want.list_genres, "list")
  t.eq(ds:top_genres({}), {})
  t.eq(ds:top_genres({1, 1}, 1)[1].count, 2, "integer ids, repeats counted")
  t.eq(ds:top_genres(GENRE_LIST, 0), {}, "n = 0")
end)

t.test("popular top 10 matches python", function()
  eq_rows(ds:popular(10), want.popular, "popular(10)")
  t.eq(ds:popular(), want.popular, "10 by default")
  t.eq(#ds:popular(1e6), want.stats.items, "at most every item")
end)

t.test("search matches a case-folded scan of the titles", function()
  local function ids(list)
    local out = {}
    for i, m in ipairs(list) do out[i] = m.id end
    return out
  end
  t.eq(ids(ds:search("star wars", 1000)), want.search["star wars"])
  t.eq(ids(ds:search("THE")), want.search["THE"], "20 by default")
  t.eq(ids(ds:search("LÉON", 1000)), want.search["LÉON"], "only ASCII is folded")
  t.eq(ids(ds:search("léon", 1000)), want.search["léon"])
  t.ok(#want.search["léon"] > 0, "Léon is found")
  t.eq(ds:search("star wars", 1)[1], ds:movie(want.search["star wars"][1]), "movie tables")
  t.eq(ds:search("the", 0), {})
end)

t.test("id lists in first-appearance and catalogue order", function()
  t.eq(ds:user_ids(), want.user_ids)
  t.eq(ds:movie_ids(), want.movie_ids)
end)

t.test("format_date matches python", function()
  for ts, d in pairs(want.dates) do
    t.eq(dataset.format_date(math.tointeger(tonumber(ts))), d, ts)
  end
end)

t.test("seeded random picks are reproducible and distinct", function()
  local a = assert(dataset.open{dir = DATA, seed = 42})
  local b = assert(dataset.open{dir = DATA, seed = 42})
  local ua, ma = a:random_users(10), a:random_movies(10)
  t.eq(b:random_users(10), ua, "same seed, same users")
  t.eq(b:random_movies(10), ma, "same seed, same movies")
  a:seed(42)
  t.eq(a:random_users(10), ua, "reseeding repeats")
  t.ok(not t.same(a:random_users(10), ua), "the next draw differs")
  local seen = {}
  for _, u in ipairs(ua) do
    t.ok(not seen[u], "distinct user " .. u); seen[u] = true
    t.ok(a:has_user(u), "known user " .. u)
  end
  seen = {}
  for _, m in ipairs(ma) do
    t.ok(not seen[m], "distinct movie " .. m); seen[m] = true
    t.ok(a:movie(m), "movie from movies.csv " .. m)
  end
  local all = a:random_users(100000)
  t.eq(#all, want.stats.users, "n above the population returns everyone")
  local sorted = {table.unpack(all)}
  table.sort(sorted)
  local ids = ds:user_ids()
  table.sort(ids)
  t.eq(sorted, ids, "each user once")
  t.ok(not t.same(all, ds:user_ids()), "shuffled")
  t.eq(a:random_movies(0), {})
  t.eq(#a:random_movies(9742), want.stats.movies)
end)

t.test("unseeded datasets differ", function()
  local a = assert(dataset.open{dir = DATA})
  local b = assert(dataset.open{dir = DATA})
  t.ok(not t.same(a:random_movies(20), b:random_movies(20)), "seeded from time and pid")
end)

t.test("unknown ids give nil and a way forward", function()
  local rows, err = ds:history("no-such-user")
  t.eq(rows, nil)
  t.ok(err:find("unknown user id 'no-such-user'", 1, true), err)
  t.ok(err:find("ds:user_ids()", 1, true), err)
  local g, gerr = ds:top_genres(99999)
  t.eq(g, nil)
  t.ok(gerr:find("unknown user id '99999'", 1, true), gerr)
end)

t.test("bad argument types raise", function()
  t.raises(function() ds:movie({}) end, "id expected (string or integer), got table")
  t.raises(function() ds:movie(1.5) end, "id expected")
  t.raises(function() ds:history() end, "id expected")
  t.raises(function() ds:history(1, {limit = -1}) end, "opts.limit must be an integer >= 0")
  t.raises(function() ds:history(1, {limit = "x"}) end, "opts.limit")
  t.raises(function() ds:history(1, 5) end, "table expected")
  t.raises(function() ds:top_genres({1, {}}) end, "entry 2: id expected")
  t.raises(function() ds:top_genres(1, -1) end, "count must be >= 0")
  t.raises(function() ds:random_users(-1) end, "count must be >= 0")
  t.raises(function() ds:random_users("many") end, "number expected")
  t.raises(function() ds:random_movies() end, "number expected")
  t.raises(function() ds:popular(-5) end, "count must be >= 0")
  t.raises(function() ds:search() end, "string expected")
  t.raises(function() ds:seed("x") end, "number expected")
  t.raises(function() ds.stats({}) end, "mlpz.dataset expected")
  t.raises(function() dataset.open("data") end, "table expected")
  t.raises(function() dataset.open{dir = 1} end, "opts.dir must be a string")
  t.raises(function() dataset.open{seed = 1.5} end, "opts.seed must be an integer")
  t.raises(function() dataset.format_date("x") end, "number expected")
end)

t.test("open reports missing and malformed data", function()
  local none, err = dataset.open{dir = "/nonexistent"}
  t.eq(none, nil)
  t.eq(err, "no MovieLens data in /nonexistent: need movies.csv and ratings.csv or " ..
    "interactions.csv; run `make data` or pass --data DIR")
  local bad, berr = dataset.open{dir = "tests/fixtures/csv/bad_rating"}
  t.eq(bad, nil)
  t.eq(berr, "tests/fixtures/csv/bad_rating/ratings.csv:3: rating 'four' is not a number " ..
    "(column rating); expected a value such as 3.5")
  local p = assert(dataset.open{dir = "tests/fixtures/csv/personalize"})
  t.eq(p:stats().derived, false)
  t.eq(p:history("u1", {limit = 1})[1].event, "watch")
  t.eq(p:movie(3), nil, "an item only in interactions is no movie")
  t.eq(p:has_item(3), true, "but it is an item")
  t.eq(p:popular(1)[1], {id = "2", count = 2})
end)

-- dataset.open() without dir: $MLPZ_DATA, then ./data, then ".", run in a
-- child mlpz-lua so the environment and working directory can differ.
t.test("open finds the data folder", function()
  if not BIN then error("MLPZ_BIN is not set") end
  local tmp = os.tmpname()
  os.remove(tmp)
  assert(os.execute("mkdir -p " .. sh_quote(tmp .. "/data")))
  local script = tmp .. "/probe.lua"
  local f = assert(io.open(script, "w"))
  f:write([[local ds, err = require("mlpz.dataset").open() print(ds and ds:stats().dir or err)]])
  f:close()
  local function probe(env)
    local p = assert(io.popen("cd " .. sh_quote(tmp) .. " && env " .. env .. " " ..
      sh_quote(BIN) .. " probe.lua 2>&1"))
    local out = p:read("a")
    p:close()
    return (out:gsub("\n$", ""))
  end
  t.eq(probe("-u MLPZ_DATA"), "no MovieLens data found (tried ./data and .): need movies.csv " ..
    "and ratings.csv or interactions.csv; run `make data` or pass --data DIR")
  t.eq(probe("MLPZ_DATA=/nowhere"), "no MovieLens data found (tried $MLPZ_DATA=/nowhere, " ..
    "./data and .): need movies.csv and ratings.csv or interactions.csv; run `make data` " ..
    "or pass --data DIR")
  t.eq(probe("MLPZ_DATA=" .. sh_quote(DATA)), DATA, "$MLPZ_DATA first")
  local abs = DATA:sub(1, 1) == "/" and DATA or (os.getenv("PWD") .. "/" .. DATA)
  for _, name in ipairs{"movies.csv", "ratings.csv"} do
    assert(os.execute("ln -s " .. sh_quote(abs .. "/" .. name) .. " " ..
      sh_quote(tmp .. "/data/" .. name)))
  end
  t.eq(probe("-u MLPZ_DATA"), "./data", "then ./data")
  t.eq(probe("MLPZ_DATA="), "./data", "an empty $MLPZ_DATA is unset")
  os.execute("rm -rf " .. sh_quote(tmp))
end)

-- A short answer costs the same for the heaviest user as for the lightest:
-- queries slice precomputed indexes instead of scanning the user's rows.
t.test("query cost follows the answer, not the history", function()
  local heavy, light, most, least = nil, nil, -1, math.huge
  for _, u in ipairs(ds:user_ids()) do
    local n = #ds:history(u)
    if n > most then heavy, most = u, n end
    if n < least then light, least = u, n end
  end
  t.ok(most > 50 * least, "users differ enough: " .. most .. " vs " .. least)
  local function cost(u)
    local c = os.clock()
    for _ = 1, 20000 do ds:history(u, {limit = 1, unique = true}) end
    return os.clock() - c
  end
  cost(light)
  local h, l = cost(heavy), cost(light)
  t.ok(h < 3 * l + 0.01, string.format("user %s (%d rows) %.3fs vs user %s (%d rows) %.3fs",
    heavy, most, h, light, least, l))
end)

t.test("collected datasets free their memory", function()
  for _ = 1, 3 do assert(dataset.open{dir = DATA}) end
  collectgarbage()
  collectgarbage()
  t.ok(collectgarbage("count") < 64 * 1024, "Lua heap stays small")
end)

t.done()
