-- mlpz.aws client against the verifying Personalize server (botocore checks
-- every signature) with injected faults, and against moto's S3 server:
-- retries, timeouts, keep-alive, error decoding, redacted debug output,
-- uploads from file regions and atomic output files.
local t = dofile "tests/lua/harness.lua"
local aws = require "mlpz.aws"
local cjson = require "cjson"

local BIN = assert(os.getenv("MLPZ_BIN"), "MLPZ_BIN is not set")
local DATA = assert(os.getenv("MLPZ_DATA"), "MLPZ_DATA is not set")
local KEY = "AKIAMLPZTEST00000001"
local SECRET = "mlpz/Test+Secret/Key0000000000000000000000"
local TOKEN = "mlpzSessionToken/FwoGZXIvYXdz+0000000000000000000000000000=="
local CAMPAIGN = "arn:aws:personalize:us-east-1:123456789012:campaign/user-personalization"

local function sh_quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

local function capture(cmd)
  local p = assert(io.popen(cmd, "r"))
  local out = p:read("a")
  p:close()
  return out
end

local function now_ms()
  return tonumber((capture("date +%s%3N"))) or os.time() * 1000
end

local function sleep(s)
  os.execute("sleep " .. s)
end

local ROOT = capture("mktemp -d"):gsub("%s+$", "")

local function wait_for(path, what, log)
  for _ = 1, 300 do
    local f = io.open(path)
    if f then
      local s = f:read("a")
      f:close()
      if s ~= "" then return s end
    end
    sleep(0.1)
  end
  error(what .. " did not start: " .. capture("cat " .. sh_quote(log)))
end

local servers = {}
local function start(cmd, dir)
  local pid = capture(cmd .. " & echo $!"):gsub("%s+$", "")
  servers[#servers + 1] = pid
  return pid
end

local function start_personalize(extra)
  local dir = capture("mktemp -d -p " .. sh_quote(ROOT)):gsub("%s+$", "")
  local pid = start(string.format(
    "timeout 600 python3 tests/servers/personalize_server.py --port 0 --port-file %s %s > %s 2>&1",
    sh_quote(dir .. "/port"), extra or "", sh_quote(dir .. "/log")))
  local port = tonumber(wait_for(dir .. "/port", "personalize_server", dir .. "/log"))
  return { url = "http://127.0.0.1:" .. port, port = port, pid = pid }
end

-- auth: moto checks signatures once its first 3 unauthenticated actions
-- (the IAM calls that make a user and its keys) are spent.
local function start_moto(auth)
  local dir = capture("mktemp -d -p " .. sh_quote(ROOT)):gsub("%s+$", "")
  local log = dir .. "/log"
  start(string.format("%stimeout 600 moto_server -H 127.0.0.1 -p 0 > %s 2>&1",
    auth and "INITIAL_NO_AUTH_ACTION_COUNT=3 " or "", sh_quote(log)))
  for _ = 1, 300 do
    local port = capture("cat " .. sh_quote(log)):match("Running on http://127%.0%.0%.1:(%d+)")
    if port then return { url = "http://127.0.0.1:" .. port } end
    sleep(0.1)
  end
  error("moto_server did not start: " .. capture("cat " .. sh_quote(log)))
end

local ps = start_personalize("--data " .. sh_quote(DATA))
local ps_token = start_personalize("--session-token " .. sh_quote(TOKEN))

local function new_client(opts)
  local o = { service = "personalize-runtime", region = "us-east-1", endpoint_url = ps.url,
              credentials = { access_key_id = KEY, secret_access_key = SECRET } }
  for k, v in pairs(opts or {}) do o[k] = v end
  return assert(aws.client(o))
end

-- The test endpoints are unsigned; a separate client keeps their
-- connection apart from the one under test.
local admin = new_client()
local function admin_call(method, path, body, server)
  local c = admin
  if server then c = new_client { endpoint_url = server.url } end
  local r, err = c:request { method = method, path = path, body = body }
  assert(r and r.status == 200, tostring(err))
  return cjson.decode(r.body)
end
local function reset() admin_call("POST", "/__reset", "") end
local function faults(list)
  admin_call("POST", "/__faults", cjson.encode { path_or_op = "GetRecommendations", faults = list })
end
local function server_log() return admin_call("GET", "/__log") end

local function recommend(c, n)
  return c:request { method = "POST", path = "/recommendations",
    headers = { ["Content-Type"] = "application/json" },
    body = cjson.encode { campaignArn = CAMPAIGN, userId = "42", numResults = n or 5 } }
end

local function movie_ids()
  local ids = {}
  for line in io.lines(DATA .. "/movies.csv") do
    local id = line:match("^(%d+),")
    if id then ids[id] = true end
  end
  return ids
end

t.test("a signed GetRecommendations succeeds (botocore verified the signature)", function()
  reset()
  local c = new_client()
  local r, err = recommend(c, 7)
  t.ok(r, tostring(err))
  t.eq(r.status, 200)
  t.eq(r.attempts, 1)
  t.ok(r.headers["x-amzn-requestid"], "request id header, lower-cased")
  local body = cjson.decode(r.body)
  t.eq(#body.itemList, 7)
  local ids = movie_ids()
  for _, it in ipairs(body.itemList) do t.ok(ids[it.itemId], "unknown movie " .. it.itemId) end
  local log = server_log()
  t.eq(#log, 1)
  t.eq(log[1].signature_ok, true)
  t.eq(log[1].access_key, KEY)
  t.ok(log[1].user_agent:find("^mlpz%-lua/"), log[1].user_agent)
end)

t.test("session tokens are signed and sent", function()
  local c = new_client { endpoint_url = ps_token.url,
    credentials = assert(aws.credentials { access_key_id = KEY, secret_access_key = SECRET,
                                           session_token = TOKEN }) }
  local r, err = recommend(c)
  t.ok(r, tostring(err))
  c = new_client { endpoint_url = ps_token.url }
  local _, e = recommend(c)
  t.eq(e.code, "UnrecognizedClientException")
end)

t.test("wrong secret: InvalidSignatureException, not retried", function()
  reset()
  local c = new_client { credentials = { access_key_id = KEY,
                                         secret_access_key = "wrongSecret/4815162342" } }
  local r, err = recommend(c)
  t.eq(r, nil)
  t.eq(err.code, "InvalidSignatureException")
  t.eq(err.status, 403)
  t.eq(err.retryable, false)
  t.eq(err.attempts, 1)
  t.ok(err.request_id and #err.request_id > 10, "request id")
  t.eq(#server_log(), 1, "one request reached the server")
  local s = tostring(err)
  t.ok(s:find("^InvalidSignatureException: The request signature we calculated"), s)
  t.ok(s:find("(HTTP 403, request id " .. err.request_id .. ")", 1, true), s)
  t.ok(not s:find("wrongSecret/4815162342", 1, true), "no secret in the message")
end)

t.test("two throttles then success: 3 requests, success", function()
  reset()
  faults { "throttle", "throttle" }
  local r, err = recommend(new_client())
  t.ok(r, tostring(err))
  t.eq(r.attempts, 3)
  local log = server_log()
  t.eq(#log, 3)
  t.eq({ log[1].status, log[2].status, log[3].status }, { 429, 429, 200 })
  t.eq(log[1].error, "ThrottlingException")
end)

t.test("three 500s: failure after 3 attempts, retryable", function()
  reset()
  faults { "500", "500", "500" }
  local r, err = recommend(new_client())
  t.eq(r, nil)
  t.eq(err.code, "InternalFailure")
  t.eq(err.status, 500)
  t.eq(err.retryable, true)
  t.eq(err.attempts, 3)
  t.eq(#server_log(), 3)
end)

t.test("LimitExceededException (400) is retried; InvalidInputException (400) is not", function()
  reset()
  faults { "limit" }
  local r, err = recommend(new_client())
  t.ok(r, tostring(err))
  t.eq(r.attempts, 2)
  reset()
  r, err = new_client():request { method = "POST", path = "/recommendations",
    headers = { ["Content-Type"] = "application/json" },
    body = cjson.encode { campaignArn = CAMPAIGN, userId = "42", numResults = 100000 } }
  t.eq(err.code, "InvalidInputException")
  t.eq(err.retryable, false)
  t.eq(err.attempts, 1)
  t.eq(#server_log(), 1)
end)

t.test("max_attempts bounds the retries", function()
  reset()
  faults { "503", "503" }
  local r, err = recommend(new_client { max_attempts = 2 })
  t.eq(err.code, "ServiceUnavailable")
  t.eq(err.attempts, 2)
  reset()
end)

t.test("slow answer past the timeout: Timeout in bounded time", function()
  reset()
  faults { "slow:6" }
  local t0 = now_ms()
  local r, err = recommend(new_client { timeout = 1, max_attempts = 1 })
  local took = now_ms() - t0
  t.eq(r, nil)
  t.eq(err.code, "Timeout")
  t.eq(err.retryable, true)
  t.ok(err.message:find("127.0.0.1:" .. ps.port, 1, true), err.message)
  t.ok(took >= 900 and took < 3000, "took " .. took .. " ms")
  reset()
end)

t.test("slow then fast: the timed-out attempt is retried", function()
  reset()
  faults { "slow:3" }
  local r, err = recommend(new_client { timeout = 1 })
  t.ok(r, tostring(err))
  t.eq(r.attempts, 2)
  reset()
end)

t.test("connection reset and truncated body are retried", function()
  reset()
  faults { "reset", "truncate" }
  local r, err = recommend(new_client())
  t.ok(r, tostring(err))
  t.eq(r.attempts, 3)
  local log = server_log()
  t.eq({ log[1].status, log[2].status, log[3].status }, { "reset", "truncated", 200 })
  t.ok(cjson.decode(r.body).itemList, "the body of the successful attempt")
end)

t.test("output_file after a truncated attempt holds only the complete answer", function()
  reset()
  faults { "truncate" }
  local target = ROOT .. "/recs.json"
  local r, err = new_client():request { method = "POST", path = "/recommendations",
    headers = { ["Content-Type"] = "application/json" }, output_file = target,
    body = cjson.encode { campaignArn = CAMPAIGN, userId = "42", numResults = 4 } }
  t.ok(r, tostring(err))
  t.eq(r.attempts, 2)
  local body = t.slurp(target)
  t.eq(r.size, #body)
  t.eq(#cjson.decode(body).itemList, 4)
end)

t.test("connection refused: ConnectionError naming the host, after 3 attempts", function()
  local c = new_client { endpoint_url = "http://127.0.0.1:1", connect_timeout = 1 }
  local t0 = now_ms()
  local r, err = recommend(c)
  t.eq(r, nil)
  t.eq(err.code, "ConnectionError")
  t.eq(err.retryable, true)
  t.eq(err.attempts, 3)
  t.eq(err.status, nil)
  t.ok(err.message:find("127.0.0.1:1", 1, true), err.message)
  t.ok(now_ms() - t0 < 3000, "backoff stays short")
  t.eq(tostring(err), "ConnectionError: " .. err.message)
end)

t.test("keep-alive: 10 calls over 1 connection", function()
  reset()
  local c = new_client()
  for _ = 1, 10 do assert(recommend(c)) end
  local stats = admin_call("GET", "/__stats")
  t.eq(stats.requests, 10)
  t.eq(stats.api_connections, 1)
  local conns = {}
  for _, e in ipairs(server_log()) do conns[e.conn] = true end
  t.eq(#(function() local l = {} for k in pairs(conns) do l[#l + 1] = k end return l end)(), 1)
end)

t.test("a non-AWS error body gives HTTP<status>", function()
  local r, err = new_client():request { method = "GET", path = "/__nothing-here" }
  t.eq(r, nil)
  t.eq(err.code, "HTTP404")
  t.eq(err.status, 404)
  t.eq(err.retryable, false)
  t.ok(err.message:find("127.0.0.1:" .. ps.port, 1, true), err.message)
end)

t.test("body_file: a region of a file, re-read from its offset on retry", function()
  reset()
  local path = ROOT .. "/bodies.bin"
  local body = cjson.encode { campaignArn = CAMPAIGN, userId = "42", numResults = 3 }
  local f = assert(io.open(path, "wb"))
  f:write(string.rep("x", 1000), body, string.rep("y", 500))
  f:close()
  faults { "reset" }
  local r, err = new_client():request { method = "POST", path = "/recommendations",
    headers = { ["Content-Type"] = "application/json" },
    body_file = path, body_offset = 1000, body_length = #body }
  t.ok(r, tostring(err))
  t.eq(r.attempts, 2)
  t.eq(#cjson.decode(r.body).itemList, 3)
  local log = server_log()
  t.eq({ log[1].bytes_in, log[2].bytes_in }, { #body, #body })
  r, err = new_client():request { method = "POST", path = "/recommendations",
    body_file = path, body_offset = 1000, body_length = 1000000 }
  t.eq(err.code, "LocalError")
  t.ok(err.message:find("passes the end of the file", 1, true), err.message)
end)

t.test("aws.file_digest matches python's hashlib on file regions", function()
  local path = DATA .. "/ratings.csv"
  local want = capture("python3 -c 'import sys, hashlib, base64\n"
    .. "d = open(sys.argv[1], \"rb\").read()\n"
    .. "print(hashlib.sha256(d).hexdigest())\n"
    .. "print(base64.b64encode(hashlib.md5(d[100000:600000]).digest()).decode())\n"
    .. "print(hashlib.md5(d[2000000:]).hexdigest())' " .. sh_quote(path))
  local w = {}
  for l in want:gmatch("[^\n]+") do w[#w + 1] = l end
  t.eq(aws.file_digest(path, "sha256"), w[1])
  t.eq(aws.file_digest(path, "md5-base64", 100000, 500000), w[2])
  t.eq(aws.file_digest(path, "md5", 2000000), w[3])
  local d, err = aws.file_digest(path, "sha256", 0, 1000000000)
  t.eq(d, nil)
  t.ok(err:find("passes the end"), err)
  d, err = aws.file_digest(ROOT .. "/missing", "md5")
  t.ok(err:find("No such file"), err)
  t.raises(function() aws.file_digest(path, "crc32") end, "sha256, md5")
end)

t.test("programmer errors raise", function()
  local c = new_client()
  t.raises(function() c:request { path = "no-slash" } end, "'path'")
  t.raises(function() c:request { path = "/a b" } end, "'path'")
  t.raises(function() c:request { headers = { Authorization = "x" } } end, "set by the client")
  t.raises(function() c:request { headers = { ["X-A"] = "a\r\nB: c" } } end, "line break")
  t.raises(function() c:request { body = "a", body_file = "/etc/hostname" } end, "not both")
  t.raises(function() aws.client { region = "us-east-1" } end, "'service'")
  t.raises(function() c:request { query = { a = "1", { "b", "2" } } } end, "not both")
  t.raises(function() c:request { query = { a = {} } } end, "query values")
end)

-- MLPZ_DEBUG in a child process, with a session token so every secret kind
-- is there to leak.
t.test("MLPZ_DEBUG=1: canonical request, attempts, delays; secrets redacted", function()
  local code = string.format([[
    local aws = require "mlpz.aws"
    local c = assert(aws.client{service = "personalize-runtime", region = "us-east-1",
      endpoint_url = %q, credentials = {access_key_id = %q, secret_access_key = %q,
      session_token = %q}})
    local admin = assert(aws.client{service = "personalize-runtime", region = "us-east-1",
      endpoint_url = %q, credentials = {access_key_id = "a", secret_access_key = "b"}})
    assert(admin:request{method = "POST", path = "/__faults",
      body = '{"path_or_op": "GetRecommendations", "faults": ["throttle"]}'})
    local r = assert(c:request{method = "POST", path = "/recommendations",
      headers = {["Content-Type"] = "application/json"},
      body = '{"campaignArn": %q, "userId": "42"}'})
    print("status", r.status, r.attempts)
    local s = assert(aws.sign{method = "GET", url = "https://h.amazonaws.com/", service = "s",
      region = "us-east-1", credentials = c.credentials, time = os.time()})
    print("sig", s.signature)
  ]], ps_token.url, KEY, SECRET, TOKEN, ps_token.url, CAMPAIGN)
  local out = capture("env MLPZ_DEBUG=1 " .. sh_quote(BIN) .. " -e " .. sh_quote(code) .. " 2>&1")
  t.ok(out:find("status\t200\t2"), out)
  t.ok(out:find("mlpz.aws: canonical request:\nPOST\n/recommendations\n", 1, true), out)
  t.ok(out:find("x-amz-security-token:<redacted>", 1, true), "token redacted in the canonical request")
  t.ok(out:find("mlpz.aws: string to sign:\nAWS4-HMAC-SHA256\n", 1, true), out)
  t.ok(out:find("Signature=<redacted>", 1, true), "signature redacted in Authorization")
  t.ok(out:find("mlpz.aws: attempt 1/3: POST " .. ps_token.url
    .. "/recommendations -> ThrottlingException HTTP 429 after", 1, true), out)
  t.ok(out:find("mlpz.aws: waiting %d%.%d+ s before attempt 2"), out)
  t.ok(out:find("mlpz.aws: attempt 2/3: POST " .. ps_token.url
    .. "/recommendations %-> 200 in [%d.]+ ms %(reused connection%)"), out)
  t.ok(not out:find(SECRET, 1, true), "the secret never appears")
  t.ok(not out:find(TOKEN, 1, true), "the token never appears")
  t.ok(not out:find("mlpzSessionToken%2FFwo", 1, true), "nor its URI-encoded form")
  local sig = out:match("sig\t(%x+)")
  t.ok(sig and #sig == 64, "a signature was printed by the script itself")
end)

-- ---------------------------------------------------------------- canned answers

-- A tiny server with one canned answer per path (and optionally TLS with a
-- self-signed certificate), for error shapes the Personalize stand-in does
-- not produce.
local CANNED = [==[
import http.server, json, os, signal, ssl, sys, threading
port_file, cert_dir, secret = sys.argv[1], sys.argv[2], sys.argv[3]
counts, lock = {}, threading.Lock()
J = [("Content-Type", "application/json")]
X = [("Content-Type", "application/xml")]
ANSWERS = {
  "/prefixed": (400, json.dumps({"__type": "com.amazon.coral.service#ResourceNotFoundException",
                                 "Message": "Campaign gone"}), J + [("x-amzn-RequestId", "rid-1")]),
  "/header": (400, json.dumps({"message": "bad value"}),
              J + [("x-amzn-ErrorType", "ValidationException:http://internal.amazon.com/coral/x/")]),
  "/slowdown": (503, "<Error><Code>SlowDown</Code><Message>Please reduce your request rate."
                "</Message><RequestId>rid-2</RequestId></Error>", X),
  "/errorresponse": (400, "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>"
                     "<Message>Rate exceeded</Message></Error><RequestId>rid-3</RequestId>"
                     "</ErrorResponse>", X),
  "/html": (502, "<html><body>Bad gateway</body></html>", [("Content-Type", "text/html")]),
  "/redirect": (301, "<Error><Code>PermanentRedirect</Code><Message>The bucket you are attempting "
                "to access must be addressed using the specified endpoint.</Message></Error>",
                X + [("x-amz-bucket-region", "eu-west-1")]),
  "/echo": (403, json.dumps({"__type": "AccessDeniedException",
                             "message": "key " + secret + " is not allowed"}), J),
  "/big": (200, "x" * 10000, [("Content-Type", "text/plain")]),
  "/ok": (200, "{}", J),
}
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_GET(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n: self.rfile.read(n)
        path = self.path.split("?")[0]
        if path == "/__counts":
            with lock: status, body, hdrs = 200, json.dumps(counts), J
        else:
            with lock: counts[path] = counts.get(path, 0) + 1
            status, body, hdrs = ANSWERS.get(path, (404, "", []))
        data = body.encode()
        self.send_response(status)
        for k, v in hdrs: self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD": self.wfile.write(data)
    do_POST = do_PUT = do_HEAD = do_GET
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
srv.daemon_threads = True
if cert_dir != "-":
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert_dir + "/cert.pem", cert_dir + "/key.pem")
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
signal.signal(signal.SIGTERM, lambda *a: os._exit(0))
with open(port_file + ".tmp", "w") as f: f.write(str(srv.server_address[1]))
os.replace(port_file + ".tmp", port_file)
srv.serve_forever()
]==]

local function start_canned(cert_dir)
  local dir = capture("mktemp -d -p " .. sh_quote(ROOT)):gsub("%s+$", "")
  local script = dir .. "/canned.py"
  local f = assert(io.open(script, "w"))
  f:write(CANNED)
  f:close()
  start(string.format("timeout 600 python3 %s %s %s %s > %s 2>&1", sh_quote(script),
    sh_quote(dir .. "/port"), sh_quote(cert_dir or "-"), sh_quote(SECRET), sh_quote(dir .. "/log")))
  return tonumber(wait_for(dir .. "/port", "canned server", dir .. "/log"))
end

local canned_port = start_canned()
local canned = new_client { endpoint_url = "http://127.0.0.1:" .. canned_port }
local function counts()
  return cjson.decode(assert(canned:request { path = "/__counts" }).body)
end

t.test("JSON errors: a prefixed __type and Message; x-amzn-ErrorType wins", function()
  local _, err = canned:request { method = "POST", path = "/prefixed", body = "{}" }
  t.eq(err.code, "ResourceNotFoundException")
  t.eq(err.message, "Campaign gone")
  t.eq(err.request_id, "rid-1")
  t.eq(err.retryable, false)
  _, err = canned:request { method = "POST", path = "/header", body = "{}" }
  t.eq(err.code, "ValidationException")
  t.eq(err.message, "bad value")
  t.eq(err.request_id, nil)
  t.eq(tostring(err), "ValidationException: bad value (HTTP 400)")
end)

t.test("XML errors: S3's <Error> and the query protocol's <ErrorResponse>", function()
  local _, err = canned:request { path = "/slowdown" }
  t.eq({ err.code, err.status, err.request_id, err.retryable, err.attempts },
       { "SlowDown", 503, "rid-2", true, 3 })
  _, err = canned:request { path = "/errorresponse" }
  t.eq({ err.code, err.message, err.request_id, err.retryable, err.attempts },
       { "Throttling", "Rate exceeded", "rid-3", true, 3 }, "a 400 retried for its code")
  local c = counts()
  t.eq({ c["/slowdown"], c["/errorresponse"] }, { 3, 3 })
end)

t.test("an HTML 502: HTTP502, retried", function()
  local _, err = canned:request { path = "/html" }
  t.eq(err.code, "HTTP502")
  t.eq(err.retryable, true)
  t.ok(err.message:find("^Bad Gateway from 127%.0%.0%.1:%d+ %(the answer is not an AWS error%)$"),
    err.message)
end)

t.test("S3 PermanentRedirect names the bucket's region", function()
  local _, err = canned:request { path = "/redirect" }
  t.eq(err.code, "PermanentRedirect")
  t.ok(err.message:find("(the bucket is in region eu-west-1: pass --region eu-west-1)", 1, true),
    err.message)
end)

t.test("a server echoing the secret: redacted in the message", function()
  local _, err = canned:request { path = "/echo" }
  t.eq(err.code, "AccessDeniedException")
  t.eq(err.message, "key <redacted> is not allowed")
end)

t.test("max_body bounds a body in memory, not an output file", function()
  local c = new_client { endpoint_url = "http://127.0.0.1:" .. canned_port, max_body = 4096 }
  local r, err = c:request { path = "/big" }
  t.eq(r, nil)
  t.eq(err.code, "ResponseTooLarge")
  t.eq(err.retryable, false)
  t.eq(err.attempts, 1)
  r, err = c:request { path = "/big", output_file = ROOT .. "/big.txt" }
  t.ok(r, tostring(err))
  t.eq(r.size, 10000)
  t.raises(function() new_client { max_body = 10 } end, "'max_body'")
end)

t.test("TLS: a self-signed certificate is refused; trusted through AWS_CA_BUNDLE", function()
  local certs = ROOT .. "/certs"
  os.execute("mkdir -p " .. sh_quote(certs))
  local out = capture("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost "
    .. "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout " .. sh_quote(certs .. "/key.pem")
    .. " -out " .. sh_quote(certs .. "/cert.pem") .. " 2>&1")
  t.ok(io.open(certs .. "/cert.pem"), "openssl made a certificate: " .. out)
  local port = start_canned(certs)
  local c = new_client { endpoint_url = "https://localhost:" .. port }
  local r, err = c:request { path = "/ok" }
  t.eq(r, nil)
  t.eq(err.code, "ConnectionError")
  t.eq(err.retryable, false, "a certificate problem is not retried")
  t.eq(err.attempts, 1)
  t.ok(err.message:find("TLS with localhost:" .. port .. " failed", 1, true), err.message)
  local code = string.format([[
    local aws = require "mlpz.aws"
    local c = assert(aws.client{service = "personalize", region = "us-east-1",
      endpoint_url = %q, credentials = {access_key_id = "a", secret_access_key = "b"}})
    local r, err = c:request{path = "/ok"}
    print(r and r.status, err)
  ]], "https://localhost:" .. port)
  out = capture("env AWS_CA_BUNDLE=" .. sh_quote(certs .. "/cert.pem") .. " " .. sh_quote(BIN)
    .. " -e " .. sh_quote(code) .. " 2>&1")
  t.eq(out, "200\tnil\n")
end)

-- ---------------------------------------------------------------- S3 (moto)

local moto = start_moto()
local s3 = assert(aws.client { service = "s3", region = "us-east-1", endpoint_url = moto.url,
  credentials = { access_key_id = "AKIAMOTO000000000001", secret_access_key = "motoSecret" } })
local BUCKET = "mlpz-test-bucket"
local KEY_PATH = "/dir/my%20file%2B1.csv" -- the key "dir/my file+1.csv"
local sample = {}
for line in io.lines(DATA .. "/ratings.csv") do
  sample[#sample + 1] = line
  if #sample == 2000 then break end
end
sample = table.concat(sample, "\n") .. "\n"

t.test("S3 client: path-style for a custom endpoint, signing as s3", function()
  t.eq(s3.signing_name, "s3")
  t.eq(s3.custom_endpoint, true)
  local r, err = s3:request { method = "PUT", bucket = BUCKET, path = "/" }
  t.ok(r, tostring(err))
  t.eq(r.status, 200)
end)

t.test("S3 PUT and GET of an object whose key needs encoding", function()
  local r, err = s3:request { method = "PUT", bucket = BUCKET, path = KEY_PATH, body = sample,
    headers = { ["Content-Type"] = "text/csv" } }
  t.ok(r, tostring(err))
  local md5 = capture("printf '%s' " .. sh_quote(sample) .. " | md5sum"):match("^(%x+)")
  t.eq(r.headers.etag, '"' .. md5 .. '"', "ETag is the MD5 md5sum computes")
  r, err = s3:request { method = "GET", bucket = BUCKET, path = KEY_PATH }
  t.ok(r, tostring(err))
  t.eq(r.body, sample)
  t.eq(r.headers["content-length"], tostring(#sample))
  r = assert(s3:request { method = "GET", bucket = BUCKET, path = "/",
    query = { ["list-type"] = "2", prefix = "dir/" } })
  local doc = assert(aws.xml_decode(r.body))
  t.eq(doc.name, "ListBucketResult")
  t.eq(doc:get("KeyCount"), "1")
  local contents = doc:children("Contents")
  t.eq(#contents, 1)
  t.eq(contents[1]:get("Key"), "dir/my file+1.csv")
  t.eq(contents[1]:get("Size"), tostring(#sample))
end)

t.test("moto verifying signatures: S3 PUT (file region) and GET pass, a wrong secret fails", function()
  local m = start_moto(true)
  local setup = ROOT .. "/moto_iam.py"
  local f = assert(io.open(setup, "w"))
  f:write([==[
import sys, boto3
iam = boto3.client("iam", endpoint_url=sys.argv[1], region_name="us-east-1",
                   aws_access_key_id="setup", aws_secret_access_key="setup")
iam.create_user(UserName="mlpz")
iam.put_user_policy(UserName="mlpz", PolicyName="all", PolicyDocument=
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}')
k = iam.create_access_key(UserName="mlpz")["AccessKey"]
print(k["AccessKeyId"], k["SecretAccessKey"])
]==])
  f:close()
  local keys = capture("python3 " .. sh_quote(setup) .. " " .. m.url .. " 2>&1")
  local ak, sk = keys:match("^(%S+) (%S+)\n$")
  t.ok(ak, "moto made keys: " .. keys)
  local c = assert(aws.client { service = "s3", region = "us-east-1", endpoint_url = m.url,
    credentials = { access_key_id = ak, secret_access_key = sk } })
  assert(c:request { method = "PUT", bucket = BUCKET, path = "/" })
  local path = DATA .. "/movies.csv"
  local r, err = c:request { method = "PUT", bucket = BUCKET, path = "/movies/part-2.csv",
    body_file = path, body_offset = 1000, body_length = 50000 }
  t.ok(r, tostring(err))
  r, err = c:request { method = "GET", bucket = BUCKET, path = "/movies/part-2.csv" }
  t.ok(r, tostring(err))
  t.eq(aws.file_digest(path, "md5", 1000, 50000), r.headers.etag:gsub('"', ""))
  local bad = assert(aws.client { service = "s3", region = "us-east-1", endpoint_url = m.url,
    credentials = { access_key_id = ak, secret_access_key = "wrong/0000000000000000000000000000000000" } })
  r, err = bad:request { method = "GET", bucket = BUCKET, path = "/movies/part-2.csv" }
  t.eq(err.code, "SignatureDoesNotMatch")
  t.eq(err.status, 403)
  t.eq(err.attempts, 1)
end)

t.test("S3 HEAD: headers, no body; a missing key is HTTP404 (no error body)", function()
  local r, err = s3:request { method = "HEAD", bucket = BUCKET, path = KEY_PATH }
  t.ok(r, tostring(err))
  t.eq(r.headers["content-length"], tostring(#sample))
  t.eq(r.body, "")
  r, err = s3:request { method = "HEAD", bucket = BUCKET, path = "/missing.csv" }
  t.eq(err.code, "HTTP404")
  t.eq(err.status, 404)
end)

t.test("S3 virtual-hosted addressing (bucket.localhost) when path_style = false", function()
  local port = moto.url:match(":(%d+)$")
  local v = assert(aws.client { service = "s3", region = "us-east-1", path_style = false,
    endpoint_url = "http://localhost:" .. port,
    credentials = { access_key_id = "AKIAMOTO000000000001", secret_access_key = "motoSecret" } })
  local r, err = v:request { method = "GET", bucket = BUCKET, path = KEY_PATH }
  t.ok(r, tostring(err))
  t.eq(r.body, sample)
  -- Dots cannot be a DNS label under https and "Bad_Name" cannot be one at
  -- all: those fall back to path-style, here refused by the bucket lookup.
  r, err = v:request { method = "GET", bucket = "Bad_Name", path = KEY_PATH }
  t.eq(err.code, "NoSuchBucket")
end)

t.test("S3 errors decoded from XML: NoSuchKey, NoSuchBucket", function()
  local r, err = s3:request { method = "GET", bucket = BUCKET, path = "/missing.csv" }
  t.eq(r, nil)
  t.eq(err.code, "NoSuchKey")
  t.eq(err.status, 404)
  t.eq(err.retryable, false)
  t.ok(err.message:find("does not exist"), err.message)
  t.eq(err.attempts, 1)
  r, err = s3:request { method = "GET", bucket = "mlpz-no-such-bucket", path = KEY_PATH }
  t.eq(err.code, "NoSuchBucket")
  t.ok(tostring(err):find("^NoSuchBucket: .* %(HTTP 404"), tostring(err))
end)

local function files_in(dir)
  local names = {}
  for n in capture("ls -A " .. sh_quote(dir)):gmatch("[^\n]+") do names[#names + 1] = n end
  table.sort(names)
  return names
end

t.test("output_file: written atomically, nothing left on failure", function()
  local dir = ROOT .. "/out"
  os.execute("mkdir -p " .. sh_quote(dir))
  local target = dir .. "/object.csv"
  local r, err = s3:request { method = "GET", bucket = BUCKET, path = KEY_PATH, output_file = target }
  t.ok(r, tostring(err))
  t.eq(r.body, nil)
  t.eq(r.size, #sample)
  t.eq(t.slurp(target), sample)
  t.eq(files_in(dir), { "object.csv" }, "no temp file left")
  r, err = s3:request { method = "GET", bucket = BUCKET, path = "/missing.csv", output_file = target }
  t.eq(err.code, "NoSuchKey", "the error body was decoded, not written")
  t.eq(t.slurp(target), sample, "the old file is untouched")
  t.eq(files_in(dir), { "object.csv" }, "no temp file left after a failure")
  r, err = s3:request { method = "GET", bucket = BUCKET, path = KEY_PATH,
    output_file = ROOT .. "/no/such/dir/x" }
  t.eq(err.code, "LocalError")
  t.ok(err.message:find("no/such/dir", 1, true), err.message)
end)

t.test("multipart upload of a file region (uploads query, XML answers)", function()
  local path = DATA .. "/ratings.csv"
  local offset, length = 12345, 300000
  local key = "/multi/part.csv"
  local r, err = s3:request { method = "POST", bucket = BUCKET, path = key, query = { uploads = true } }
  t.ok(r, tostring(err))
  local init = assert(aws.xml_decode(r.body))
  t.eq(init.name, "InitiateMultipartUploadResult")
  local upload = init:get("UploadId")
  t.ok(upload and #upload > 0, "an upload id")
  r, err = s3:request { method = "PUT", bucket = BUCKET, path = key,
    query = { partNumber = 1, uploadId = upload },
    body_file = path, body_offset = offset, body_length = length }
  t.ok(r, tostring(err))
  local etag = r.headers.etag
  t.eq(etag, '"' .. aws.file_digest(path, "md5", offset, length) .. '"')
  local xml = '<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>' .. etag
    .. '</ETag></Part></CompleteMultipartUpload>'
  r, err = s3:request { method = "POST", bucket = BUCKET, path = key,
    query = { uploadId = upload }, body = xml }
  t.ok(r, tostring(err))
  -- S3 says CompleteMultipartUploadResult; moto says ...Response.
  local done = assert(aws.xml_decode(r.body))
  t.ok(done.name:find("^CompleteMultipartUpload"), done.name)
  t.eq(done:get("Key"), "multi/part.csv")
  r = assert(s3:request { method = "GET", bucket = BUCKET, path = key })
  local f = assert(io.open(path, "rb"))
  f:seek("set", offset)
  t.eq(r.body, f:read(length))
  f:close()
end)

t.test("xml_decode: shape, entities, errors with a line, no DOCTYPE", function()
  local doc = assert(aws.xml_decode('<?xml version="1.0"?>\n<R a="1"><K>x &amp; y</K>\n  <K>z</K><E/></R>'))
  t.eq(doc.name, "R")
  t.eq(doc.attrs, { a = "1" })
  t.eq(#doc, 3)
  t.eq(doc.text, "", "indentation between children is not text")
  t.eq(doc:get("K"), "x & y")
  t.eq(#doc:children("K"), 2)
  t.eq(doc:child("E").text, "")
  t.eq(doc:get("missing"), nil)
  local bad, err = aws.xml_decode("<a>\n<b>\n</a>")
  t.eq(bad, nil)
  t.eq(err, "xml: line 3: mismatched tag")
  bad, err = aws.xml_decode('<!DOCTYPE r [<!ENTITY e "x">]><r>&e;</r>')
  t.ok(err:find("DOCTYPE"), err)
  bad, err = aws.xml_decode(string.rep("<a>", 300) .. string.rep("</a>", 300))
  t.ok(err:find("nested too deeply"), err)
  bad, err = aws.xml_decode("")
  t.ok(bad == nil and err:find("^xml: line"), err)
end)

t.test("xml_decode on 3000 random inputs: a tree or nil and an error, never a crash", function()
  local alphabet = { "<", ">", "/", "a", "b", " ", "=", '"', "&amp;", "&", ";", "<!--", "-->",
                     "<?xml version='1.0'?>", "<a>", "</a>", "<b x='1'>", "</b>", "\0", "\xff" }
  math.randomseed(20240501)
  local answered = 0
  for _ = 1, 3000 do
    local parts = {}
    for i = 1, math.random(0, 40) do parts[i] = alphabet[math.random(#alphabet)] end
    local doc, err = aws.xml_decode(table.concat(parts))
    if (type(doc) == "table" and doc.name) or (doc == nil and err:find("^xml: line %d+: ")) then
      answered = answered + 1
    end
  end
  t.eq(answered, 3000)
end)

for _, pid in ipairs(servers) do os.execute("kill " .. pid .. " 2>/dev/null") end
os.execute("rm -rf " .. sh_quote(ROOT))
t.done()
