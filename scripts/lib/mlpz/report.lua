-- A demo's output as a sequence of titled sections, rendered as the text
-- report people know (banner lines and pretty tables), as one JSON document
-- (section titles become snake_case keys), or as CSV blocks (one per table,
-- each introduced by a "# TITLE" line), so every demo pipes the same way.
local tbl = require "mlpz.table"
local cjson = require "cjson"

local M = {}

local Report = {}
Report.__index = Report

function M.new(format)
  return setmetatable({ format = format or "table", parts = {} }, Report)
end

local function key_of(title)
  return (title:lower():gsub("[^%w]+", "_"):gsub("^_", ""):gsub("_$", ""))
end

local function text_value(v)
  if type(v) == "table" then return "[" .. table.concat(v, ", ") .. "]" end
  return tostring(v)
end

-- spec: note (a sentence), fields (list of {name, value}), headers + rows
-- (a table, rendered with mlpz.table).
function Report:section(title, spec)
  if self.format == "table" then
    local out = { "\n************ " .. title .. " ***************\n" }
    if spec.note then out[#out + 1] = spec.note .. "\n" end
    for _, f in ipairs(spec.fields or {}) do
      out[#out + 1] = f[1] .. ": " .. text_value(f[2]) .. "\n"
    end
    if spec.rows then
      if spec.fields or spec.note then out[#out + 1] = "\n" end
      out[#out + 1] = tbl.render(spec.rows, { headers = spec.headers })
    end
    io.stdout:write(table.concat(out))
  elseif self.format == "csv" then
    if spec.rows then
      io.stdout:write(#self.parts > 0 and "\n" or "", "# ", title, "\n",
        tbl.render(spec.rows, { headers = spec.headers, format = "csv" }))
      self.parts[#self.parts + 1] = title
    end
  else
    local json
    if spec.rows then
      json = tbl.render(spec.rows, { headers = spec.headers, format = "json" }):gsub("\n$", "")
    end
    if spec.fields or spec.note then
      local members = {}
      if spec.note then members[1] = '"note":' .. cjson.encode(spec.note) end
      for _, f in ipairs(spec.fields or {}) do
        members[#members + 1] = cjson.encode(f[1]) .. ":" .. cjson.encode(f[2])
      end
      if json then members[#members + 1] = '"rows":' .. json end
      json = "{" .. table.concat(members, ",") .. "}"
    end
    self.parts[#self.parts + 1] = cjson.encode(key_of(title)) .. ":" .. json
  end
end

function Report:finish()
  if self.format == "json" then
    io.stdout:write("{", table.concat(self.parts, ",\n"), "}\n")
  end
  io.stdout:flush()
end

-- 158371 -> "158,371", as counts are shown to people.
function M.thousands(n)
  local s = tostring(n)
  while true do
    local t, k = s:gsub("^(%d+)(%d%d%d)", "%1,%2")
    s = t
    if k == 0 then return s end
  end
end

-- Rows builders shared by the demos. Genres are shown joined by "|" as in
-- movies.csv.

local function genres_text(m)
  return m and table.concat(m.genres, "|") or nil
end

function M.history_rows(ds, user, limit)
  local rows = {}
  for _, h in ipairs(assert(ds:history(user, { limit = limit, unique = true }))) do
    local m = ds:movie(h.item)
    rows[#rows + 1] = { h.item, h.event, m and m.title, genres_text(m), h.date }
  end
  return { "ITEM_ID", "EVENT_TYPE", "TITLE", "GENRES", "DATE" }, rows
end

function M.genre_rows(genres)
  local rows = {}
  for _, g in ipairs(genres) do rows[#rows + 1] = { g.genre, g.count } end
  return { "GENRE", "COUNT" }, rows
end

-- items: list of ids, or of {id =, score =}. with_score adds a SCORE column
-- (blank for items the model could not score).
function M.item_rows(ds, items, with_score)
  local rows = {}
  for _, it in ipairs(items) do
    local id = type(it) == "table" and it.id or it
    local m = ds:movie(id)
    local row = { id, m and m.title, genres_text(m) }
    if with_score then row[4] = it.score end
    rows[#rows + 1] = row
  end
  local headers = { "ITEM_ID", "TITLE", "GENRES" }
  if with_score then headers[4] = "SCORE" end
  return headers, rows
end

function M.ids(items)
  local ids = {}
  for i, it in ipairs(items) do ids[i] = type(it) == "table" and it.id or it end
  return ids
end

function M.titles(ds, items)
  local titles = {}
  for i, id in ipairs(M.ids(items)) do
    local m = ds:movie(id)
    titles[i] = m and m.title or id
  end
  return titles
end

-- Genre names of ds:top_genres(...) in order.
function M.genre_names(genres)
  local names = {}
  for i, g in ipairs(genres) do names[i] = g.genre end
  return names
end

return M
