-- mlpz.pretty: values as the REPL shows them. Tables print as Lua table
-- constructors: the array part first and in order, then the other keys
-- sorted (numbers, strings, booleans, then the rest in traversal order),
-- nested to a bounded depth, long tables elided with a count, strings
-- quoted and escaped. A table fits on one line when it can, else one entry
-- per line. Only raw access is used inside tables (no __index, __pairs or
-- __len runs), so printing cannot change what it prints; __tostring is
-- honoured, as print does.
local M = {}

M.defaults = {
  depth = 3,        -- nesting levels shown; deeper tables print as {...}
  items = 20,       -- entries shown per table before "... N more"
  width = 80,       -- a table goes on one line when it fits this width
  string_max = 200, -- bytes of a string shown before it is cut
  indent = "  ",
}

local KEYWORDS = {}
for w in ([[and break do else elseif end false for function goto if in local
  nil not or repeat return then true until while]]):gmatch("%a+") do
  KEYWORDS[w] = true
end

local function is_name(s)
  return type(s) == "string" and s:match("^[%a_][%w_]*$") ~= nil and not KEYWORDS[s]
end

local ESCAPES = { ['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\r"] = "\\r",
  ["\t"] = "\\t" }

-- Control bytes, and every byte >= 128 unless the string is valid UTF-8,
-- as \ddd so that nothing printed can drive the terminal.
local function quote(s, max)
  local cut = ""
  if #s > max then
    local stop = max
    while stop > 0 and (s:byte(stop + 1) or 0) & 0xC0 == 0x80 do
      stop = stop - 1
    end
    cut = string.format("...(%d more bytes)", #s - stop)
    s = s:sub(1, stop)
  end
  local high = utf8.len(s) and "" or "\128-\255"
  s = s:gsub('[%c"\\' .. high .. "]", function(c)
    return ESCAPES[c] or string.format("\\%03d", c:byte())
  end)
  return '"' .. s .. '"' .. cut
end

local function width(s)
  return utf8.len(s) or #s
end

local function tostring_safe(v)
  local ok, s = pcall(tostring, v)
  if ok and type(s) == "string" then
    return s
  end
  return "<" .. type(v) .. ": __tostring failed>"
end

local TYPE_RANK = { number = 1, string = 2, boolean = 3 }

-- Sort order of hash keys; `seen` gives keys without a natural order their
-- traversal position, so the comparison stays consistent.
local function key_less(seen)
  return function(a, b)
    local ta, tb = type(a), type(b)
    local ra, rb = TYPE_RANK[ta] or 4, TYPE_RANK[tb] or 4
    if ra ~= rb then
      return ra < rb
    end
    if ra == 3 then
      return not a and b
    elseif ra == 4 then
      return seen[a] < seen[b]
    end
    return a < b
  end
end

local format_value

local function format_key(k, opts)
  if is_name(k) then
    return k
  elseif type(k) == "string" then
    return "[" .. quote(k, opts.string_max) .. "]"
  end
  return "[" .. tostring_safe(k) .. "]"
end

-- column: where the table's lines are indented from; x: the column its
-- opening brace is written at, for the one-line fit.
local function format_table(t, opts, level, visiting, column, x)
  local mt = debug.getmetatable(t)
  if mt and rawget(mt, "__tostring") then
    return tostring_safe(t)
  end
  if visiting[t] then
    return "<cycle>"
  end
  if next(t) == nil then
    return "{}"
  end
  if level > opts.depth then
    return "{...}"
  end
  visiting[t] = true

  local n = 0
  while rawget(t, n + 1) ~= nil do
    n = n + 1
  end
  local keys, seen, total = {}, {}, n
  for k in next, t do
    if not (math.type(k) == "integer" and k >= 1 and k <= n) then
      total = total + 1
      keys[#keys + 1] = k
      seen[k] = total
    end
  end
  table.sort(keys, key_less(seen))

  local shown = math.min(total, opts.items)
  local inner = column + #opts.indent
  local items, keyed = {}, {}
  for i = 1, math.min(n, shown) do
    items[i] = format_value(rawget(t, i), opts, level + 1, visiting, inner, inner)
  end
  for i = 1, shown - #items do
    local k = keys[i]
    local key = format_key(k, opts) .. " = "
    keyed[i] = key .. format_value(rawget(t, k), opts, level + 1, visiting, inner,
      inner + width(key))
  end
  local more = total > shown and string.format("... %d more", total - shown) or nil
  visiting[t] = nil

  local all = table.move(keyed, 1, #keyed, #items + 1, table.move(items, 1, #items, 1, {}))
  all[#all + 1] = more
  local line = "{" .. table.concat(all, ", ") .. "}"
  if x + width(line) <= opts.width and not line:find("\n", 1, true) then
    return line
  end
  -- One entry per line, except that one-line array items share lines.
  local pad = "\n" .. string.rep(" ", column) .. opts.indent
  local lines, current = {}, nil
  for _, item in ipairs(items) do
    local fits = current and not item:find("\n", 1, true)
      and inner + width(current) + 2 + width(item) + 1 <= opts.width
    if fits then
      current = current .. ", " .. item
    else
      lines[#lines + 1] = current
      current = item
    end
  end
  lines[#lines + 1] = current
  table.move(keyed, 1, #keyed, #lines + 1, lines)
  lines[#lines + 1] = more
  return "{" .. pad .. table.concat(lines, "," .. pad) .. "\n" .. string.rep(" ", column) .. "}"
end

function format_value(v, opts, level, visiting, column, x)
  local tv = type(v)
  if tv == "string" then
    return quote(v, opts.string_max)
  elseif tv == "table" then
    return format_table(v, opts, level, visiting, column, x)
  elseif tv == "number" or tv == "boolean" or tv == "nil" then
    return tostring(v)
  end
  return tostring_safe(v)
end

local function options(opts)
  if opts == nil then
    return M.defaults
  end
  if type(opts) ~= "table" then
    error("mlpz.pretty: options must be a table such as {depth = 2}, got "
      .. type(opts), 3)
  end
  local o = {}
  for k, default in pairs(M.defaults) do
    local v = opts[k]
    if v == nil then
      v = default
    elseif type(v) ~= type(default) or (type(v) == "number" and v < 0) then
      error(string.format("mlpz.pretty: option %s must be a non-negative %s, got %s",
        k, type(default), tostring(v)), 3)
    end
    o[k] = v
  end
  return o
end

-- pretty.format(value [, opts]) -> string. opts: depth, items, width,
-- string_max, indent (see M.defaults).
function M.format(v, opts)
  return format_value(v, options(opts), 1, {}, 0, 0)
end

-- pretty.repl(...) -> string: the REPL's line for an expression's results,
-- tab-separated like lua's; strings and other non-tables print as print
-- would, tables as M.format.
function M.repl(...)
  local parts = {}
  for i = 1, select("#", ...) do
    local v = select(i, ...)
    if type(v) == "table" then
      parts[i] = format_value(v, M.defaults, 1, {}, 0, 0)
    else
      parts[i] = tostring_safe(v)
    end
  end
  return table.concat(parts, "\t")
end

return M
