-- mlpz.table: rows of cells as text, in three renderings.
--   "table": the grid of Python tabulate's "pretty" format, the one the AWS
--            sample notebooks print (every cell centred, one space of padding),
--            aligned by terminal display width so accents, CJK and emoji line up;
--   "json":  an array of objects whose keys keep the header order;
--   "csv":   RFC 4180 with LF line ends, for spreadsheets and pipes.
-- A row is a list of cells in header order or a map keyed by header.
local text = require "mlpz.text"
local cjson = require "cjson"

local M = {}

local FORMATS = { table = true, json = true, csv = true }

-- Errors raised by prepare() point at the script that called render/print:
-- prepare's frame, then render's or print's, then the caller's.
local CALLER = 3

local function fail(fmt, ...)
  error("mlpz.table: " .. string.format(fmt, ...), CALLER + 1)
end

-- Checks everything up front so the renderers cannot fail half-way, and
-- turns rows into plain arrays of n values (nil for blank cells).
local function prepare(rows, opts)
  if type(opts) ~= "table" then
    fail("options must be a table such as {headers = {\"TITLE\", \"GENRES\"}}, got %s",
      type(opts))
  end
  local headers = opts.headers
  if type(headers) ~= "table" or #headers == 0 then
    fail("opts.headers must be a non-empty list of column names")
  end
  local n = #headers
  local seen = {}
  for i = 1, n do
    local h = headers[i]
    if type(h) ~= "string" then
      fail("opts.headers[%d] is a %s; column names must be strings", i, type(h))
    end
    if seen[h] then
      fail("opts.headers has '%s' twice (columns %d and %d); names must be unique",
        h, seen[h], i)
    end
    seen[h] = i
  end

  local format = opts.format or "table"
  if not FORMATS[format] then
    fail("unknown format '%s' (use table, json or csv)", tostring(format))
  end

  local max_width = opts.max_width
  if max_width ~= nil then
    max_width = math.tointeger(max_width)
    if not max_width or max_width < 1 then
      fail("opts.max_width must be a whole number of columns, 1 or more, got %s",
        tostring(opts.max_width))
    end
  end

  if type(rows) ~= "table" then
    fail("rows must be a list of rows, got %s", type(rows))
  end
  local data = {}
  for r = 1, #rows do
    local row = rows[r]
    if type(row) ~= "table" then
      fail("row %d is a %s; a row is a list of cells or a map keyed by header",
        r, type(row))
    end
    for k in pairs(row) do
      if math.type(k) == "integer" and (k < 1 or k > n) then
        fail("row %d has a cell at index %d but there are %d headers", r, k, n)
      end
    end
    local out = {}
    for c = 1, n do
      local v = row[c]
      if v == nil then v = row[headers[c]] end
      local t = type(v)
      if t == "number" then
        if v ~= v then v = nil end -- NaN is pandas' "missing": a blank cell
      elseif t ~= "string" and t ~= "boolean" and t ~= "nil" then
        fail("row %d, column '%s': cell is a %s; cells must be strings, numbers, "
          .. "booleans or nil (join lists first, e.g. table.concat(genres, '|'))",
          r, headers[c], t)
      end
      out[c] = v
    end
    data[r] = out
  end
  return headers, n, data, format, max_width
end

-- Shortest decimal text that reads back as the same float, as JSON and CSV
-- consumers need the value itself rather than its display form.
local function exact_float(x)
  for _, digits in ipairs { 15, 16, 17 } do
    local s = string.format("%." .. digits .. "g", x)
    if tonumber(s) == x then return s end
  end
end

-- The notebooks' display form: 7 decimals, trailing zeros dropped.
local function display_float(x)
  if x == math.huge then return "inf" end
  if x == -math.huge then return "-inf" end
  if math.abs(x) >= 1e16 then return exact_float(x) end
  local s = string.format("%.7f", x):gsub("0+$", ""):gsub("%.$", "")
  if s == "-0" then s = "0" end
  return s
end

local function display(v)
  if v == nil then return "" end
  if math.type(v) == "integer" then return string.format("%d", v) end
  if math.type(v) == "float" then return display_float(v) end
  return tostring(v)
end

-- A newline would break the grid and an escape sequence would drive the
-- terminal: whitespace controls become spaces, other controls U+FFFD.
local function printable(s)
  return (s:gsub("[\t\n\v\f\r]", " ")
           :gsub("[\0-\31\127]", "\u{FFFD}")
           :gsub("\xC2[\x80-\x9F]", "\u{FFFD}"))
end

local function centre(s, s_width, width)
  local pad = width - s_width
  local left = pad // 2
  return string.rep(" ", left) .. s .. string.rep(" ", pad - left)
end

local function render_table(headers, n, data, max_width)
  local cells, widths = {}, {}
  local function measure(r, list)
    local row = { text = {}, width = {} }
    for c = 1, n do
      local s = printable(list[c])
      if max_width and r > 0 then s = text.truncate(s, max_width) end
      local w = text.width(s)
      row.text[c], row.width[c] = s, w
      if w > (widths[c] or 0) then widths[c] = w end
    end
    return row
  end
  local head = measure(0, headers)
  for r = 1, #data do
    local strings = {}
    for c = 1, n do strings[c] = display(data[r][c]) end
    cells[r] = measure(r, strings)
  end

  local dashes = {}
  for c = 1, n do dashes[c] = string.rep("-", widths[c] + 2) end
  local border = "+" .. table.concat(dashes, "+") .. "+\n"
  local function line(row)
    local parts = {}
    for c = 1, n do parts[c] = centre(row.text[c], row.width[c], widths[c]) end
    return "| " .. table.concat(parts, " | ") .. " |\n"
  end

  local out = { border, line(head), border }
  for r = 1, #cells do out[#out + 1] = line(cells[r]) end
  out[#out + 1] = border
  return table.concat(out)
end

-- JSON text must be UTF-8 (RFC 8259): each stray byte becomes U+FFFD, as
-- it counts one column in the table rendering.
local function valid_utf8(s)
  if utf8.len(s) then return s end
  local out, i = {}, 1
  while i <= #s do
    local ok, bad = utf8.len(s, i)
    if ok then
      out[#out + 1] = s:sub(i)
      break
    end
    out[#out + 1] = s:sub(i, bad - 1) .. "\u{FFFD}"
    i = bad + 1
  end
  return table.concat(out)
end

local function json_value(v)
  local mt = math.type(v)
  if mt == "integer" then return string.format("%d", v) end
  if mt == "float" then
    if v == math.huge or v == -math.huge then return "null" end
    return exact_float(v)
  end
  if v == nil then return "null" end
  if type(v) == "string" then v = valid_utf8(v) end
  return cjson.encode(v)
end

local function render_json(headers, n, data)
  if #data == 0 then return "[]\n" end
  local keys = {}
  for c = 1, n do keys[c] = cjson.encode(valid_utf8(headers[c])) .. ":" end
  local out = {}
  for r = 1, #data do
    local fields = {}
    for c = 1, n do fields[c] = keys[c] .. json_value(data[r][c]) end
    out[r] = "  {" .. table.concat(fields, ",") .. "}"
  end
  return "[\n" .. table.concat(out, ",\n") .. "\n]\n"
end

local function csv_field(v)
  local s
  if math.type(v) == "integer" then
    s = string.format("%d", v)
  elseif math.type(v) == "float" then
    s = exact_float(v)
  elseif v == nil then
    s = ""
  else
    s = tostring(v)
  end
  if s:find('[,"\r\n]') then s = '"' .. s:gsub('"', '""') .. '"' end
  return s
end

local function render_csv(headers, n, data)
  local out = {}
  local function add(list)
    local fields = {}
    for c = 1, n do fields[c] = csv_field(list[c]) end
    out[#out + 1] = table.concat(fields, ",") .. "\n"
  end
  add(headers)
  for r = 1, #data do add(data[r]) end
  return table.concat(out)
end

local function render(headers, n, data, format, max_width)
  if format == "json" then return render_json(headers, n, data) end
  if format == "csv" then return render_csv(headers, n, data) end
  return render_table(headers, n, data, max_width)
end

-- table.render(rows, opts) -> string ending in a newline.
function M.render(rows, opts)
  local s = render(prepare(rows, opts))
  return s
end

-- table.print(rows, opts): render() written to io.stdout.
function M.print(rows, opts)
  local s = render(prepare(rows, opts))
  io.stdout:write(s)
end

-- table.side_by_side(columns [, headers]) -> rows: row i holds the i-th
-- value of every column, nil (a blank cell) where a column is shorter.
-- With headers the rows are maps keyed by header, else lists.
function M.side_by_side(columns, headers)
  if type(columns) ~= "table" then
    error("mlpz.table.side_by_side: columns must be a list of lists, got "
      .. type(columns), 2)
  end
  local longest = 0
  for i = 1, #columns do
    if type(columns[i]) ~= "table" then
      error(string.format("mlpz.table.side_by_side: column %d is a %s, not a list",
        i, type(columns[i])), 2)
    end
    longest = math.max(longest, #columns[i])
  end
  if headers ~= nil and (type(headers) ~= "table" or #headers ~= #columns) then
    error(string.format("mlpz.table.side_by_side: %d columns need %d headers, got %s",
      #columns, #columns, type(headers) == "table" and #headers or type(headers)), 2)
  end
  local rows = {}
  for r = 1, longest do
    local row = {}
    for c = 1, #columns do row[headers and headers[c] or c] = columns[c][r] end
    rows[r] = row
  end
  return rows
end

return M
