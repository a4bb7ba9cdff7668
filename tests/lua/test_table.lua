-- mlpz.table and mlpz.text: the seed samples' tables rebuilt byte for byte,
-- alignment by display width (checked by an independent Python measure),
-- and the json / csv renderings parsed back by independent parsers.
local t = dofile "tests/lua/harness.lua"
local text = require "mlpz.text"
local tbl = require "mlpz.table"
local cjson = require "cjson"

local SHARED = os.getenv("MLPZ_SHARED") or "../shared"
local DATA = os.getenv("MLPZ_DATA") or (SHARED .. "/datasets/ml-latest-small")
local SAMPLES = SHARED .. "/seed-samples"

local function lines_of(s)
  local out = {}
  for line in s:gmatch("([^\n]*)\n") do out[#out + 1] = line end
  return out
end

-- Runs a Python program on a file holding `input`; returns its stdout.
local function python(code, input)
  local prog, data = os.tmpname(), os.tmpname()
  local f = assert(io.open(prog, "wb")); f:write(code); f:close()
  f = assert(io.open(data, "wb")); f:write(input or ""); f:close()
  local p = assert(io.popen("python3 " .. prog .. " " .. data, "r"))
  local out = p:read("a")
  local ok, how, code_ = p:close()
  os.remove(prog); os.remove(data)
  assert(ok, "python3 failed: " .. tostring(how) .. " " .. tostring(code_))
  return out
end

-- Display width per line, computed from the Unicode database alone: a
-- different method than wcwidth(). Invalid UTF-8 bytes decode to lone
-- surrogates (surrogateescape), one column each.
local PY_WIDTHS = [[
import sys, unicodedata
def width(s):
    w = 0
    for ch in s:
        cat = unicodedata.category(ch)
        if cat == "Cs": w += 1
        elif cat in ("Cc", "Mn", "Me", "Cf"): pass
        elif unicodedata.east_asian_width(ch) in ("W", "F"): w += 2
        else: w += 1
    return w
data = open(sys.argv[1], "rb").read().decode("utf-8", "surrogateescape")
for line in data.split("\n")[:-1]:
    print(width(line))
]]

local function py_widths(lines)
  local out = {}
  for w in python(PY_WIDTHS, table.concat(lines, "\n") .. "\n"):gmatch("%d+") do
    out[#out + 1] = tonumber(w)
  end
  return out
end

---------------------------------------------------------------- seed samples

-- Splits a sample file into its tables: {title, lines, header, rows}, with
-- cells cut at " | " (genres hold a bare "|") and typed back as the
-- notebooks had them: integers, floats, nan as nil.
local function sample_tables(path)
  local lines = lines_of(t.slurp(path))
  local tables, title = {}, nil
  local i = 1
  while i <= #lines do
    local line = lines[i]
    local heading = line:match("^%*+ (.-) %*+$")
    if heading then title = heading end
    if line:sub(1, 2) == "+-" then
      local border = line
      local function cells(l)
        local out = {}
        for cell in (l:sub(2, -2) .. "|"):gmatch(" (.-) |") do
          out[#out + 1] = cell:match("^%s*(.-)%s*$")
        end
        return out
      end
      local tab = { title = title, lines = { border }, rows = {} }
      tab.header = cells(lines[i + 1])
      tab.lines[2], tab.lines[3] = lines[i + 1], lines[i + 2]
      i = i + 3
      while lines[i] ~= border do
        local row = cells(lines[i])
        for c = 1, #row do
          local v = row[c]
          if v == "nan" then
            row[c] = nil
          elseif v:match("^%-?%d+$") then
            row[c] = math.tointeger(tonumber(v))
          elseif v:match("^%-?%d+%.%d+$") then
            row[c] = tonumber(v) + 0.0
          end
        end
        tab.rows[#tab.rows + 1] = row
        -- nan cells render blank on purpose: same width, spaces instead.
        tab.lines[#tab.lines + 1] = lines[i]:gsub("| nan |", "|     |")
          :gsub(" nan ", "     ", 1)
        i = i + 1
      end
      tab.lines[#tab.lines + 1] = border
      tables[#tables + 1] = tab
    end
    i = i + 1
  end
  return tables
end

local function expected_text(tab)
  return table.concat(tab.lines, "\n") .. "\n"
end

local sample_files = {
  "ranking-demo-output.txt", "similar-items-demo-output.txt",
  "user-personalization-demo-output.txt",
}

local all_tables = {}
for _, name in ipairs(sample_files) do
  for _, tab in ipairs(sample_tables(SAMPLES .. "/" .. name)) do
    tab.file = name
    all_tables[#all_tables + 1] = tab
  end
end

t.test("the seed samples hold the 10 tables expected", function()
  t.eq(#all_tables, 10)
end)

for _, tab in ipairs(all_tables) do
  t.test(string.format("%s '%s' rebuilt byte for byte", tab.file, tab.title), function()
    local got = tbl.render(tab.rows, { headers = tab.header })
    t.eq(got, expected_text(tab))
  end)
end

local function find_table(file, title)
  for _, tab in ipairs(all_tables) do
    if tab.file == file and tab.title == title then return tab end
  end
  error("no table " .. title .. " in " .. file)
end

t.test("USER TOP GENRES from map rows keyed by header", function()
  local tab = find_table("user-personalization-demo-output.txt", "USER TOP GENRES")
  local rows = {}
  for i, r in ipairs(tab.rows) do rows[i] = { GENRE = r[1], COUNT = r[2] } end
  t.ok(math.type(rows[1].COUNT) == "integer", "counts are integers")
  t.eq(tbl.render(rows, { headers = { "GENRE", "COUNT" } }), expected_text(tab))
end)

t.test("TOP USER vs RECOMMENDATIONS GENRES through side_by_side", function()
  local tab = find_table("user-personalization-demo-output.txt",
    "TOP USER vs RECOMMENDATIONS GENRES")
  local user, recs = {}, {}
  for _, r in ipairs(tab.rows) do
    user[#user + 1] = r[1]
    if r[2] ~= nil then recs[#recs + 1] = r[2] end
  end
  t.eq({ #user, #recs }, { 13, 11 })
  local rows = tbl.side_by_side({ user, recs }, tab.header)
  t.eq(#rows, 13)
  t.eq(rows[12][tab.header[2]], nil)
  local got = tbl.render(rows, { headers = tab.header })
  t.eq(got, expected_text(tab))
  t.ok(not got:find("nan", 1, true), "no nan in the output")
  t.eq(lines_of(got)[15], "|    Animation    |                 |")
end)

t.test("RERANKED ITEMS scores keep the sample's 7-decimal form", function()
  local tab = find_table("ranking-demo-output.txt", "RERANKED ITEMS")
  local scores = {}
  for _, r in ipairs(tab.rows) do scores[#scores + 1] = r[4] end
  t.eq(scores[1], 0.2283751)
  t.eq(scores[11], 0.017293) -- printed "0.017293": trailing zero stripped
  t.eq(scores[15], nil)      -- "nan" in the sample
  local got = lines_of(tbl.render(tab.rows, { headers = tab.header }))
  t.ok(got[14]:find("| 0.017293  |", 1, true), got[14])
  t.ok(got[18]:find("|           |", 1, true), got[18])
end)

---------------------------------------------------------------- text.width

t.test("text.width of ASCII, accents, CJK, controls, invalid bytes", function()
  t.eq(text.width(""), 0)
  t.eq(text.width("Godfather, The (1972)"), 21)
  t.eq(text.width("Léon"), 4, "precomposed é")
  t.eq(text.width("Le\u{301}on"), 4, "combining acute")
  t.eq(text.width("e\u{301}"), 1)
  t.eq(text.width("七人の侍"), 8)
  t.eq(text.width("한국어"), 6)
  t.eq(text.width("ＡＢ"), 4, "fullwidth forms")
  t.eq(text.width("😀🎬"), 4, "emoji")
  t.eq(text.width("a\tb\n\27[0m"), 5, "controls take no column")
  t.eq(text.width("\u{85}"), 0, "C1 control")
  t.eq(text.width("\xff\xfe"), 2, "invalid bytes one column each")
  t.eq(text.width("\xe4\xb8"), 2, "truncated sequence")
  t.eq(text.width("ab\0cd"), 4, "embedded NUL")
  t.raises(function() text.width({}) end, "string expected")
end)

t.test("text.width leaves the process locale alone", function()
  local before = os.setlocale(nil, "ctype")
  text.width("七人の侍")
  t.eq(os.setlocale(nil, "ctype"), before)
  t.eq(text.libc_widths, true, "C.UTF-8 found on this machine")
end)

-- Every title of movies.csv, measured by Python from the Unicode database.
t.test("text.width agrees with Python on all movies.csv titles", function()
  local path = DATA .. "/movies.csv"
  local out = python([[
import csv, json, sys
with open(open(sys.argv[1]).read().strip(), encoding="utf-8", newline="") as f:
    print(json.dumps([r["title"] for r in csv.DictReader(f)], ensure_ascii=False))
]], path)
  local titles = cjson.decode(out)
  t.eq(#titles, 9742)
  local want = py_widths(titles)
  local bad, nonascii = {}, 0
  for i, title in ipairs(titles) do
    if title:find("[\128-\255]") then nonascii = nonascii + 1 end
    if text.width(title) ~= want[i] then bad[#bad + 1] = title end
  end
  t.ok(nonascii > 200, "titles with accents are covered: " .. nonascii)
  t.eq(bad, {})
end)

---------------------------------------------------------------- alignment

local tricky = {
  { "Léon: The Professional (1994)", "precomposed" },
  { "Le\u{301}on (combining)", "combining" },
  { "七人の侍 (1954)", "Drama" },
  { "千と千尋の神隠し", "Animation|Fantasy" },
  { "Emoji 😀🎬 night", "Comedy" },
  { "bad \xff\xfe bytes", "invalid" },
  { "half \xe4\xb8 char", nil },
  { "Pokémon 3: The Movie (2001)", "Animation|Children" },
}

t.test("every line of a table with wide and combining cells has one width", function()
  local s = tbl.render(tricky, { headers = { "TITLE", "GENRES" } })
  local lines = lines_of(s)
  t.eq(#lines, #tricky + 4)
  local border = text.width(lines[1])
  for i, line in ipairs(lines) do
    t.eq(text.width(line), border, "line " .. i)
  end
  -- The column separators sit at the same display column on every line
  -- (a bare "|" inside a genre list is not one: separators have spaces).
  local function bars(line)
    local cols = {}
    for pos in line:gmatch("()[+|]") do
      local before, after = line:sub(pos - 1, pos - 1), line:sub(pos + 1, pos + 1)
      if line:sub(pos, pos) == "+" or (before == "" or before == " ")
          and (after == "" or after == " ") then
        cols[#cols + 1] = text.width(line:sub(1, pos - 1))
      end
    end
    return cols
  end
  local want = bars(lines[1])
  for i = 2, #lines do t.eq(bars(lines[i]), want, "separators of line " .. i) end
end)

t.test("Python measures the same width on every rendered line", function()
  local lines = lines_of(tbl.render(tricky, { headers = { "TITLE", "GENRES" } }))
  local widths = py_widths(lines)
  t.eq(#widths, #lines)
  for i = 1, #lines do t.eq(widths[i], text.width(lines[1]), "line " .. i) end
end)

t.test("cells are centred with the odd space on the right", function()
  local s = tbl.render({ { "ab", "七" } }, { headers = { "HEADER", "WIDE_COL" } })
  t.eq(lines_of(s)[4], "|   ab   |    七    |")
end)

t.test("controls in cells cannot break the grid or reach the terminal", function()
  local s = tbl.render({ { "two\nlines", "esc\27[31mred" } }, { headers = { "A", "B" } })
  local lines = lines_of(s)
  t.eq(#lines, 5)
  t.eq(lines[4], "| two lines | esc\u{FFFD}[31mred |")
  t.ok(not s:find("\27", 1, true), "no ESC byte left")
end)

t.test("empty rows give the header between borders", function()
  t.eq(tbl.render({}, { headers = { "GENRE", "COUNT" } }),
    "+-------+-------+\n| GENRE | COUNT |\n+-------+-------+\n+-------+-------+\n")
end)

---------------------------------------------------------------- cells

t.test("cell values: nil, integers, floats, booleans", function()
  local rows = {
    { nil, 42, 0.0112908, true },
    { "x", -7, 0.0, false },
    { "y", 3, 2.5, nil },
    { "z", 0, 1 / 3, nil },
    { "w", 1, 0 / 0, nil },
  }
  local lines = lines_of(tbl.render(rows, { headers = { "S", "I", "F", "B" } }))
  t.eq(lines[4], "|   | 42 | 0.0112908 | true  |")
  t.eq(lines[5], "| x | -7 |     0     | false |")
  t.eq(lines[6], "| y | 3  |    2.5    |       |")
  t.eq(lines[7], "| z | 0  | 0.3333333 |       |")
  t.eq(lines[8], "| w | 1  |           |       |", "NaN is a blank cell")
end)

t.test("max_width truncates cells with an ellipsis, keeping alignment", function()
  local rows = { { "Abominable Snowman, The (1957)" }, { "七人の侍 (1954)" }, { "short" } }
  local lines = lines_of(tbl.render(rows, { headers = { "TITLE" }, max_width = 10 }))
  t.eq(lines[4], "| Abominabl… |")
  t.eq(lines[5], "| 七人の侍 … |")
  t.eq(lines[6], "|   short    |")
  for _, line in ipairs(lines) do t.eq(text.width(line), 14) end
end)

---------------------------------------------------------------- truncate

t.test("text.truncate never splits a character and fits the columns", function()
  local samples = {
    "Léon: The Professional", "Le\u{301}on e\u{301}te\u{301}", "七人の侍 (1954)",
    "😀🎬 movie night", "ok\xff\xe4\xb8 bad", "plain ascii",
  }
  for _, s in ipairs(samples) do
    local width = text.width(s)
    for cols = 0, width + 1 do
      local r = text.truncate(s, cols)
      t.ok(text.width(r) <= cols, ("%q at %d is %q"):format(s, cols, r))
      if cols >= width then
        t.eq(r, s)
      else
        local prefix = r:gsub("…$", "")
        t.ok(cols == 0 or prefix ~= r, "ellipsis appended at " .. cols)
        t.eq(s:sub(1, #prefix), prefix, "a prefix of the original")
        local rest = s:sub(#prefix + 1)
        if utf8.len(s) then
          t.ok(utf8.len(prefix), "valid UTF-8 prefix")
          t.ok(rest == "" or not rest:find("^[\x80-\xBF]"),
            ("%q cut inside a character at %d"):format(s, cols))
        end
        local next_char = rest:match("^[\0-\x7F\xC2-\xF4][\x80-\xBF]*") or rest:sub(1, 1)
        if cols >= 1 then
          t.ok(text.width(prefix .. next_char) > cols - 1,
            ("%q at %d is not the longest prefix"):format(s, cols))
        end
      end
    end
  end
  t.eq(text.truncate("七人の侍", 5), "七人…")
  t.eq(text.truncate("七人の侍", 4), "七…")
  t.eq(text.truncate("e\u{301}te\u{301}", 2), "e\u{301}…")
  t.raises(function() text.truncate("abc", -1) end, "columns must be 0 or more")
end)

---------------------------------------------------------------- json

local mixed_headers = { "ITEM_ID", "TITLE", "SCORE", "RANK", "SEEN", "NOTE" }
local mixed_rows = {
  { "1302", "Field of Dreams (1989)", 0.0112908, 1, true, nil },
  { "3703", 'Road Warrior, The "Mad Max 2" (1981)', 0.1 + 0.2, 9007199254740993, false,
    "tab\there, newline\nthere, slash / backslash \\" },
  { "7899", "七人の侍 / Le\u{301}on 😀", nil, -3, nil, "a,b" },
}

t.test("json output decodes back to the same values", function()
  local s = tbl.render(mixed_rows, { headers = mixed_headers, format = "json" })
  local back = cjson.decode(s)
  t.eq(#back, #mixed_rows)
  for r, row in ipairs(mixed_rows) do
    for c, h in ipairs(mixed_headers) do
      local want = row[c]
      if want == nil then want = cjson.null end
      if h ~= "RANK" or math.abs(row[c]) < 2 ^ 53 then
        t.eq(back[r][h], want, ("row %d %s"):format(r, h))
      end
    end
  end
  t.ok(s:find("9007199254740993", 1, true), "large integers stay exact")
  t.ok(s:find("0.30000000000000004", 1, true), "floats keep every digit")
end)

t.test("json keys follow the header order in the text", function()
  local s = tbl.render(mixed_rows, { headers = mixed_headers, format = "json" })
  local lines = lines_of(s)
  t.eq(lines[1], "[")
  t.eq(lines[#lines], "]")
  for i = 2, #lines - 1 do
    local last = 0
    for _, h in ipairs(mixed_headers) do
      local at = lines[i]:find('"' .. h .. '":', 1, true)
      t.ok(at and at > last, ("%s in order on line %d"):format(h, i))
      last = at
    end
  end
  t.eq(tbl.render({}, { headers = { "A" }, format = "json" }), "[]\n")
end)

t.test("json output is valid UTF-8 even from invalid bytes", function()
  local s = tbl.render({ { "bad \xff\xfe bytes", "half \xe4\xb8" } },
    { headers = { "A\xff", "B" }, format = "json" })
  local back = cjson.decode(python([[
import json, sys
rows = json.loads(open(sys.argv[1], "rb").read().decode("utf-8", "strict"))
print(json.dumps(rows))
]], s))
  t.eq(back, { { ["A\u{FFFD}"] = "bad \u{FFFD}\u{FFFD} bytes", B = "half \u{FFFD}\u{FFFD}" } })
end)

---------------------------------------------------------------- csv

t.test("csv round-trips through Python's csv module", function()
  local s = tbl.render(mixed_rows, { headers = mixed_headers, format = "csv" })
  local back = cjson.decode(python([[
import csv, json, sys
with open(sys.argv[1], encoding="utf-8", newline="") as f:
    print(json.dumps(list(csv.reader(f, strict=True))))
]], s))
  t.eq(back[1], mixed_headers)
  t.eq(#back, #mixed_rows + 1)
  for r, row in ipairs(mixed_rows) do
    for c = 1, #mixed_headers do
      local v, want = row[c], nil
      if v == nil then want = ""
      elseif math.type(v) == "float" then want = v
      else want = tostring(v) end
      local got = back[r + 1][c]
      if math.type(v) == "float" then got = tonumber(got) end
      t.eq(got, want, ("row %d column %d"):format(r, c))
    end
  end
end)

t.test("csv quotes only what needs quoting, LF line ends", function()
  local s = tbl.render({ { "plain", "a,b", 'say "hi"', "x\r\ny", nil } },
    { headers = { "A", "B", "C", "D", "E" }, format = "csv" })
  t.eq(s, 'A,B,C,D,E\nplain,"a,b","say ""hi""","x\r\ny",\n')
end)

---------------------------------------------------------------- side_by_side

t.test("side_by_side pads shorter columns with blank cells", function()
  local rows = tbl.side_by_side({ { "Drama", "Comedy", "War" }, { "Drama" }, {} },
    { "USER", "RECS", "NONE" })
  t.eq(#rows, 3)
  t.eq(rows[2], { USER = "Comedy" })
  local lines = lines_of(tbl.render(rows, { headers = { "USER", "RECS", "NONE" } }))
  t.eq(lines[5], "| Comedy |       |      |")
  local list_rows = tbl.side_by_side({ { 1, 2 }, { "a" } })
  t.eq(list_rows, { { 1, "a" }, { 2 } })
  local csv = tbl.render(list_rows, { headers = { "N", "L" }, format = "csv" })
  t.eq(csv, "N,L\n1,a\n2,\n")
  t.raises(function() tbl.side_by_side({ {} }, { "A", "B" }) end, "1 columns need 1 headers")
  t.raises(function() tbl.side_by_side({ "x" }) end, "column 1 is a string")
end)

---------------------------------------------------------------- errors

t.test("errors name the problem and how to fix it", function()
  local h = { headers = { "GENRE", "COUNT" } }
  t.raises(function() tbl.render({}, { headers = { "A" }, format = "xml" }) end,
    "unknown format 'xml' (use table, json or csv)")
  t.raises(function() tbl.render({ { "Drama", { 1, 2 } } }, h) end,
    "row 1, column 'COUNT': cell is a table")
  t.raises(function() tbl.render({ { GENRE = print } }, h) end,
    "column 'GENRE': cell is a function")
  t.raises(function() tbl.render({ { 1, 2, 3 } }, h) end,
    "row 1 has a cell at index 3 but there are 2 headers")
  t.raises(function() tbl.render({ "Drama" }, h) end, "row 1 is a string")
  t.raises(function() tbl.render({}, {}) end, "opts.headers must be a non-empty list")
  t.raises(function() tbl.render({}, { headers = { "A", 2 } }) end, "opts.headers[2] is a number")
  t.raises(function() tbl.render({}, { headers = { "A", "A" } }) end, "'A' twice")
  t.raises(function() tbl.render({}, { headers = { "A" }, max_width = 0 }) end,
    "opts.max_width must be a whole number")
  t.raises(function() tbl.render(nil, h) end, "rows must be a list of rows")
  t.raises(function() tbl.render({}) end, "options must be a table")
  -- The error points at the caller's line, not inside mlpz.table.
  local ok, err = pcall(function() tbl.render({ { {} } }, { headers = { "A" } }) end)
  t.ok(not ok and err:find("test_table.lua:%d+: mlpz.table:"), err)
end)

---------------------------------------------------------------- print

t.test("table.print writes render() to stdout", function()
  local bin = os.getenv("MLPZ_BIN")
  t.ok(bin, "MLPZ_BIN is set")
  local script = os.tmpname()
  local f = assert(io.open(script, "wb"))
  f:write([[
local tbl = require "mlpz.table"
tbl.print({ { "七人の侍", 1 }, { "Léon", 2.5 } }, { headers = { "TITLE", "N" } })
tbl.print({ { "a,b", nil } }, { headers = { "X", "Y" }, format = "csv" })
]])
  f:close()
  local p = assert(io.popen("'" .. bin .. "' " .. script, "r"))
  local out = p:read("a")
  local ok = p:close()
  os.remove(script)
  t.ok(ok, "script ran")
  t.eq(out, tbl.render({ { "七人の侍", 1 }, { "Léon", 2.5 } }, { headers = { "TITLE", "N" } })
    .. 'X,Y\n"a,b",\n')
end)

t.done()
