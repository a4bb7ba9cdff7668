-- A minimal TAP-like harness for the Lua tests, run by mlpz-lua itself:
--   local t = dofile "tests/lua/harness.lua"
--   t.test("name", function() t.eq(got, want) end)
--   t.done()
local M = {}
local failures = 0

local function show(v)
  if type(v) == "string" then return string.format("%q", v) end
  return tostring(v)
end

-- Deep comparison so tables of rows compare by content.
local function same(a, b)
  if type(a) ~= "table" or type(b) ~= "table" then return a == b end
  for k, v in pairs(a) do if not same(v, b[k]) then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end
M.same = same

function M.eq(got, want, what)
  if not same(got, want) then
    error(string.format("%sgot %s, want %s", what and (what .. ": ") or "",
      show(got), show(want)), 2)
  end
end

function M.ok(cond, what)
  if not cond then error(what or "condition is false", 2) end
  return cond
end

-- Asserts that fn raises an error whose message contains `pattern` (plain).
function M.raises(fn, pattern)
  local ok, err = pcall(fn)
  if ok then error("expected an error containing " .. show(pattern), 2) end
  if pattern and not tostring(err):find(pattern, 1, true) then
    error("error " .. show(tostring(err)) .. " lacks " .. show(pattern), 2)
  end
end

function M.test(name, fn)
  local ok, err = xpcall(fn, debug.traceback)
  if ok then
    print("ok - " .. name)
  else
    failures = failures + 1
    print("not ok - " .. name .. ": " .. tostring(err):gsub("\n", "\n# "))
  end
end

-- Reads a whole file, for comparisons.
function M.slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

function M.done()
  os.exit(failures == 0 and 0 or 1)
end

return M
