#!/bin/sh
# The mlpz-lua command line, checked against the behaviour of the standard
# lua 5.4 interpreter: options, the arg table, stdin, errors and exit
# statuses, and that the embedded Lua library is found from anywhere.
. "$(dirname "$0")/lib.sh"
cd "$WORK" || exit 1

# expect_out_is NAME TEXT: stdout is exactly TEXT (plus a final newline).
expect_out_is() {
    printf '%s\n' "$2" > "$WORK/want"
    if cmp -s "$WORK/out" "$WORK/want"; then pass "$name: $1"
    else fail "$name: $1" "stdout is '$(head -c 300 "$WORK/out")', want '$2'"; fi
}
expect_empty() {
    if [ ! -s "$WORK/$2" ]; then pass "$name: $1"
    else fail "$name: $1" "$2 has: $(head -c 300 "$WORK/$2")"; fi
}
TAB=$(printf '\t')

# --- -v, -h ----------------------------------------------------------------
run "-v" "$MLPZ_BIN" -v
expect_status 0
expect_out "prints name, version and Lua release" '^mlpz-lua [0-9]+\.[0-9]+\.[0-9]+ \(Lua 5\.4\.[0-9]+\)$'
lua_release=$(pkg-config --modversion lua5.4 2>/dev/null)
if [ -n "$lua_release" ]; then
    expect_out "Lua release is the one built against ($lua_release)" "\(Lua $lua_release\)"
fi
run "-v with -e" "$MLPZ_BIN" -v -e 'print("after")'
expect_out_is "version line then the chunk runs" "$(sed -n 1p "$WORK/out")
after"

for opt in -h --help; do
    run "$opt" "$MLPZ_BIN" "$opt"
    expect_status 0
    expect_out "usage line" '^usage: mlpz-lua \[options\] \[script \[args\]\]$'
    for o in '-e stat' '-i' '-l mod' '-v' '--' '-  '; do
        expect_out "documents $o" "^  $o"
    done
    expect_out "says where the scripts are" 'scripts/'
    expect_out "points to the README" 'README'
    expect_empty "nothing on stderr" err
done
run "script --help goes to the script" "$MLPZ_BIN" -e 'x = 1' - --help <<'EOF'
print(select("#", ...), ...)
EOF
expect_out_is "the script gets --help" "1$TAB--help"

# --- -e, -l ----------------------------------------------------------------
run "-e" "$MLPZ_BIN" -e 'x = 20' -e 'print(x + 22)'
expect_status 0
expect_out_is "runs the chunks in order" "42"
run "-e glued" "$MLPZ_BIN" '-eprint("glued")'
expect_out_is "argument glued to the option" "glued"
run "-l mod" "$MLPZ_BIN" -l mlpz.pretty -e 'print(type(_G["mlpz.pretty"].format))'
expect_out_is "require into the global named like the module" "function"
run "-l g=mod" "$MLPZ_BIN" -l pp=mlpz.pretty -e 'print(pp.format({1, 2}))'
expect_out_is "require into the named global" "{1, 2}"
run "-l order" "$MLPZ_BIN" -e 'package.preload.zz = function() return "preloaded" end' -l zz -e 'print(zz)'
expect_out_is "options run in command-line order" "preloaded"
run "-l missing" "$MLPZ_BIN" -l mlpz.nosuchmodule
expect_status 1
expect_err "names the missing module" "^mlpz-lua: module 'mlpz.nosuchmodule' not found"

# --- scripts, arg, ... -----------------------------------------------------
cat > "$WORK/args.lua" <<'EOF'
local keys = {}
for k in pairs(arg) do keys[#keys + 1] = k end
table.sort(keys)
for _, k in ipairs(keys) do io.write(k, "=", arg[k], "\n") end
print("...", select("#", ...), ...)
EOF
run "arg table" "$MLPZ_BIN" -e 'y = 1' "$WORK/args.lua" a "b c" -v
expect_status 0
expect_out_is "indices like lua: interpreter and options negative, script 0" "-3=$MLPZ_BIN
-2=-e
-1=y = 1
0=$WORK/args.lua
1=a
2=b c
3=-v
...${TAB}3${TAB}a${TAB}b c${TAB}-v"
run "arg without args" "$MLPZ_BIN" "$WORK/args.lua"
expect_out_is "only the interpreter and the script" "-1=$MLPZ_BIN
0=$WORK/args.lua
...${TAB}0"
run "arg with -e only" "$MLPZ_BIN" -e 'print(#arg, arg[0], arg[1], arg[2])'
expect_out_is "arg[0] is the interpreter when there is no script" "2${TAB}$MLPZ_BIN${TAB}-e${TAB}print(#arg, arg[0], arg[1], arg[2])"
run "--" "$MLPZ_BIN" -- "$WORK/args.lua" -e x
expect_out "stops options: -e goes to the script" "^1=-e$"
expect_out "-- is arg[-1]" "^-1=--$"
cp "$WORK/args.lua" "$WORK/-dash.lua"
run "-- then a dash file" "$MLPZ_BIN" -- -dash.lua z
expect_status 0
expect_out "a script named like an option runs after --" "^0=-dash.lua$"

# --- stdin -----------------------------------------------------------------
run "- reads stdin" "$MLPZ_BIN" - one two < "$WORK/args.lua"
expect_status 0
expect_out "the chunk gets the arguments" "^\.\.\.${TAB}2${TAB}one${TAB}two$"
expect_out "arg[0] is -" "^0=-$"
run "no script, piped stdin" sh -c "echo 'print(6 * 7)' | '$MLPZ_BIN'"
expect_status 0
expect_out_is "runs stdin as a chunk, no prompt" "42"
run "-i with piped stdin" sh -c "printf '1+1\n' | '$MLPZ_BIN' -i -e 'x = 5'"
expect_status 0
expect_out "the REPL evaluates lines after -e" "^> 2$"

# --- errors and exit statuses ----------------------------------------------
cat > "$WORK/boom.lua" <<'EOF'
print("before")
local function inner() error("kaboom") end
inner()
EOF
run "script error" "$MLPZ_BIN" "$WORK/boom.lua"
expect_status 1
expect_err "message prefixed by mlpz-lua:" "^mlpz-lua: .*boom.lua:2: kaboom$"
expect_err "traceback" "^stack traceback:$"
expect_err "traceback names the function" "in (local|upvalue|function) 'inner'"
expect_out_is "output before the error kept" "before"
run "syntax error" "$MLPZ_BIN" -e 'x ='
expect_status 1
expect_err "syntax error reported" "^mlpz-lua: \(command line\):1: unexpected symbol near <eof>$"
run "missing script" "$MLPZ_BIN" "$WORK/nope.lua"
expect_status 1
expect_err "cannot open" "^mlpz-lua: cannot open .*nope.lua"
run "error table" "$MLPZ_BIN" -e 'error({code = "X", message = "bad thing"})'
expect_status 1
expect_err "mlpz error tables show code and message" "^mlpz-lua: X: bad thing$"
run "error table without code" "$MLPZ_BIN" -e 'error({message = "just this"})'
expect_err "message alone" "^mlpz-lua: just this$"
run "error object" "$MLPZ_BIN" -e 'error(true)'
expect_err "other error objects named by type" "^mlpz-lua: \(error object is a boolean value\)$"
for n in 0 3 77; do
    run "os.exit($n)" "$MLPZ_BIN" -e "os.exit($n)"
    expect_status "$n"
done
run "os.exit(false)" "$MLPZ_BIN" -e 'os.exit(false)'
expect_status 1
run "os.exit(true, true)" "$MLPZ_BIN" -e 'io.write("x\n") os.exit(true, true)'
expect_status 0
expect_out_is "output flushed on close" "x"
run "failing -e stops the script" "$MLPZ_BIN" -e 'error("first")' "$WORK/args.lua"
expect_status 1
expect_empty "the script did not run" out

# --- bad options -------------------------------------------------------------
run "unknown option" "$MLPZ_BIN" -x
expect_status 1
expect_err "names it" "^mlpz-lua: unrecognized option '-x'$"
expect_err "then the usage" "^usage: mlpz-lua \[options\] \[script \[args\]\]$"
expect_empty "nothing on stdout" out
run "-e without argument" "$MLPZ_BIN" -e
expect_status 1
expect_err "needs argument" "^mlpz-lua: '-e' needs argument$"
run "--bogus" "$MLPZ_BIN" --bogus
expect_status 1
expect_err "names it" "unrecognized option '--bogus'"
run "-vx" "$MLPZ_BIN" -vx
expect_status 1

# --- warnings, -E, interrupt -----------------------------------------------
run "warn off" "$MLPZ_BIN" -e 'warn("careful")'
expect_empty "warnings off by default, as in lua" err
run "-W" "$MLPZ_BIN" -W -e 'warn("careful")'
expect_err "-W turns them on" "^Lua warning: careful$"
run "-E" env LUA_PATH="/env/?.lua" "$MLPZ_BIN" -E -e 'print(package.path:find("/env/", 1, true) == nil)'
expect_out_is "ignores LUA_PATH" "true"
run "LUA_INIT" env LUA_INIT='init_ran = "yes"' "$MLPZ_BIN" -e 'print(init_ran)'
expect_out_is "runs before the options, as in lua" "yes"
printf 'init_ran = "file"\n' > "$WORK/init.lua"
run "LUA_INIT_5_4 @file" env LUA_INIT='init_ran = "no"' LUA_INIT_5_4="@$WORK/init.lua" "$MLPZ_BIN" -e 'print(init_ran)'
expect_out_is "the versioned variable wins; @ runs a file" "file"
run "-E skips LUA_INIT" env LUA_INIT='init_ran = "yes"' "$MLPZ_BIN" -E -e 'print(init_ran)'
expect_out_is "ignored" "nil"
run "LUA_INIT error" env LUA_INIT='error("in init")' "$MLPZ_BIN" -e 'print("not reached")'
expect_status 1
expect_err "reported with its chunk name" "^mlpz-lua: LUA_INIT:1: in init$"
run "LUA_PATH honoured" env LUA_PATH="/env/?.lua" "$MLPZ_BIN" -e 'print(package.path)'
expect_out_is "without -E, like lua" "/env/?.lua"

"$MLPZ_BIN" -e 'io.write("ready\n") io.flush() while true do end' > "$WORK/out" 2> "$WORK/err" &
pid=$!
i=0
while [ "$i" -lt 50 ] && ! grep -q ready "$WORK/out"; do sleep 0.1; i=$((i + 1)); done
kill -INT "$pid"
i=0
while [ "$i" -lt 50 ] && kill -0 "$pid" 2> /dev/null; do sleep 0.1; i=$((i + 1)); done
if kill -0 "$pid" 2> /dev/null; then kill -9 "$pid"; fi
wait "$pid"
status=$?
name="SIGINT in a loop"
expect_status 1
expect_err "raises interrupted! in the running code" "^mlpz-lua: interrupted!$"
expect_err "with a traceback" "^stack traceback:$"

# --- the embedded library, from anywhere -------------------------------------
mods=""
for f in "$ROOT"/scripts/lib/mlpz/*.lua; do
    mods="$mods mlpz.$(basename "$f" .lua)"
done
# The embedded files are named above; the C modules are whatever
# package.preload holds, so a new binding is covered without editing this.
cat > "$WORK/require_all.lua" <<'EOF'
local names = {}
for _, name in ipairs(arg) do names[#names + 1] = name end
for name in pairs(package.preload) do names[#names + 1] = name end
if #names == #arg then print("package.preload is empty") end
local failed = 0
for _, name in ipairs(names) do
  local ok, m = pcall(require, name)
  if not ok or m == nil then
    print("FAIL " .. name .. ": " .. tostring(m))
    failed = failed + 1
  end
end
print(failed == 0 and "all loaded" or "failures")
EOF
mkdir -p "$WORK/elsewhere"
run "require from /tmp" sh -c "cd /tmp && LUA_PATH='/nonexistent/?.lua' LUA_CPATH='/nonexistent/?.so' '$MLPZ_BIN' '$WORK/require_all.lua' $mods"
expect_status 0
expect_out_is "every module loads without LUA_PATH (${mods# } and package.preload)" "all loaded"
run "embedded source" sh -c "cd /tmp && '$MLPZ_BIN' -e 'print(package.searchpath(\"mlpz.pretty\", package.path) == nil, debug.getinfo(require(\"mlpz.pretty\").format).source)'"
expect_out "comes from the binary, not the file system" "^true${TAB}@scripts/lib/mlpz/pretty.lua$"
cp "$MLPZ_BIN" "$WORK/elsewhere/mlpz-lua"
run "copied binary" sh -c "cd '$WORK/elsewhere' && ./mlpz-lua '$WORK/require_all.lua' $mods"
expect_status 0
expect_out_is "a copy in another directory still finds its library" "all loaded"
run "copied binary -v" "$WORK/elsewhere/mlpz-lua" -v
expect_out "-v of the copy" '^mlpz-lua [0-9.]+ \(Lua 5\.4'
run "error prefix of the copy" "$WORK/elsewhere/mlpz-lua" -e 'error("x")'
expect_err "prefix is the program name" "^mlpz-lua: \(command line\):1: x$"
