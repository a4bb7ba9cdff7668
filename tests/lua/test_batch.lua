-- mlpz.batch: the three real batch outputs of the seed samples, parsed and
-- compared with Python's json module reading the same files and with
-- movies.csv read by Python's csv module; the statistics on hand-made
-- records with a known answer (a stand-in dataset); and every kind of
-- malformed line.
local t = dofile "tests/lua/harness.lua"
local batch = require "mlpz.batch"
local dataset = require "mlpz.dataset"
local cjson = require "cjson"

local SHARED = os.getenv("MLPZ_SHARED") or "../shared"
local DATA = os.getenv("MLPZ_DATA") or (SHARED .. "/datasets/ml-latest-small")
local SEED = SHARED .. "/seed-samples/"
local FILES = {
  ["user-personalization"] = SEED .. "batch-output-user-personalization-20201105-161225.json",
  ["similar-items"] = SEED .. "batch-output-similar-items-20201106-042152.json",
  ["personalized-ranking"] = SEED .. "batch-output-personalized-ranking-20201106-044648.json",
}

local function sh_quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

local function python(code, ...)
  local args = {}
  for i, a in ipairs { ... } do args[i] = sh_quote(a) end
  local p = assert(io.popen("python3 -c " .. sh_quote(code) .. " " .. table.concat(args, " ")))
  local out = p:read("a")
  assert(p:close(), "python3 failed")
  return cjson.decode(out)
end

-- Each record as Python's json reads it, and the title of every
-- recommended id from movies.csv.
local PY = [=[
import csv, json, os, sys
movies = {}
with open(os.path.join(os.environ["MLPZ_DATA"], "movies.csv"), encoding="utf-8", newline="") as f:
    for r in csv.DictReader(f):
        movies[r["movieId"]] = r["title"]
out = []
for line in open(sys.argv[1], encoding="utf-8"):
    r = json.loads(line)
    out.append({"input": r["input"], "items": r["output"]["recommendedItems"],
                "scores": r["output"].get("scores"),
                "titles": [movies.get(i) for i in r["output"]["recommendedItems"]]})
print(json.dumps(out))
]=]

local ds = assert(dataset.open { dir = DATA })

for kind, path in pairs(FILES) do
  t.test("seed " .. kind .. ": every record as Python's json reads it", function()
    local records = assert(batch.read(path))
    local want = python(PY, path)
    t.eq(#records, #want, "records")
    t.eq(#records, 50, "records")
    t.eq(records.type, kind, "type")
    t.eq(records.malformed, 0, "malformed")
    t.eq(records.name, path, "name")
    for i, w in ipairs(want) do
      local r = records[i]
      t.eq(r.n, i, "record number")
      t.eq(r.line, i, "line")
      t.eq(r.type, kind, "record type")
      t.ok(r.error == nil, "no error")
      t.eq(r.user, w.input.userId, "userId of record " .. i)
      t.eq(r.item, w.input.itemId, "itemId of record " .. i)
      if kind == "personalized-ranking" then t.eq(r.item_list, w.input.itemList, "itemList " .. i) end
      local ids, scores = {}, {}
      for j, it in ipairs(r.items) do ids[j], scores[j] = it.id, it.score end
      t.eq(ids, w.items, "recommendedItems of record " .. i)
      if w.scores ~= cjson.null then
        t.ok(r.scored, "scored")
        for j, s in ipairs(w.scores) do
          t.ok(math.abs(scores[j] - s) < 1e-12, string.format("score %d of record %d", j, i))
        end
      else
        t.ok(not r.scored and #scores == 0, "no scores")
      end
    end
  end)

  t.test("seed " .. kind .. ": rendered titles are movies.csv's", function()
    local records = assert(batch.read(path))
    local want = python(PY, path)
    local tmp = os.tmpname()
    local saved = io.stdout
    io.stdout = assert(io.open(tmp, "wb"))
    local ok, s = pcall(batch.render, ds, records, { format = "json", limit = 3 })
    io.stdout:close()
    io.stdout = saved
    t.ok(ok and s, tostring(s))
    local doc = cjson.decode(t.slurp(tmp))
    os.remove(tmp)
    local section = kind == "similar-items" and "similar_items"
      or kind == "user-personalization" and "recommended_items" or "reranked_items"
    local checked = 0
    for i = 1, 3 do
      local rows = doc[string.format("record_%d_%s", i, section)].rows
      t.eq(#rows, #want[i].items, "rows of record " .. i)
      for j, row in ipairs(rows) do
        t.eq(row.ITEM_ID, want[i].items[j])
        t.eq(row.TITLE, want[i].titles[j], "title of " .. row.ITEM_ID)
        checked = checked + 1
      end
    end
    t.ok(checked >= 60, "checked " .. checked .. " titles")
    t.eq(doc.summary.records, 50)
  end)
end

-- A stand-in dataset with a known answer for every statistic: movies m1..m9
-- with chosen genres, users with fixed top genres and histories, and a
-- popularity order.
local GENRES = {
  m1 = { "Comedy" }, m2 = { "Comedy", "Drama" }, m3 = { "Drama" }, m4 = { "Action" },
  m5 = { "Action", "Comedy" }, m6 = { "Horror" }, m7 = { "Horror" }, m8 = { "Drama" }, m9 = { "Action" },
}
local USERS = {
  u1 = { top = { "Comedy", "Drama", "Romance", "War" }, items = 40 },
  u2 = { top = { "Horror", "Western", "War" }, items = 3 },
  u3 = { top = {}, items = 0 },
}
local POPULAR = { { id = "m1", count = 90 }, { id = "m2", count = 80 }, { id = "m3", count = 70 },
  { id = "m4", count = 5 }, { id = "m6", count = 2 }, { id = "m7", count = 1 } }
local fake = {}
function fake:movie(id)
  return GENRES[id] and { id = id, title = "Title " .. id, genres = GENRES[id] } or nil
end
function fake:has_user(u) return USERS[u] ~= nil end
function fake:history(u)
  local h = {}
  for i = 1, USERS[u].items do h[i] = { item = "h" .. i } end
  return h
end
function fake:top_genres(what, n)
  local out = {}
  if type(what) == "string" then
    for i, g in ipairs(USERS[what].top) do out[i] = { genre = g, count = 10 - i } end
  else
    local counts = {}
    for _, id in ipairs(what) do
      for _, g in ipairs(GENRES[id] or {}) do counts[g] = (counts[g] or 0) + 1 end
    end
    for g, c in pairs(counts) do out[#out + 1] = { genre = g, count = c } end
    table.sort(out, function(a, b)
      if a.count ~= b.count then return a.count > b.count end
      return a.genre < b.genre
    end)
  end
  return table.move(out, 1, n or #out, 1, {})
end
function fake:popular(n) return table.move(POPULAR, 1, math.min(n, #POPULAR), 1, {}) end
function fake:stats() return { movies = 9, items = #POPULAR } end

local function lines(list) return table.concat(list, "\n") .. "\n" end
local function item_rec(item, list, err)
  if err then return string.format('{"input":{"itemId":"%s"},"error":"%s"}', item, err) end
  return string.format('{"input":{"itemId":"%s"},"output":{"recommendedItems":%s},"error":null}',
    item, cjson.encode(list))
end

local A = { "m1", "m2", "m3" }
local B = { "m4", "m5" }
local ITEMS = lines {
  item_rec("m9", A), item_rec("m8", A), item_rec("m7", B), item_rec("m6", A), item_rec("m4", B),
  item_rec("m5", { "m1", "zz" }), item_rec("m3", nil, "boom"),
}

t.test("statistics: distinct items and coverage", function()
  local records = assert(batch.read(ITEMS))
  local d = batch.distinct_items(records)
  t.eq(d.count, 6)
  t.eq(d.ids, { "m1", "m2", "m3", "m4", "m5", "zz" })
  t.eq(batch.coverage(fake, records), { distinct = 6, known = 5, unknown = 1, movies = 9, share = 5 / 9 })
end)

t.test("statistics: identical lists, largest group first, error records left out", function()
  local records = assert(batch.read(ITEMS))
  local id = batch.identical_lists(records)
  t.eq(id.records, 6)
  t.eq(id.shared, 5)
  t.eq(#id.groups, 2)
  t.eq(id.groups[1], { items = A, count = 3, records = { 1, 2, 4 } })
  t.eq(id.groups[2], { items = B, count = 2, records = { 3, 5 } })
end)

t.test("statistics: fallback evidence and the identical-lists sentence", function()
  local records = assert(batch.read(ITEMS))
  local s = batch.summary(fake, records)
  -- A = m1, m2, m3: all 3 among the 3 most popular. Its records' items
  -- m9, m8, m6 have 0, 0 and 2 users; the others (m7, m4, m5) 1, 5, 0.
  t.eq(s.fallback, { popular_overlap = 3, size = 3, max_signal = 2, others_median = 1, unit = "users" })
  t.eq(s.errors, 1)
  t.eq(s.records, 7)
  local text = batch.identical_text(s)
  t.ok(text:find("3 of 6 records got the same list (starting m1, m2, m3); 2 records share 1 other lists",
    1, true), text)
  t.ok(text:find("3 of its 3 items are among the dataset's 3 most popular movies", 1, true), text)
  t.ok(text:find("at most 2 users in the dataset (median 1 for the other records)", 1, true), text)
  t.ok(text:find("probably a popularity fallback for items with too few interactions", 1, true), text)
end)

t.test("statistics: no identical lists", function()
  local records = assert(batch.read(lines { item_rec("m1", A), item_rec("m2", B) }))
  local s = batch.summary(fake, records)
  t.eq(s.identical.shared, 0)
  t.eq(s.fallback, nil)
  t.eq(batch.identical_text(s), "none: each of the 2 records got its own list")
end)

local function user_rec(user, list)
  local scores = {}
  for i = 1, #list do scores[i] = 1 / (i + 1) end
  return string.format('{"input":{"userId":"%s"},"output":{"recommendedItems":%s,"scores":%s},"error":null}',
    user, cjson.encode(list), cjson.encode(scores))
end

t.test("statistics: top genre of the first 5 against the user's top 3", function()
  local records = assert(batch.read(lines {
    -- first 5: Comedy 3 (m1, m2, m5), Drama 2, Action 1: Comedy, in u1's top 3
    user_rec("u1", { "m1", "m2", "m3", "m5", "zz", "m6", "m7", "m6" }),
    -- Horror 2 but Action 3 (m4, m5, m9): Action, not in u2's top 3
    user_rec("u2", { "m6", "m7", "m4", "m5", "m9" }),
    -- Action (m4, m9) and Drama (m3, m8) tie: Action by name, not in u1's top 3
    user_rec("u1", { "m3", "m4", "m8", "m9" }),
    user_rec("nobody", { "m1" }),   -- unknown user: not compared
    user_rec("u3", { "m1" }),       -- no genres: not compared
    '{"input":{"userId":"u1"},"error":"failed"}',
  }))
  t.eq(records.type, "user-personalization")
  t.eq(batch.record_genres(fake, records[1]),
    { genre = "Comedy", count = 3, of = 5, user_top = { "Comedy", "Drama", "Romance" }, match = true })
  t.eq(batch.record_genres(fake, records[2]).genre, "Action")
  t.eq(batch.record_genres(fake, records[2]).match, false)
  t.eq(batch.record_genres(fake, records[3]), {
    genre = "Action", count = 2, of = 4, user_top = { "Comedy", "Drama", "Romance" }, match = false })
  t.eq(batch.record_genres(fake, records[4]), nil)
  t.eq(batch.record_genres(fake, records[5]), nil)
  t.eq(batch.genre_match(fake, records), { matched = 1, counted = 3, share = 1 / 3, top_recs = 5, user_top = 3 })
end)

t.test("statistics: reranked lists that are not a reordering of the input", function()
  local function rank(user, input, output)
    local scores = {}
    for i = 1, #output do scores[i] = 0.1 end
    return string.format('{"input":{"userId":"%s","itemList":%s},"output":{"recommendedItems":%s,'
      .. '"scores":%s},"error":null}', user, cjson.encode(input), cjson.encode(output), cjson.encode(scores))
  end
  local records = assert(batch.read(lines {
    rank("u1", { "m1", "m2" }, { "m2", "m1" }),
    rank("u1", { "m1", "m2" }, { "m2", "m3" }),
    rank("u2", { "m1", "m1" }, { "m1" }),
  }))
  t.eq(records.type, "personalized-ranking")
  local count, list = batch.not_reordered(records)
  t.eq(count, 2)
  t.eq(list, { 2, 3 })
end)

local NAN_LINE = '{"input":{"userId":"u1"},"output":{"recommendedItems":["m1"],"scores":[NaN]}}'
t.test("malformed lines are reported with their line and skipped", function()
  local good = user_rec("u1", { "m1" })
  local records, problems = assert(batch.read(lines {
    good,
    '{"input":{"userId":"u1"},"output":{"recommendedItems":["m1","m2"',
    '[{"input":{"userId":"u1"}}]',
    '{"input":{"userId":"u1"},"output":{"recommendedItems":"m1"},"error":null}',
    '{"input":{"userId":"u1"},"output":{"recommendedItems":["m1"],"scores":["high"]},"error":null}',
    '{"input":{"userId":"u1"},"output":{"recommendedItems":["m1"],"scores":[1,2]},"error":null}',
    '{"input":{"userId":true},"output":{"recommendedItems":["m1"]},"error":null}',
    '{"input":"u1","output":{"recommendedItems":["m1"]},"error":null}',
    '{"input":{"userId":"u1"},"output":{"recommendedItems":["m1"]},"error":42}',
    '{"input":{"userId":"u1"},"output":{"items":["m1"]},"error":null}',
    '{"output":{"recommendedItems":["m1"]},"error":null}',
    '{"userId":"u1"}',
    "42",
    "",
    '{"input":{"userId":"u1","itemId":"m1"},"output":{"recommendedItems":["m1"]}}',
    '{"input":{"itemList":["m1"]},"output":{"recommendedItems":["m1"]}}',
    '{"input":{"userId":"a\\u0007b"},"output":{"recommendedItems":["m1"]}}',
    '{"input":{"userId":"u1"},"output":{"recommendedItems":["m1"],"scores":[1e999]}}',
    NAN_LINE,
    good,
  }, { name = "x.json" }))
  t.eq(#records, 2)
  t.eq(records[2].n, 19, "blank lines are not records")
  t.eq(records[2].line, 20)
  t.eq(records.lines, 19)
  t.eq(records.malformed, 17)
  local want = {
    "x.json:2: not valid JSON: the line ends before the JSON does (truncated?)",
    'x.json:3: a JSON array, not an object {"input": ..., "output": ...}',
    "x.json:4: output.recommendedItems must be an array of ids, got a string",
    "x.json:5: output.scores[1] must be a number, got a string",
    "x.json:6: output.scores has 2 values for 1 recommendedItems",
    "x.json:7: input.userId must be a string id, got a boolean",
    'x.json:8: "input" must be an object, got a string',
    'x.json:9: "error" must be null or a string, got a number',
    'x.json:10: output has no "recommendedItems"',
    'x.json:11: no "input" object',
    'x.json:12: no "input": this is a batch input record; give the job\'s output file',
    "x.json:13: a JSON number, not an object",
    'x.json:15: input has both "userId" and "itemId"',
    'x.json:16: input has "itemList" but no "userId"',
    "x.json:17: input.userId has control characters",
    "x.json:18: output.scores[1] is not a finite number",
    string.format("x.json:19: not valid JSON (Expected value but found invalid token at character %d)",
      NAN_LINE:find("NaN", 1, true)),
  }
  for i = 1, math.max(#problems, #want) do t.eq(problems[i], want[i], "problem " .. i) end
  t.eq(batch.problem_lines(records), problems)
end)

t.test("a line cut inside a string is called truncated", function()
  local _, problems = batch.read(lines { user_rec("u1", { "m1" }), '{"input":{"userId":"u1"},"output":{"recomm' },
    { name = "cut.json" })
  t.eq(problems, { "cut.json:2: not valid JSON: the line ends before the JSON does (truncated?)" })
end)

t.test("records with an error, or without output, are kept with their error", function()
  local records = assert(batch.read(lines {
    '{"input":{"itemId":"m1"},"error":"Item not found"}',
    '{"input":{"itemId":"m2"},"output":null,"error":null}',
    '{"input":{"itemId":"m3"}}',
    '{"input":[1,2],"error":"bad input\\nsecond line"}',
    '{"input":{"itemId":"m4"},"output":{"recommendedItems":[]},"error":null}',
  }))
  t.eq(records.malformed, 0)
  t.eq(records.type, "similar-items")
  t.eq(records[1].error, "Item not found")
  t.eq(records[2].error, 'no "output" and no "error"')
  t.eq(records[3].error, 'no "output" and no "error"')
  t.eq(records[4].error, "bad input second line")
  t.eq(records[4].input_text, "[1,2]")
  t.eq(records[4].type, nil)
  t.eq(records[5].error, nil)
  t.eq(#records[5].items, 0)
  local s = batch.summary(fake, records)
  t.eq(s.errors, 4)
  t.eq(s.coverage.distinct, 0)
end)

t.test("ids given as JSON numbers become their decimal text", function()
  local records = assert(batch.read('{"input":{"userId":581},"output":{"recommendedItems":[318,1.5e3]}}'))
  t.eq(records[1].user, "581")
  t.eq(records[1].items[1].id, "318")
  t.eq(records[1].items[2].id, "1500")
end)

t.test("a file mixing job types fails naming the first line that differs", function()
  local records, err = batch.read(lines { user_rec("u1", { "m1" }), "", user_rec("u2", { "m1" }),
    item_rec("m1", A), user_rec("u1", { "m1" }) }, { name = "mixed.json" })
  t.eq(records, nil)
  t.eq(err, 'mixed.json:4: a similar-items record ({"itemId"}) in a file of user-personalization records '
    .. '({"userId"}, from line 1): a batch output holds one job type')
  _, err = batch.read(lines { user_rec("u1", { "m1" }),
    '{"input":{"userId":"u1","itemList":["m1"]},"output":{"recommendedItems":["m1"]}}' })
  t.ok(err:find("<string>:2: a personalized-ranking record", 1, true), err)
end)

t.test("empty, missing, unreadable and non-JSON-Lines files fail with one message", function()
  local dir = os.tmpname()
  os.remove(dir)
  t.ok(os.execute("mkdir " .. sh_quote(dir)))
  local empty = dir .. "/empty.json"
  assert(io.open(empty, "wb")):close()
  local _, err = batch.read(empty)
  t.eq(err, empty .. ": empty file (a batch output file holds one JSON object per line)")
  _, err = batch.read(dir .. "/missing.json")
  t.eq(err, "cannot open " .. dir .. "/missing.json: No such file or directory")
  _, err = batch.read(dir)
  t.eq(err, "cannot read " .. dir .. ": Is a directory")
  _, err = batch.read(DATA .. "/movies.csv")
  t.ok(err:find(DATA .. "/movies.csv: not a Personalize batch output file", 1, true), err)
  t.ok(err:find("line 1: not valid JSON", 1, true), err)
  _, err = batch.read("\n \n", { text = true, name = "blank" })
  t.eq(err, "blank: empty file (a batch output file holds one JSON object per line)")
  os.remove(empty)
  os.remove(dir)
end)

t.test("malformed lines beyond MAX_PROBLEMS are counted, not kept", function()
  local list = {}
  for i = 1, batch.MAX_PROBLEMS + 50 do list[i] = "{" end
  list[#list + 1] = user_rec("u1", { "m1" })
  local records = assert(batch.read(lines(list)))
  t.eq(records.malformed, batch.MAX_PROBLEMS + 50)
  local out = batch.problem_lines(records)
  t.eq(#out, batch.MAX_PROBLEMS + 1)
  t.eq(out[#out], "<string>: ... and 50 more malformed lines")
end)

t.test("select: --record and --limit", function()
  local records = assert(batch.read(lines { item_rec("m1", A), "{", item_rec("m2", A), item_rec("m3", B) },
    { name = "f.json" }))
  t.eq(#batch.select(records, {}), 3)
  t.eq(batch.select(records, { record = 3 })[1].item, "m2")
  t.eq(#batch.select(records, { limit = 2 }), 2)
  t.eq(#batch.select(records, { limit = 10 }), 3)
  local _, err = batch.select(records, { record = 2 })
  t.eq(err, "record 2 (f.json:2) is malformed: not valid JSON: the line ends before the JSON does (truncated?)")
  _, err = batch.select(records, { record = 5 })
  t.eq(err, "there is no record 5: f.json has 4")
  _, err = batch.select(records, { record = 1, limit = 1 })
  t.eq(err, "give --record or --limit, not both")
end)

t.test("a path and its text read the same; text = false forces a path", function()
  local path = FILES["similar-items"]
  local from_text, text_problems = batch.read(t.slurp(path), { name = path })
  local from_path, path_problems = batch.read(path)
  t.eq(from_text, from_path)
  t.eq(text_problems, {})
  t.eq(path_problems, {})
  local _, err = batch.read('{"input"}', { text = false })
  t.eq(err, 'cannot open {"input"}: No such file or directory')
end)

t.done()
