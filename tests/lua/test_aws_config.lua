-- mlpz.aws credentials, region and endpoint resolution: every source of the
-- chain in a child mlpz-lua with a controlled environment (env -i) and a
-- temporary HOME, credential_process scripts, container credentials and
-- IMDSv2 against tests/servers/metadata_server.py, refresh before expiry,
-- and no secret in any message.
local t = dofile "tests/lua/harness.lua"

local BIN = assert(os.getenv("MLPZ_BIN"), "MLPZ_BIN is not set")
local SERVER = "tests/servers/metadata_server.py"

local function sh_quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

local function capture(cmd)
  local p = assert(io.popen(cmd, "r"))
  local out = p:read("a")
  local ok, how, code = p:close()
  return out, ok and 0 or code
end

local function now_ms()
  return tonumber((capture("date +%s%3N"))) or os.time() * 1000
end

local function sleep(s)
  os.execute("sleep " .. s)
end

local function write(path, text, mode)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
  if mode then os.execute("chmod " .. mode .. " " .. sh_quote(path)) end
end

local ROOT = capture("mktemp -d"):gsub("%s+$", "")
local homes = 0
local function new_home()
  homes = homes + 1
  local h = ROOT .. "/home" .. homes
  os.execute("mkdir -p " .. sh_quote(h .. "/.aws"))
  return h
end

-- Every secret the tests hand out; no message may ever contain one.
local SECRETS = {}
local function secret(s)
  SECRETS[#SECRETS + 1] = s
  return s
end
local messages = {}

local PRELUDE = [[
local aws = require "mlpz.aws"
local function p(...)
  local t = table.pack(...)
  for i = 1, t.n do t[i] = tostring(t[i]) end
  print(table.concat(t, "\t"))
end
local function show(c, e)
  if not c then p("ERR", e) return end
  p("OK", c.access_key_id, c.source, c.expiration or "none", c)
end
]]

-- Runs Lua code in a child with only PATH, HOME and vars in its
-- environment; instance metadata is disabled unless vars say otherwise.
-- Returns the output lines, each split at tabs, and the whole text.
local function run(home, vars, code)
  local parts = { "env -i", "PATH=" .. sh_quote(os.getenv("PATH") or "/usr/bin:/bin"),
                  "HOME=" .. sh_quote(home) }
  local imds_set = false
  for k, v in pairs(vars or {}) do
    if k:match("^AWS_EC2_METADATA") then imds_set = true end
    parts[#parts + 1] = k .. "=" .. sh_quote(v)
  end
  if not imds_set then parts[#parts + 1] = "AWS_EC2_METADATA_DISABLED=true" end
  parts[#parts + 1] = sh_quote(BIN) .. " -e " .. sh_quote(PRELUDE .. code) .. " 2>&1"
  local out = capture(table.concat(parts, " "))
  local rows = {}
  for line in out:gmatch("[^\n]+") do
    local row = {}
    for field in (line .. "\t"):gmatch("(.-)\t") do row[#row + 1] = field end
    rows[#rows + 1] = row
    if row[1] == "ERR" then messages[#messages + 1] = row[2] end
  end
  return rows, out
end

local function resolve(home, vars, opts)
  local rows, out = run(home, vars, "show(aws.credentials(" .. (opts or "{}") .. "))")
  t.ok(rows[1], "no output: " .. out)
  return rows[1], out
end

local function has(s, part)
  t.ok(s and s:find(part, 1, true), string.format("%q lacks %q", tostring(s), part))
end

-- ---------------------------------------------------------------- servers

local function start_server(args)
  local dir = capture("mktemp -d -p " .. sh_quote(ROOT)):gsub("%s+$", "")
  local port_file = dir .. "/port"
  local pid = capture(string.format(
    "timeout 600 python3 %s --port-file %s %s > %s/log 2>&1 & echo $!",
    SERVER, sh_quote(port_file), args, sh_quote(dir))):gsub("%s+$", "")
  for _ = 1, 100 do
    local f = io.open(port_file)
    if f then
      local port = f:read("n")
      f:close()
      if port then
        return { port = port, pid = pid, url = "http://127.0.0.1:" .. port,
                 stop = function() os.execute("kill " .. pid .. " 2>/dev/null") end }
      end
    end
    sleep(0.1)
  end
  error("metadata server did not start: " .. (capture("cat " .. sh_quote(dir .. "/log"))))
end

local function stats(server)
  local out = capture("python3 -c 'import sys, urllib.request; "
    .. "print(urllib.request.urlopen(sys.argv[1] + \"/__stats\").read().decode())' " .. server.url)
  return require("cjson").decode(out)
end

-- Status of a GET on the server without the IMDSv2 token.
local function status_without_token(server)
  local out = capture("python3 -c 'import sys, urllib.request, urllib.error\n"
    .. "try: print(urllib.request.urlopen(sys.argv[1]).status)\n"
    .. "except urllib.error.HTTPError as e: print(e.code)' "
    .. server.url .. "/latest/meta-data/iam/security-credentials/")
  return tonumber(out)
end

-- ---------------------------------------------------------------- the chain

local ENV_KEY, ENV_SECRET = "AKIAENVIRONMENT00001", secret("envSecret/0000000000000000000000000000001")
local FILE_KEY, FILE_SECRET = "AKIACREDFILE00000001", secret("fileSecret/000000000000000000000000000001")
local DEV_KEY, DEV_SECRET = "AKIACREDFILEDEV00001", secret("devSecret/0000000000000000000000000000001")
local CFG_KEY, CFG_SECRET = "AKIACONFIGFILE000001", secret("cfgSecret/0000000000000000000000000000001")
local CFG_DEV_KEY, CFG_DEV_SECRET = "AKIACONFIGFILEDEV001", secret("cfgDevSecret/0000000000000000000000000001")
local TOKEN = secret("envToken/FwoGZXIvYXdzEJr//////////wEaDFAKEFAKEFAKE+token==")

local full = new_home()
write(full .. "/.aws/credentials", table.concat({
  "[default]",
  "aws_access_key_id = " .. FILE_KEY,
  "aws_secret_access_key = " .. FILE_SECRET,
  "",
  "[dev]",
  "aws_access_key_id=" .. DEV_KEY,
  "aws_secret_access_key=" .. DEV_SECRET,
  "region = ap-south-1",
}, "\n") .. "\n")
write(full .. "/.aws/config", table.concat({
  "[default]",
  "region = eu-west-1",
  "aws_access_key_id = " .. CFG_KEY,
  "aws_secret_access_key = " .. CFG_SECRET,
  "[profile dev]",
  "region = eu-central-1",
  "aws_access_key_id = " .. CFG_DEV_KEY,
  "aws_secret_access_key = " .. CFG_DEV_SECRET,
  "[profile cfgonly]",
  "aws_access_key_id = " .. CFG_DEV_KEY,
  "aws_secret_access_key = " .. CFG_DEV_SECRET,
  "region = us-west-2",
  "s3 =",
  "  max_concurrent_requests = 10",
  "[notaprofile]",
  "aws_access_key_id = AKIAIGNORED000000001",
  "aws_secret_access_key = ignoredSecret",
}, "\n") .. "\n")
local ENV = { AWS_ACCESS_KEY_ID = ENV_KEY, AWS_SECRET_ACCESS_KEY = ENV_SECRET }

t.test("explicit options come first", function()
  local r = resolve(full, ENV, "{access_key_id = 'AKIAEXPLICIT00000001', secret_access_key = 'x'}")
  t.eq(r[1], "OK")
  t.eq(r[2], "AKIAEXPLICIT00000001")
  t.eq(r[3], "explicit options")
end)

t.test("environment variables before the shared files", function()
  local r = resolve(full, ENV)
  t.eq(r[2], ENV_KEY)
  t.eq(r[3], "environment")
  t.eq(r[4], "none", "no expiration")
  t.eq(r[5], "AKIA...001 (environment)", "tostring masks the key id")
end)

t.test("AWS_SESSION_TOKEN is used (signed into X-Amz-Security-Token) but not readable", function()
  local vars = { AWS_ACCESS_KEY_ID = ENV_KEY, AWS_SECRET_ACCESS_KEY = ENV_SECRET,
                 AWS_SESSION_TOKEN = TOKEN }
  local rows = run(full, vars, [[
    local c = assert(aws.credentials{})
    p(c.secret_access_key, c.session_token, c.token, c.secret)
    local s = assert(aws.sign{method = "GET", url = "https://h.amazonaws.com/", service = "s",
      region = "us-east-1", credentials = c, time = 1700000000})
    for _, h in ipairs(s.headers) do
      if h[1] == "X-Amz-Security-Token" then p("TOKEN", h[2] == os.getenv("AWS_SESSION_TOKEN")) end
    end
    p(pcall(function() c.access_key_id = "x" end))
  ]])
  t.eq(rows[1], { "nil", "nil", "nil", "nil" })
  t.eq(rows[2], { "TOKEN", "true" })
  t.eq(rows[3][1], "false")
  has(rows[3][2], "read-only")
end)

t.test("half the environment keys is an error naming both variables", function()
  local r = resolve(full, { AWS_ACCESS_KEY_ID = ENV_KEY })
  t.eq(r[1], "ERR")
  has(r[2], "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not")
end)

t.test("shared credentials file, default profile", function()
  local r = resolve(full, {})
  t.eq(r[2], FILE_KEY)
  t.eq(r[3], "shared credentials file " .. full .. "/.aws/credentials (profile default)")
end)

t.test("AWS_PROFILE selects [dev] in the credentials file, over [profile dev] in config", function()
  local r = resolve(full, { AWS_PROFILE = "dev" })
  t.eq(r[2], DEV_KEY, "credentials file wins for the same profile")
  has(r[3], "(profile dev)")
end)

t.test("AWS_PROFILE does not outrank the environment's keys", function()
  local r = resolve(full, { AWS_PROFILE = "dev", AWS_ACCESS_KEY_ID = ENV_KEY,
                            AWS_SECRET_ACCESS_KEY = ENV_SECRET })
  t.eq(r[2], ENV_KEY)
end)

t.test("an explicit profile (--profile) outranks the environment's keys", function()
  local r = resolve(full, ENV, "{profile = 'dev'}")
  t.eq(r[2], DEV_KEY)
end)

t.test("[profile x] in the config file; a plain [x] there is not a profile", function()
  local r = resolve(full, {}, "{profile = 'cfgonly'}")
  t.eq(r[2], CFG_DEV_KEY)
  t.eq(r[3], "config file " .. full .. "/.aws/config (profile cfgonly)")
  r = resolve(full, {}, "{profile = 'notaprofile'}")
  t.eq(r[1], "ERR")
  has(r[2], "profile notaprofile is not in " .. full .. "/.aws/config nor in "
    .. full .. "/.aws/credentials")
end)

t.test("a missing profile named by AWS_PROFILE is an error, not a fall-through", function()
  local r = resolve(full, { AWS_PROFILE = "nope" })
  t.eq(r[1], "ERR")
  has(r[2], "profile nope is not in")
end)

t.test("config file keys when the credentials file has none", function()
  local h = new_home()
  os.execute("cp " .. sh_quote(full .. "/.aws/config") .. " " .. sh_quote(h .. "/.aws/config"))
  local r = resolve(h, {})
  t.eq(r[2], CFG_KEY)
  has(r[3], "config file")
end)

t.test("AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE, with ~ expanded", function()
  local h = new_home()
  os.execute("mkdir -p " .. sh_quote(h .. "/elsewhere"))
  write(h .. "/elsewhere/creds", "[moved]\naws_access_key_id = AKIAMOVEDFILE0000001\n"
    .. "aws_secret_access_key = " .. secret("movedSecret/00000000000000000000000000001") .. "\n")
  write(h .. "/elsewhere/conf", "[profile moved]\nregion = sa-east-1\n")
  local vars = { AWS_SHARED_CREDENTIALS_FILE = "~/elsewhere/creds",
                 AWS_CONFIG_FILE = h .. "/elsewhere/conf", AWS_PROFILE = "moved" }
  local r = resolve(h, vars)
  t.eq(r[2], "AKIAMOVEDFILE0000001")
  has(r[3], h .. "/elsewhere/creds")
  local rows = run(h, vars, "p(aws.region{})")
  t.eq(rows[1][1], "sa-east-1")
end)

t.test("a malformed config file: file:line, never the line's text", function()
  local h = new_home()
  write(h .. "/.aws/config", "[default]\nregion = us-east-1\naws_secret_access_key "
    .. secret("brokenSecret/0000000000000000000000000001") .. "\n")
  local r = resolve(h, {})
  t.eq(r[1], "ERR")
  has(r[2], h .. "/.aws/config:3: expected 'key = value'")
end)

-- ---------------------------------------------------------------- credential_process

local PROC_SECRET = secret("procSecret/00000000000000000000000000000001")
local proc = new_home()
write(proc .. "/good.sh", [[#!/bin/sh
tok=$(printf %s "$1" | tr ' ' _)
printf '{"Version": 1, "AccessKeyId": "AKIAPROCESS000000001", "SecretAccessKey": "]]
  .. PROC_SECRET .. [[", "SessionToken": "procToken%s", "Expiration": "2099-01-02T03:04:05Z"}\n' "$tok"
]], "755")
write(proc .. "/fail.sh", "#!/bin/sh\necho 'cannot reach the vault' >&2\nexit 3\n", "755")
write(proc .. "/hang.sh", "#!/bin/sh\nsleep 30\necho never\n", "755")
write(proc .. "/notjson.sh", "#!/bin/sh\nprintf '{\"Version\": 1, \"AccessKeyId\": \"AKIA\", "
  .. "\"SecretAccessKey\": \"" .. PROC_SECRET .. "\"'\n", "755")
write(proc .. "/expired.sh", "#!/bin/sh\necho '{\"Version\": 1, \"AccessKeyId\": \"AKIAPROCESS000000003\", "
  .. "\"SecretAccessKey\": \"x\", \"Expiration\": \"2020-01-01T00:00:00Z\"}'\n", "755")
write(proc .. "/v2.sh", "#!/bin/sh\necho '{\"Version\": 2, \"AccessKeyId\": \"AKIAPROCESS000000002\", "
  .. "\"SecretAccessKey\": \"x\"}'\n", "755")
-- Each run issues the next key, expiring in 2 minutes: inside the refresh window.
write(proc .. "/counter.sh", [[#!/bin/sh
n=$(cat "$HOME/count" 2>/dev/null || echo 0); n=$((n + 1)); echo $n > "$HOME/count"
exp=$(date -u -d "+120 seconds" +%Y-%m-%dT%H:%M:%SZ)
printf '{"Version": 1, "AccessKeyId": "AKIAPROCCOUNT%07d", "SecretAccessKey": "countSecret%d/0000000000000000000000000", "Expiration": "%s"}\n' $n $n $exp
]], "755")
write(proc .. "/.aws/config", table.concat({
  "[profile good]", "credential_process = " .. proc .. "/good.sh 'arg with spaces'",
  "[profile fail]", "credential_process = " .. proc .. "/fail.sh",
  "[profile hang]", "credential_process = " .. proc .. "/hang.sh",
  "[profile notjson]", "credential_process = " .. proc .. "/notjson.sh",
  "[profile v2]", "credential_process = " .. proc .. "/v2.sh",
  "[profile expired]", "credential_process = " .. proc .. "/expired.sh",
  "[profile counter]", "credential_process = " .. proc .. "/counter.sh",
  "[profile both]", "credential_process = " .. proc .. "/good.sh",
  "[profile role]", "role_arn = arn:aws:iam::123456789012:role/x", "source_profile = good",
}, "\n") .. "\n")
write(proc .. "/.aws/credentials", "[both]\naws_access_key_id = AKIACREDBEATSPROC001\n"
  .. "aws_secret_access_key = " .. secret("bothSecret/0000000000000000000000000000001") .. "\n")

t.test("credential_process: JSON with session token and expiration", function()
  local r = resolve(proc, {}, "{profile = 'good'}")
  t.eq(r[1], "OK", r[2])
  t.eq(r[2], "AKIAPROCESS000000001")
  t.eq(r[3], "credential_process (profile good)")
  local want = capture("date -u -d 2099-01-02T03:04:05Z +%s"):gsub("%s", "")
  t.eq(r[4], want, "expiration as epoch seconds (date(1) agrees)")
end)

t.test("credential_process gets its quoted argument (run by /bin/sh -c as the CLI does)", function()
  local rows = run(proc, {}, [[
    local c = assert(aws.credentials{profile = "good"})
    local s = assert(aws.sign{method = "GET", url = "https://h.amazonaws.com/", service = "s",
      region = "us-east-1", credentials = c, time = 1700000000})
    for _, h in ipairs(s.headers) do if h[1] == "X-Amz-Security-Token" then p(h[2]) end end
  ]])
  t.eq(rows[1][1], "procTokenarg_with_spaces", "one argument, spaces kept")
end)

t.test("the credentials file's keys outrank credential_process in config", function()
  local r = resolve(proc, {}, "{profile = 'both'}")
  t.eq(r[2], "AKIACREDBEATSPROC001")
end)

t.test("credential_process failing: its status, and its stderr passed through", function()
  local r, out = resolve(proc, {}, "{profile = 'fail'}")
  local err = out:match("ERR\t([^\n]*)")
  has(err, "credential_process (profile fail): exited with status 3")
  has(out, "cannot reach the vault")
end)

t.test("credential_process hanging: killed after the timeout", function()
  local t0 = now_ms()
  local r = resolve(proc, { MLPZ_CREDENTIAL_PROCESS_TIMEOUT = "1" }, "{profile = 'hang'}")
  local took = now_ms() - t0
  t.eq(r[1], "ERR")
  has(r[2], "did not finish within 1 s")
  t.ok(took < 5000, "took " .. took .. " ms")
end)

t.test("credential_process printing bad JSON or Version 2: clear errors", function()
  local r = resolve(proc, {}, "{profile = 'notjson'}")
  has(r[2], "credential_process (profile notjson): the answer is not JSON")
  r = resolve(proc, {}, "{profile = 'v2'}")
  has(r[2], "\"Version\": 1")
  r = resolve(proc, {}, "{profile = 'expired'}")
  has(r[2], "credentials from credential_process (profile expired) are already expired "
    .. "(Expiration 2020-01-01T00:00:00Z)")
end)

t.test("role_arn profiles: an error with the export-credentials bridge", function()
  local r = resolve(proc, {}, "{profile = 'role'}")
  t.eq(r[1], "ERR")
  has(r[2], "profile role uses role_arn")
  has(r[2], "aws configure export-credentials --profile role --format process")
end)

t.test("credential_process refreshed within 5 minutes of expiry", function()
  local rows = run(proc, {}, [[
    local c = assert(aws.credentials{profile = "counter"})
    local a = c.access_key_id
    local b = c.access_key_id
    p(a, b, c.expiration - os.time())
  ]])
  t.eq(rows[1][1], "AKIAPROCCOUNT0000002", "the first read already refreshes")
  t.eq(rows[1][2], "AKIAPROCCOUNT0000003")
  local left = tonumber(rows[1][3])
  t.ok(left and left > 100 and left <= 121, "expires in about 120 s: " .. tostring(rows[1][3]))
end)

-- ---------------------------------------------------------------- containers and IMDS

local md = start_server("--container-path /v2/credentials/abc --container-token "
  .. secret("containerAuthToken0001"))
local md_short = start_server("--expiry 120")
local md_norole = start_server("--no-role")
local empty = new_home()

t.test("container credentials: FULL_URI with the authorization token", function()
  local r = resolve(empty, { AWS_CONTAINER_CREDENTIALS_FULL_URI = md.url .. "/v2/credentials/abc",
                             AWS_CONTAINER_AUTHORIZATION_TOKEN = "containerAuthToken0001" })
  t.eq(r[1], "OK", r[2])
  t.ok(r[2]:match("^ASIAMLPZMETA%d+$"), r[2])
  t.eq(r[3], "container credentials (" .. md.url .. "/v2/credentials/abc)")
  t.ok(tonumber(r[4]) > os.time() + 3000, "expiration about an hour ahead")
end)

t.test("container credentials: the token file outranks the token variable", function()
  write(empty .. "/token", "containerAuthToken0001\n")
  local r = resolve(empty, { AWS_CONTAINER_CREDENTIALS_FULL_URI = md.url .. "/v2/credentials/abc",
                             AWS_CONTAINER_AUTHORIZATION_TOKEN = "wrong",
                             AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE = empty .. "/token" })
  t.eq(r[1], "OK", r[2])
end)

t.test("container credentials: a refused token is an error naming the endpoint", function()
  local r = resolve(empty, { AWS_CONTAINER_CREDENTIALS_FULL_URI = md.url .. "/v2/credentials/abc",
                             AWS_CONTAINER_AUTHORIZATION_TOKEN = "wrong" })
  t.eq(r[1], "ERR")
  has(r[2], "container credentials (" .. md.url .. "/v2/credentials/abc): answered HTTP 403")
end)

t.test("container credentials: http FULL_URI must be loopback (no request made)", function()
  local r = resolve(empty, { AWS_CONTAINER_CREDENTIALS_FULL_URI = "http://example.com/creds" })
  t.eq(r[1], "ERR")
  has(r[2], "AWS_CONTAINER_CREDENTIALS_FULL_URI must be an https:// url")
end)

t.test("container credentials: RELATIVE_URI goes to 169.254.170.2", function()
  local t0 = now_ms()
  local r = resolve(empty, { AWS_CONTAINER_CREDENTIALS_RELATIVE_URI = "/v2/credentials/abc" })
  t.eq(r[1], "ERR")
  has(r[2], "container credentials (http://169.254.170.2/v2/credentials/abc)")
  t.ok(now_ms() - t0 < 10000, "bounded: 3 attempts of 2 s at most")
end)

t.test("container credentials come before instance metadata", function()
  local r = resolve(empty, { AWS_CONTAINER_CREDENTIALS_FULL_URI = md.url .. "/v2/credentials/abc",
                             AWS_CONTAINER_AUTHORIZATION_TOKEN = "containerAuthToken0001",
                             AWS_EC2_METADATA_SERVICE_ENDPOINT = md_short.url })
  has(r[3], "container credentials")
end)

t.test("IMDSv2: token, role, credentials", function()
  local before = stats(md)
  local r = resolve(empty, { AWS_EC2_METADATA_SERVICE_ENDPOINT = md.url .. "/" })
  t.eq(r[1], "OK", r[2])
  t.eq(r[3], "instance metadata (role mlpz-test-role)")
  t.ok(r[2]:match("^ASIAMLPZMETA%d+$"), r[2])
  local after = stats(md)
  t.eq(after.token_puts - before.token_puts, 1, "one token PUT")
  t.eq(after.role_gets - before.role_gets, 1, "one role GET")
  t.eq(after.imds_credentials - before.imds_credentials, 1, "one credentials GET")
  t.eq(after.refused - before.refused, 0, "nothing refused")
end)

t.test("the stand-in refuses metadata GETs without the IMDSv2 token", function()
  t.eq(status_without_token(md), 401)
end)

t.test("AWS_EC2_METADATA_DISABLED=true: no request to the instance metadata", function()
  local before = stats(md)
  local r = resolve(empty, { AWS_EC2_METADATA_SERVICE_ENDPOINT = md.url,
                             AWS_EC2_METADATA_DISABLED = "true" })
  t.eq(r[1], "ERR")
  has(r[2], "no AWS credentials found (tried environment variables, shared files ")
  has(r[2], "instance metadata (disabled by AWS_EC2_METADATA_DISABLED)")
  has(r[2], "set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, run `aws configure`, or pass --profile")
  t.eq(stats(md).requests, before.requests)
end)

t.test("instance without a role: the chain ends with the reason", function()
  local r = resolve(empty, { AWS_EC2_METADATA_SERVICE_ENDPOINT = md_norole.url })
  t.eq(r[1], "ERR")
  has(r[2], "no IAM role is attached")
end)

t.test("no instance metadata at all: fails fast (1 s timeout, 1 attempt)", function()
  local closed = start_server("")
  closed.stop()
  sleep(0.3)
  local t0 = now_ms()
  local r = resolve(empty, { AWS_EC2_METADATA_SERVICE_ENDPOINT = closed.url })
  t.eq(r[1], "ERR")
  has(r[2], "instance metadata (" .. closed.url .. ": could not connect")
  t.ok(now_ms() - t0 < 3000, "took " .. (now_ms() - t0) .. " ms")
end)

t.test("instance credentials refreshed within 5 minutes of expiry, kept otherwise", function()
  local code = [[
    local c = assert(aws.credentials{})
    p(c.access_key_id, c.access_key_id, c.access_key_id)
  ]]
  local before = stats(md_short)
  local rows = run(empty, { AWS_EC2_METADATA_SERVICE_ENDPOINT = md_short.url }, code)
  local a, b, c = rows[1][1], rows[1][2], rows[1][3]
  t.ok(a ~= b and b ~= c, "a new key on each read: " .. table.concat(rows[1], " "))
  t.eq(stats(md_short).imds_credentials - before.imds_credentials, 4, "1 + 3 refreshes")
  before = stats(md)
  rows = run(empty, { AWS_EC2_METADATA_SERVICE_ENDPOINT = md.url }, code)
  t.ok(rows[1][1] == rows[1][2] and rows[1][2] == rows[1][3], "an hour left: same key")
  t.eq(stats(md).imds_credentials - before.imds_credentials, 1, "fetched once")
end)

md.stop()
md_short.stop()
md_norole.stop()

-- ---------------------------------------------------------------- region and endpoints

t.test("region: option, AWS_REGION, AWS_DEFAULT_REGION, profile (config), credentials file", function()
  local code = [[p(aws.region{region = os.getenv("OPT")})]]
  local function region(vars, profile)
    local c = code
    if profile then c = "p(aws.region{profile = '" .. profile .. "'})" end
    return run(full, vars, c)[1]
  end
  t.eq(region({ OPT = "us-east-2", AWS_REGION = "eu-north-1", AWS_DEFAULT_REGION = "eu-west-3" })[1],
    "us-east-2")
  t.eq(region({ AWS_REGION = "eu-north-1", AWS_DEFAULT_REGION = "eu-west-3" })[1], "eu-north-1")
  t.eq(region({ AWS_DEFAULT_REGION = "eu-west-3" })[1], "eu-west-3")
  t.eq(region({})[1], "eu-west-1", "[default] in config")
  t.eq(region({}, "cfgonly")[1], "us-west-2", "[profile cfgonly]")
  t.eq(region({ AWS_PROFILE = "dev" })[1], "ap-south-1",
    "the credentials file's region wins, as botocore merges them")
end)

t.test("region: none configured, or an invalid one, is a clear error", function()
  local rows = run(empty, {}, "p(aws.region{})")
  t.eq(rows[1][1], "nil")
  has(rows[1][2], "no AWS region configured")
  has(rows[1][2], "AWS_REGION")
  rows = run(empty, { AWS_REGION = "us-east-1.evil.com/" }, "p(aws.region{})")
  has(rows[1][2], "from AWS_REGION is not a region name")
end)

t.test("endpoints: option, service variable, AWS_ENDPOINT_URL, profile, default", function()
  local h = new_home()
  write(h .. "/.aws/config", "[default]\nregion = eu-west-1\nendpoint_url = http://profile.local:1\n"
    .. "[profile plain]\nregion = eu-west-1\n")
  local code = [[
    for _, s in ipairs{"personalize-runtime", "personalize", "s3"} do
      p(s, aws.endpoint(s, {endpoint_url = os.getenv("OPT"), profile = os.getenv("PROF")}))
    end
  ]]
  local function eps(vars)
    local m = {}
    for _, row in ipairs(run(h, vars, code)) do m[row[1]] = row[2] .. " " .. row[3] end
    return m
  end
  local all = { OPT = "http://opt.local:9/", AWS_ENDPOINT_URL_PERSONALIZE_RUNTIME = "http://rt.local:2",
                AWS_ENDPOINT_URL = "http://any.local:3" }
  t.eq(eps(all)["personalize-runtime"], "http://opt.local:9 true")
  all.OPT = nil
  local m = eps(all)
  t.eq(m["personalize-runtime"], "http://rt.local:2 true")
  t.eq(m["personalize"], "http://any.local:3 true", "only the named service's variable")
  t.eq(m["s3"], "http://any.local:3 true")
  m = eps({ AWS_ENDPOINT_URL_S3 = "http://s3.local:4" })
  t.eq(m["s3"], "http://s3.local:4 true")
  t.eq(m["personalize"], "http://profile.local:1 true", "the profile's endpoint_url")
  m = eps({ PROF = "plain" })
  t.eq(m["personalize-runtime"], "https://personalize-runtime.eu-west-1.amazonaws.com false")
  t.eq(m["personalize"], "https://personalize.eu-west-1.amazonaws.com false")
  t.eq(m["s3"], "https://s3.eu-west-1.amazonaws.com false")
  m = eps({ AWS_IGNORE_CONFIGURED_ENDPOINT_URLS = "true", AWS_ENDPOINT_URL = "http://any.local:3" })
  t.eq(m["personalize"], "https://personalize.eu-west-1.amazonaws.com false",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
  m = eps({ AWS_REGION = "cn-north-1", PROF = "plain" })
  t.eq(m["s3"], "https://s3.cn-north-1.amazonaws.com.cn false")
end)

t.test("endpoints: bad urls and no region are errors", function()
  local rows = run(empty, { AWS_ENDPOINT_URL = "ftp://x" },
    "p(aws.endpoint('personalize', {region = 'us-east-1'}))")
  t.eq(rows[1][1], "nil")
  has(rows[1][2], "endpoint url from AWS_ENDPOINT_URL must look like https://host[:port]")
  rows = run(empty, {}, "p(aws.endpoint('personalize', {}))")
  has(rows[1][2], "no AWS region configured")
end)

t.test("a client picks region, endpoint and signing name from all this", function()
  local rows = run(full, { AWS_ENDPOINT_URL_PERSONALIZE_RUNTIME = "http://127.0.0.1:1" }, [[
    local c = assert(aws.client{service = "personalize-runtime"})
    p(c.region, c.endpoint, c.signing_name, c.custom_endpoint, c.credentials.source)
  ]])
  t.eq(rows[1], { "eu-west-1", "http://127.0.0.1:1", "personalize", "true",
                  "shared credentials file " .. full .. "/.aws/credentials (profile default)" })
end)

t.test("no secret appears in any of the " .. #messages .. " error messages", function()
  t.ok(#messages >= 15, "expected many errors, got " .. #messages)
  for _, m in ipairs(messages) do
    for _, s in ipairs(SECRETS) do
      t.ok(not m:find(s, 1, true), "secret in: " .. m)
    end
  end
end)

os.execute("rm -rf " .. sh_quote(ROOT))
t.done()
