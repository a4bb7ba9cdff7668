-- Amazon Personalize batch inference output: JSON Lines of
--   {"input": {...}, "output": {"recommendedItems": [...], "scores": [...]}, "error": null}
-- Reading checks every line: a malformed line is recorded with its number
-- and skipped, so one corrupt record does not hide the others. The job type
-- comes from the shape of the inputs. The statistics are functions that
-- return tables, so they can be tested apart from the rendering. The dataset
-- is used only through ds:movie, ds:has_user, ds:history, ds:top_genres,
-- ds:popular and ds:stats, so tests can pass a stand-in.
local cjson = require "cjson"
local report = require "mlpz.report"
local tbl = require "mlpz.table"

local M = {}

M.USER = "user-personalization"
M.ITEMS = "similar-items"
M.RANKING = "personalized-ranking"

M.MAX_PROBLEMS = 100   -- malformed lines kept with their message; the rest are counted
M.MAX_ID = 256         -- Personalize's longest id
M.TOP_RECS = 5         -- "top recommended genre": the most common genre of the first 5
M.USER_TOP = 3         -- ... compared with the user's top 3 genres
M.HISTORY = 10         -- newest distinct interactions shown per user
M.GENRES_SHOWN = 5     -- user genres shown per user

local INPUT_SHAPE = {
  [M.USER] = '{"userId"}', [M.ITEMS] = '{"itemId"}', [M.RANKING] = '{"userId", "itemList"}',
}

-- A private instance: NaN, Infinity and hex numbers are not JSON, and a
-- score must never be one.
local json = cjson.new()
json.decode_invalid_numbers(false)
local null = json.null

local thousands = report.thousands

local function percent(part, whole)
  return string.format("%.1f%%", whole > 0 and 100 * part / whole or 0)
end

-- Text from the file goes to terminals: no control characters, bounded.
local function clean(s, max)
  s = tostring(s):gsub("%c+", " ")
  max = max or 300
  if #s > max then s = s:sub(1, max) .. "..." end
  return s
end

-- Lists decode as tables with keys 1..n (cjson turns null into json.null,
-- never into a hole). An empty table may have been [] or {}.
local function is_list(t)
  if type(t) ~= "table" then return false end
  local n = 0
  for k in pairs(t) do
    if math.type(k) ~= "integer" or k < 1 then return false end
    n = n + 1
  end
  return n == #t
end

local function is_object(t)
  return type(t) == "table" and (next(t) == nil or not is_list(t))
end

local function kind(v)
  if v == null then return "null" end
  if type(v) == "table" then return is_list(v) and next(v) ~= nil and "an array" or "an object" end
  return "a " .. type(v)
end

-- Ids are strings (Personalize's); whole numbers are accepted as their
-- decimal text.
local function read_id(v, what)
  if type(v) == "number" and v == v and math.abs(v) <= 2 ^ 53 and v == math.floor(v) then
    return string.format("%d", v)
  end
  if type(v) ~= "string" then return nil, string.format("%s must be a string id, got %s", what, kind(v)) end
  if v == "" then return nil, what .. " is an empty string" end
  if #v > M.MAX_ID then return nil, string.format("%s is longer than %d characters", what, M.MAX_ID) end
  if v:find("%c") then return nil, what .. " has control characters" end
  return v
end

local function read_ids(v, what)
  if not is_list(v) then return nil, string.format("%s must be an array of ids, got %s", what, kind(v)) end
  local ids = {}
  for i, x in ipairs(v) do
    local id, err = read_id(x, string.format("%s[%d]", what, i))
    if not id then return nil, err end
    ids[i] = id
  end
  return ids
end

-- input -> {type, user, item, item_list} | nil, err
local function read_input(input)
  if input == nil or input == null then return nil, 'no "input" object' end
  if not is_object(input) then return nil, '"input" must be an object, got ' .. kind(input) end
  local r, err = {}, nil
  if input.userId ~= nil then
    r.user, err = read_id(input.userId, "input.userId")
    if not r.user then return nil, err end
  end
  if input.itemId ~= nil then
    r.item, err = read_id(input.itemId, "input.itemId")
    if not r.item then return nil, err end
  end
  if input.itemList ~= nil then
    r.item_list, err = read_ids(input.itemList, "input.itemList")
    if not r.item_list then return nil, err end
  end
  if r.user and r.item then return nil, 'input has both "userId" and "itemId"' end
  if r.item_list and not r.user then return nil, 'input has "itemList" but no "userId"' end
  r.type = r.item_list and M.RANKING or r.user and M.USER or r.item and M.ITEMS
  if not r.type then return nil, 'input has no "userId" or "itemId"' end
  return r
end

-- output -> {{id, score}, ...}, scored | nil, err
local function read_output(output)
  if not is_object(output) then return nil, '"output" must be an object, got ' .. kind(output) end
  if output.recommendedItems == nil then return nil, 'output has no "recommendedItems"' end
  local ids, err = read_ids(output.recommendedItems, "output.recommendedItems")
  if not ids then return nil, err end
  local scores = output.scores
  if scores == nil or scores == null then scores = nil
  elseif not is_list(scores) then
    return nil, "output.scores must be an array of numbers, got " .. kind(scores)
  elseif #scores ~= #ids then
    return nil, string.format("output.scores has %d values for %d recommendedItems", #scores, #ids)
  end
  local items = {}
  for i, id in ipairs(ids) do
    local s = scores and scores[i]
    if s == null then s = nil end
    if s ~= nil and type(s) ~= "number" then
      return nil, string.format("output.scores[%d] must be a number, got %s", i, kind(s))
    elseif s ~= nil and (s ~= s or math.abs(s) == math.huge) then
      return nil, string.format("output.scores[%d] is not a finite number", i)
    end
    items[i] = { id = id, score = s }
  end
  return items, scores ~= nil
end

-- One line -> record | nil, err. A record with an error keeps its input
-- even when the input is unusable (it is then shown as JSON).
local function read_record(text)
  local ok, v = pcall(json.decode, text)
  if not ok then
    -- cjson says T_END, or "end of string" inside a string: the line was cut.
    local why = tostring(v)
    if why:find("T_END", 1, true) or why:find("unexpected end of string", 1, true) then
      return nil, "not valid JSON: the line ends before the JSON does (truncated?)"
    end
    return nil, "not valid JSON (" .. clean(v, 120) .. ")"
  end
  if type(v) ~= "table" then
    return nil, "a JSON " .. (v == null and "null" or type(v)) .. ", not an object"
  end
  if not is_object(v) then return nil, 'a JSON array, not an object {"input": ..., "output": ...}' end
  if v.input == nil and (v.userId ~= nil or v.itemId ~= nil) then
    return nil, 'no "input": this is a batch input record; give the job\'s output file'
  end
  local err = v.error
  if err == null then err = nil end
  if err ~= nil and type(err) ~= "string" then
    return nil, '"error" must be null or a string, got ' .. kind(err)
  end
  local r, ierr = read_input(v.input)
  if err then
    if not r then
      local encoded, shown = pcall(json.encode, v.input == nil and null or v.input)
      r = { input_text = encoded and clean(shown, 200) or "(unreadable input)" }
    end
    r.error = err == "" and "(empty error message)" or clean(err, 1000)
    return r
  end
  if not r then return nil, ierr end
  if v.output == nil or v.output == null then
    r.error = 'no "output" and no "error"'
    return r
  end
  local items, scored = read_output(v.output)
  if not items then return nil, scored end
  r.items, r.scored = items, scored
  return r
end

-- batch.read(source, [opts]) -> records, problems | nil, err
-- source: a path, or the file's content (opts.text = true, or, when
-- opts.text is nil, a source holding a newline or starting with "{").
-- opts.name names the file in messages (default: the path, or "<string>").
-- records: the list of usable records, each {n (the record's number: its
-- place among the non-blank lines), line, type, user, item, item_list,
-- items = {{id, score}, ...}, scored (the output had scores), error}, with
-- fields name, type (the job type, nil when no record says), lines (non-blank
-- lines), malformed (how many lines were not records) and problems
-- ({{n, line, message}, ...}, the first MAX_PROBLEMS). problems: the
-- malformed lines as problem_lines gives them, ready for stderr.
-- Fails on a missing or unreadable file, an empty one, one where no line is
-- a record, and one mixing job types (naming the first line that differs).
function M.read(source, opts)
  if type(source) ~= "string" then error("batch.read: source must be a path or the file's text", 2) end
  opts = opts or {}
  local text = opts.text
  if text == nil then text = source:find("\n", 1, true) ~= nil or source:match("^%s*{") ~= nil end
  local name = opts.name or (text and "<string>" or source)
  local next_line, close
  if text then
    local pos = 1
    next_line = function()
      if pos > #source then return nil end
      local e = source:find("\n", pos, true)
      local line = source:sub(pos, (e or #source + 1) - 1)
      pos = (e or #source) + 1
      return line
    end
  else
    local f, err = io.open(source, "rb")
    if not f then return nil, "cannot open " .. err end
    next_line = function()
      local line, rerr = f:read("L")
      if line == nil and rerr then error({ read_error = rerr }) end
      return line and line:gsub("\n$", "")
    end
    close = function() f:close() end
  end

  local records = { name = name, lines = 0, malformed = 0, problems = {} }
  local first_problem
  local function collect()
    local line_no = 0
    while true do
      local line = next_line()
      if line == nil then return end
      line_no = line_no + 1
      line = line:gsub("\r$", "")
      if line:find("%S") then
        records.lines = records.lines + 1
        local n = records.lines
        local r, err = read_record(line)
        if r then
          if r.type and not records.type then
            records.type, records.type_line = r.type, line_no
          elseif r.type and r.type ~= records.type then
            return string.format("%s:%d: a %s record (%s) in a file of %s records (%s, from line %d): "
              .. "a batch output holds one job type", name, line_no, r.type, INPUT_SHAPE[r.type],
              records.type, INPUT_SHAPE[records.type], records.type_line)
          end
          r.n, r.line = n, line_no
          records[#records + 1] = r
        else
          records.malformed = records.malformed + 1
          local p = { n = n, line = line_no, message = err }
          first_problem = first_problem or p
          if #records.problems < M.MAX_PROBLEMS then records.problems[#records.problems + 1] = p end
        end
      end
    end
  end
  local ok, err = pcall(collect)
  if close then close() end
  if not ok then
    if type(err) == "table" and err.read_error then
      return nil, "cannot read " .. name .. ": " .. err.read_error
    end
    error(err, 0)
  end
  if err then return nil, err end
  if records.lines == 0 then
    return nil, name .. ": empty file (a batch output file holds one JSON object per line)"
  end
  if #records == 0 then
    return nil, string.format("%s: not a Personalize batch output file (JSON Lines of "
      .. '{"input", "output", "error"}): no usable line of %d; line %d: %s',
      name, records.lines, first_problem.line, first_problem.message)
  end
  return records, M.problem_lines(records)
end

-- "FILE:LINE: message" for each malformed line, and a last line counting
-- those not kept.
function M.problem_lines(records)
  local out = {}
  for _, p in ipairs(records.problems) do
    out[#out + 1] = string.format("%s:%d: %s", records.name, p.line, p.message)
  end
  if records.malformed > #records.problems then
    out[#out + 1] = string.format("%s: ... and %d more malformed lines", records.name,
      records.malformed - #records.problems)
  end
  return out
end

-- The records to show: opts.record (the Nth only) or opts.limit (the
-- first N), otherwise all. -> list | nil, err
function M.select(records, opts)
  opts = opts or {}
  if opts.record and opts.limit then return nil, "give --record or --limit, not both" end
  if opts.record then
    for _, r in ipairs(records) do
      if r.n == opts.record then return { r } end
    end
    for _, p in ipairs(records.problems) do
      if p.n == opts.record then
        return nil, string.format("record %d (%s:%d) is malformed: %s", p.n, records.name, p.line, p.message)
      end
    end
    if opts.record > records.lines then
      return nil, string.format("there is no record %d: %s has %d", opts.record, records.name, records.lines)
    end
    return nil, string.format("record %d of %s is malformed", opts.record, records.name)
  end
  return table.move(records, 1, math.min(opts.limit or #records, #records), 1, {})
end

-- Statistics ----------------------------------------------------------------

local function ok_records(records)
  local list = {}
  for _, r in ipairs(records) do
    if not r.error then list[#list + 1] = r end
  end
  return list
end

-- -> {count, ids (sorted: numeric ids by value first)}
function M.distinct_items(records)
  local seen, ids = {}, {}
  for _, r in ipairs(ok_records(records)) do
    for _, it in ipairs(r.items) do
      if not seen[it.id] then
        seen[it.id] = true
        ids[#ids + 1] = it.id
      end
    end
  end
  table.sort(ids, function(a, b)
    local x, y = tonumber(a), tonumber(b)
    if x and y and x ~= y then return x < y end
    if (x == nil) ~= (y == nil) then return x ~= nil end
    return a < b
  end)
  return { count = #ids, ids = ids }
end

-- -> {distinct, known (in movies.csv), unknown, movies, share = known / movies}
function M.coverage(ds, records)
  local d = M.distinct_items(records)
  local known = 0
  for _, id in ipairs(d.ids) do
    if ds:movie(id) then known = known + 1 end
  end
  local movies = ds:stats().movies
  return { distinct = d.count, known = known, unknown = d.count - known, movies = movies,
    share = movies > 0 and known / movies or 0 }
end

-- For a user record with a known user: {genre (the most common genre of
-- the first TOP_RECS recommendations, ties by name), count (how many of
-- them have it), of (how many were looked at), user_top (the user's
-- USER_TOP genres), match}; nil when there is nothing to compare.
function M.record_genres(ds, r)
  if r.error or not r.user or not ds:has_user(r.user) then return nil end
  local first = {}
  for i = 1, math.min(M.TOP_RECS, #r.items) do first[i] = r.items[i].id end
  local top = ds:top_genres(first, 1)[1]
  local mine = ds:top_genres(r.user, M.USER_TOP)
  if not top or #mine == 0 then return nil end
  local names, match = {}, false
  for i, g in ipairs(mine) do
    names[i] = g.genre
    if g.genre == top.genre then match = true end
  end
  return { genre = top.genre, count = top.count, of = #first, user_top = names, match = match }
end

-- -> {matched, counted, share, top_recs, user_top}: over the user records
-- that record_genres can compare.
function M.genre_match(ds, records)
  local matched, counted = 0, 0
  for _, r in ipairs(records) do
    local g = M.record_genres(ds, r)
    if g then
      counted = counted + 1
      if g.match then matched = matched + 1 end
    end
  end
  return { matched = matched, counted = counted, share = counted > 0 and matched / counted or nil,
    top_recs = M.TOP_RECS, user_top = M.USER_TOP }
end

-- Records (without error, with at least one item) whose list is exactly
-- another's. -> {records (compared), shared (records in a group), groups =
-- {{items = {ids}, count, records = {n, ...}}, ...}} groups of 2 or more,
-- largest first.
function M.identical_lists(records)
  local by_key, groups, compared = {}, {}, 0
  for _, r in ipairs(ok_records(records)) do
    if #r.items > 0 then
      compared = compared + 1
      local key = table.concat(report.ids(r.items), "\0")
      local g = by_key[key]
      if not g then
        g = { items = report.ids(r.items), count = 0, records = {} }
        by_key[key] = g
        groups[#groups + 1] = g
      end
      g.count = g.count + 1
      g.records[#g.records + 1] = r.n
    end
  end
  local shared, kept = 0, {}
  for _, g in ipairs(groups) do
    if g.count > 1 then
      kept[#kept + 1] = g
      shared = shared + g.count
    end
  end
  table.sort(kept, function(a, b)
    if a.count ~= b.count then return a.count > b.count end
    return a.records[1] < b.records[1]
  end)
  return { records = compared, shared = shared, groups = kept }
end

local function median(list)
  if #list == 0 then return nil end
  table.sort(list)
  local m = (#list + 1) // 2
  if #list % 2 == 0 then return (list[m] + list[m + 1]) / 2 end
  return list[m]
end

-- Why a group of records may share one list: how much of it is the
-- dataset's most popular movies, and how little the group's inputs (items:
-- distinct users; users: distinct items) are known compared with the other
-- records'. -> {popular_overlap, size, max_signal, others_median, unit}
function M.fallback_evidence(ds, records, group)
  local popular = {}
  for _, p in ipairs(ds:popular(#group.items)) do popular[p.id] = true end
  local overlap = 0
  for _, id in ipairs(group.items) do
    if popular[id] then overlap = overlap + 1 end
  end
  local signal, unit
  if records.type == M.ITEMS then
    local users = {}
    for _, p in ipairs(ds:popular(ds:stats().items)) do users[p.id] = p.count end
    signal = function(r) return users[r.item] or 0 end
    unit = "users"
  else
    signal = function(r)
      local h = ds:has_user(r.user) and ds:history(r.user, { unique = true })
      return h and #h or 0
    end
    unit = "items"
  end
  local inside, max_signal, others = {}, nil, {}
  for _, n in ipairs(group.records) do inside[n] = true end
  for _, r in ipairs(ok_records(records)) do
    if (r.item or r.user) and #r.items > 0 then
      local s = signal(r)
      if inside[r.n] then max_signal = math.max(max_signal or s, s)
      else others[#others + 1] = s end
    end
  end
  return { popular_overlap = overlap, size = #group.items, max_signal = max_signal,
    others_median = median(others), unit = unit }
end

-- Records whose output is not a reordering of their itemList. -> count, {n, ...}
function M.not_reordered(records)
  local list = {}
  for _, r in ipairs(ok_records(records)) do
    if r.item_list then
      local want = {}
      for _, id in ipairs(r.item_list) do want[id] = (want[id] or 0) + 1 end
      local same = #r.items == #r.item_list
      for _, it in ipairs(r.items) do
        if not want[it.id] or want[it.id] == 0 then same = false break end
        want[it.id] = want[it.id] - 1
      end
      if not same then list[#list + 1] = r.n end
    end
  end
  return #list, list
end

-- Everything the SUMMARY shows, as data.
function M.summary(ds, records)
  local s = { name = records.name, type = records.type, records = #records, errors = 0,
    malformed = records.malformed, lines = records.lines }
  for _, r in ipairs(records) do
    if r.error then s.errors = s.errors + 1 end
  end
  s.coverage = M.coverage(ds, records)
  if records.type == M.USER or records.type == M.RANKING then
    s.genre_match = M.genre_match(ds, records)
  end
  if records.type == M.RANKING then
    s.not_reordered = M.not_reordered(records)
  else
    s.identical = M.identical_lists(records)
    local top = s.identical.groups[1]
    if top then s.fallback = M.fallback_evidence(ds, records, top) end
  end
  return s
end

local function starting(ids)
  return table.concat(ids, ", ", 1, math.min(3, #ids))
end

-- The identical-lists finding as one sentence.
function M.identical_text(s)
  local id = s.identical
  if not id or #id.groups == 0 then
    return string.format("none: each of the %d records got its own list", id and id.records or 0)
  end
  local g, f = id.groups[1], s.fallback
  local text = string.format("%d of %d records got the same list (starting %s)", g.count, id.records,
    starting(g.items))
  if #id.groups > 1 then
    text = text .. string.format("; %d records share %d other lists", id.shared - g.count, #id.groups - 1)
  end
  if f and f.popular_overlap * 2 >= f.size then
    local who = s.type == M.ITEMS and "items" or "users"
    text = text .. string.format(": %d of its %d items are among the dataset's %d most popular movies, "
      .. "and those records' %s have at most %d %s in the dataset", f.popular_overlap, f.size, f.size,
      who, f.max_signal or 0, f.unit)
    if f.others_median then
      text = text .. string.format(" (median %s for the other records)",
        math.tointeger(f.others_median) or string.format("%.1f", f.others_median))
    end
    text = text .. string.format(": probably a popularity fallback for %s with too few interactions", who)
  end
  return text
end

-- The SUMMARY as {name, value} fields.
function M.summary_fields(s)
  local c = s.coverage
  local fields = {
    { "file", s.name },
    { "job_type", s.type or "unknown (no record says)" },
    { "records", s.records },
    { "records_with_errors", s.errors },
    { "malformed_lines", s.malformed },
    { "distinct_recommended_items", c.distinct },
    { "catalogue_coverage", string.format("%s (%s of %s movies)", percent(c.known, c.movies),
      thousands(c.known), thousands(c.movies)) },
  }
  if c.unknown > 0 then fields[#fields + 1] = { "items_not_in_dataset", c.unknown } end
  if s.genre_match then
    local g = s.genre_match
    fields[#fields + 1] = { "top_genre_match", string.format(
      "%d of %d records (%s): the most common genre of the first %d recommendations is among "
        .. "the user's top %d genres", g.matched, g.counted, percent(g.matched, g.counted),
      g.top_recs, g.user_top) }
  end
  if s.identical then fields[#fields + 1] = { "identical_lists", M.identical_text(s) } end
  if s.not_reordered then fields[#fields + 1] = { "not_a_reordering_of_item_list", s.not_reordered } end
  return fields
end

-- Rendering ---------------------------------------------------------------

local function record_title(r)
  if r.user then return string.format("RECORD %d: USER %s", r.n, r.user) end
  if r.item then return string.format("RECORD %d: ITEM %s", r.n, r.item) end
  return string.format("RECORD %d", r.n)
end

local function input_text(r)
  if r.item_list then return string.format("userId %s, itemList of %d", r.user, #r.item_list) end
  if r.user then return "userId " .. r.user end
  if r.item then return "itemId " .. r.item end
  return r.input_text
end

local function genre_note(ds, r)
  local g = M.record_genres(ds, r)
  if not g then return "" end
  return string.format("; the most common genre of the first %d is %s (%d of %d), %s the user's "
    .. "top %d genres (%s)", g.of, g.genre, g.count, g.of, g.match and "one of" or "not among",
    M.USER_TOP, table.concat(g.user_top, ", "))
end

local function render_user(out, ds, r, title)
  local known = ds:has_user(r.user)
  out:section(title, {
    note = not known and string.format("User %s is not in the dataset: no history to show", r.user) or nil,
    fields = { { "user_id", r.user } },
  })
  if known then
    local headers, rows = report.history_rows(ds, r.user, M.HISTORY)
    out:section(string.format("RECORD %d: RECENT USER INTERACTIONS", r.n), {
      note = string.format("The %d newest distinct items", #rows), headers = headers, rows = rows })
    local genres = ds:top_genres(r.user)
    headers, rows = report.genre_rows(table.move(genres, 1, M.GENRES_SHOWN, 1, {}))
    out:section(string.format("RECORD %d: USER TOP GENRES", r.n), {
      note = string.format("%d of the user's %d genres (each distinct item counted once)", #rows, #genres),
      headers = headers, rows = rows })
  end
  local headers, rows = report.item_rows(ds, r.items, true)
  out:section(string.format("RECORD %d: RECOMMENDED ITEMS", r.n), {
    note = string.format("%d recommendations%s", #r.items, genre_note(ds, r)),
    headers = headers, rows = rows })
end

local function render_ranking(out, ds, r, title, mismatched)
  local known = ds:has_user(r.user)
  out:section(title, {
    note = not known and string.format("User %s is not in the dataset: no history to compare with", r.user)
      or nil,
    fields = { { "user_id", r.user } },
  })
  out:section(string.format("RECORD %d: UNRANKED vs RERANKED ITEMS", r.n), {
    headers = { "Unranked Movies", "Reranked Movies" },
    rows = tbl.side_by_side({ report.titles(ds, r.item_list), report.titles(ds, r.items) }),
  })
  local headers, rows = report.item_rows(ds, r.items, true)
  out:section(string.format("RECORD %d: RERANKED ITEMS", r.n), {
    note = string.format("%d items%s%s", #r.items, genre_note(ds, r),
      mismatched[r.n] and "; the output is not a reordering of the input itemList" or ""),
    headers = headers, rows = rows })
end

local function render_items(out, ds, r, title, shared)
  local m = ds:movie(r.item)
  out:section(title, {
    note = not m and string.format("Item %s is not in movies.csv", r.item) or nil,
    fields = { { "item_id", r.item }, { "Title", m and m.title or "" },
      { "Genres", m and table.concat(m.genres, "|") or "" } },
  })
  local headers, rows = report.item_rows(ds, r.items, r.scored)
  local note = string.format("%d similar items", #r.items)
  if shared[r.n] then
    note = note .. string.format("; the same list as %d other records (see SUMMARY)", shared[r.n] - 1)
  end
  out:section(string.format("RECORD %d: SIMILAR ITEMS", r.n), { note = note, headers = headers, rows = rows })
end

-- batch.render(ds, records, [opts]) -> summary | nil, err
-- Renders the chosen records (opts.record or opts.limit, see select), the
-- records with errors and the SUMMARY of the whole file through mlpz.report
-- (opts.format, or sections added to opts.report, which is then left
-- unfinished for the caller to add to). Nothing is printed when the
-- selection is invalid.
function M.render(ds, records, opts)
  opts = opts or {}
  local chosen, err = M.select(records, opts)
  if not chosen then return nil, err end
  local s = M.summary(ds, records)
  local out = opts.report or report.new(opts.format)

  local shared, mismatched = {}, {}
  for _, g in ipairs(s.identical and s.identical.groups or {}) do
    for _, n in ipairs(g.records) do shared[n] = g.count end
  end
  if s.not_reordered then
    local _, list = M.not_reordered(records)
    for _, n in ipairs(list) do mismatched[n] = true end
  end

  for _, r in ipairs(chosen) do
    local title = record_title(r)
    if r.error then
      out:section(title, { note = "Error: " .. r.error, fields = { { "input", input_text(r) } } })
    elseif r.type == M.USER then
      render_user(out, ds, r, title)
    elseif r.type == M.RANKING then
      render_ranking(out, ds, r, title, mismatched)
    else
      render_items(out, ds, r, title, shared)
    end
  end

  if s.errors > 0 then
    local rows = {}
    for _, r in ipairs(records) do
      if r.error then rows[#rows + 1] = { r.n, r.line, input_text(r), r.error } end
    end
    out:section("RECORDS WITH ERRORS", { headers = { "RECORD", "LINE", "INPUT", "ERROR" }, rows = rows })
  end
  if s.identical and #s.identical.groups > 0 then
    local rows = {}
    for i, g in ipairs(s.identical.groups) do
      rows[i] = { g.count, starting(g.items), table.concat(g.records, ", ") }
    end
    out:section("IDENTICAL LISTS", {
      note = "Records that got exactly the same list as another record",
      headers = { "COUNT", "STARTING WITH", "RECORDS" }, rows = rows })
  end
  local fields = M.summary_fields(s)
  local note = #chosen < #records
    and string.format("Over all %d records of the file (%d shown)", #records, #chosen) or nil
  if out.format == "csv" then
    local rows = {}
    for i, f in ipairs(fields) do rows[i] = f end
    out:section("SUMMARY", { headers = { "MEASURE", "VALUE" }, rows = rows })
  else
    out:section("SUMMARY", { note = note, fields = fields })
  end
  if not opts.report then out:finish() end
  return s
end

return M
