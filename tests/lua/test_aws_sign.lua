-- aws.sign against every case of AWS's SigV4 test suite (header and query
-- variants: canonical request, string to sign, signature and the signed
-- request rebuilt byte for byte), and against botocore run live.
local t = dofile "tests/lua/harness.lua"
local aws = require "mlpz.aws"
local cjson = require "cjson"

local shared = assert(os.getenv("MLPZ_SHARED"), "MLPZ_SHARED is not set")
local root = shared .. "/aws-sigv4-test-suite/v4"

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local function lines_of(cmd)
  local p = assert(io.popen(cmd))
  local out = {}
  for l in p:lines() do out[#out + 1] = l end
  p:close()
  return out
end

-- request.txt: request line, header lines (indented lines continue the
-- previous value, line break kept), a blank line, the body.
local function parse_request(text)
  local req = { headers = {}, raw = {} }
  local head, body = text:match("^(.-)\n\n(.*)$")
  if not head then head, body = text, "" end
  local first = true
  for line in (head .. "\n"):gmatch("(.-)\n") do
    if first then
      req.method, req.target, req.version = line:match("^(%S+) (.+) (%S+)$")
      first = false
    elseif line == "" then
      -- the end of a request without a body
    elseif line:match("^[ \t]") then
      local h = req.headers[#req.headers]
      h[2] = h[2] .. "\n" .. line
      req.raw[#req.raw + 1] = line
    else
      local name, value = line:match("^([^:]+):(.*)$")
      req.headers[#req.headers + 1] = { name, value }
      req.raw[#req.raw + 1] = line
    end
  end
  req.body = body
  return req
end

local function iso_to_amz(s)
  local y, mo, d, h, mi, sec = s:match("^(%d+)-(%d+)-(%d+)T(%d+):(%d+):(%d+)Z$")
  return y .. mo .. d .. "T" .. h .. mi .. sec .. "Z"
end

local cases = lines_of("ls -1 '" .. root .. "'")
local counted = tonumber(lines_of("ls -1 '" .. root .. "' | wc -l")[1])

t.test("the suite is there (" .. #cases .. " cases)", function()
  t.ok(#cases >= 30, "expected the AWS suite's cases in " .. root)
  t.eq(#cases, counted)
end)

local compared = 0
for _, name in ipairs(cases) do
  local dir = root .. "/" .. name
  local req = parse_request(assert(read(dir .. "/request.txt")))
  local ctx = cjson.decode(assert(read(dir .. "/context.json")))
  for _, mode in ipairs { "header", "query" } do
    t.test(name .. " " .. mode, function()
      local r, err = aws.sign {
        method = req.method, url = req.target, headers = req.headers, body = req.body,
        service = ctx.service, region = ctx.region,
        credentials = { access_key_id = ctx.credentials.access_key_id,
                        secret_access_key = ctx.credentials.secret_access_key,
                        session_token = ctx.credentials.token },
        time = iso_to_amz(ctx.timestamp), mode = mode,
        expires = ctx.expiration_in_seconds, normalize = ctx.normalize == true,
        double_encode = true, sign_body = ctx.sign_body == true,
        omit_session_token = ctx.omit_session_token == true,
      }
      t.ok(r, err)
      t.eq(r.canonical_request, read(dir .. "/" .. mode .. "-canonical-request.txt"),
        "canonical request")
      t.eq(r.string_to_sign, read(dir .. "/" .. mode .. "-string-to-sign.txt"), "string to sign")
      t.eq(r.signature, read(dir .. "/" .. mode .. "-signature.txt"), "signature")
      local out = { req.method .. " " .. (mode == "query" and r.url or req.target) .. " "
        .. req.version }
      for _, l in ipairs(req.raw) do out[#out + 1] = l end
      if mode == "header" then
        for _, h in ipairs(r.headers) do out[#out + 1] = h[1] .. ":" .. h[2] end
      else
        t.eq(#r.headers, 0, "query mode adds no headers")
      end
      local rebuilt = table.concat(out, "\n") .. "\n\n" .. req.body
      t.eq(rebuilt, read(dir .. "/" .. mode .. "-signed-request.txt"), "signed request")
      compared = compared + 1
    end)
  end
end

t.test("every case compared in both modes", function()
  t.eq(compared, 2 * counted)
end)

local CREDS = { access_key_id = "AKIDEXAMPLE",
                secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" }

t.test("time as epoch seconds signs like its YYYYMMDDTHHMMSSZ form", function()
  local base = { method = "GET", url = "https://example.amazonaws.com/?a=b", service = "service",
                 region = "us-east-1", credentials = CREDS }
  base.time = 1440938160
  local a = assert(aws.sign(base))
  base.time = "20150830T123600Z"
  local b = assert(aws.sign(base))
  t.eq(a.signature, b.signature)
  t.eq(a.amz_date, "20150830T123600Z")
  t.eq(a.credential_scope, "20150830/us-east-1/service/aws4_request")
end)

t.test("map headers sign like the same headers as a sorted list", function()
  local base = { method = "POST", url = "https://example.amazonaws.com/", service = "service",
                 region = "us-east-1", credentials = CREDS, time = 1440938160, body = "{}" }
  base.headers = { ["X-B"] = "2", ["Content-Type"] = "application/json", ["x-a"] = "1" }
  local a = assert(aws.sign(base))
  base.headers = { { "Content-Type", "application/json" }, { "X-B", "2" }, { "x-a", "1" } }
  local b = assert(aws.sign(base))
  t.eq(a.signature, b.signature)
  t.eq(a.signed_headers, "content-type;host;x-a;x-amz-date;x-b")
end)

t.test("a credentials object signs like the same keys in a table", function()
  local creds = assert(aws.credentials(CREDS))
  local base = { method = "GET", url = "https://example.amazonaws.com/", service = "service",
                 region = "us-east-1", time = 1440938160 }
  base.credentials = creds
  local a = assert(aws.sign(base))
  base.credentials = CREDS
  local b = assert(aws.sign(base))
  t.eq(a.authorization, b.authorization)
end)

t.test("bad input: nil and a one-line error, no raise", function()
  local r, err = aws.sign { method = "GET", url = "https://example.amazonaws.com/",
    service = "service", region = "us-east-1", credentials = CREDS, time = 1440938160,
    headers = { { "X-Evil", "a\r\nInjected: 1" } } }
  t.eq(r, nil)
  t.ok(err:find("headers[1]", 1, true), err)
  t.ok(not err:find("\n"), "one line")
  r, err = aws.sign { method = "GET", url = "ftp:/x", service = "s", region = "r",
    credentials = CREDS, time = 1 }
  t.eq(r, nil)
  t.ok(err:find("url"), err)
end)

t.test("programmer errors raise", function()
  t.raises(function() aws.sign { method = "GET", url = "https://h/", service = "s",
    region = "r", credentials = CREDS } end, "'time'")
  t.raises(function() aws.sign { method = "GET", url = "https://h/", service = "s",
    region = "r", time = 1 } end, "'credentials'")
  t.raises(function() aws.sign { method = "GET", url = "https://h/", service = "s",
    region = "r", time = 1, credentials = CREDS, mode = "cookie" } end, "'mode'")
end)

-- botocore signs the same Personalize and S3 requests; the signatures must
-- agree byte for byte.
local PY = [==[
import sys, datetime
from botocore.auth import SigV4Auth, S3SigV4Auth, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
import botocore.auth
fixed = datetime.datetime(2024, 5, 1, 12, 34, 56)
class FixedDT(datetime.datetime):
    @classmethod
    def utcnow(cls): return fixed
    @classmethod
    def now(cls, tz=None): return fixed.replace(tzinfo=tz) if tz else fixed
botocore.auth.datetime.datetime = FixedDT
c = Credentials("AKIAMLPZTEST00000001", "mlpz/Test+Secret/Key0000000000000000000000", "tok/en+1==")
r = AWSRequest(method="POST", url="https://personalize-runtime.eu-west-1.amazonaws.com/recommendations",
               data=b'{"campaignArn":"arn:aws:personalize:eu-west-1:123456789012:campaign/x","userId":"42"}',
               headers={"Content-Type": "application/json"})
SigV4Auth(c, "personalize", "eu-west-1").add_auth(r)
print(r.headers["Authorization"])
r = AWSRequest(method="PUT", url="https://bucket.s3.us-east-1.amazonaws.com/dir/my%20file%2B1.csv",
               data=b"hello", headers={"Content-Type": "text/csv"})
S3SigV4Auth(c, "s3", "us-east-1").add_auth(r)
print(r.headers["Authorization"])
r = AWSRequest(method="GET", url="https://bucket.s3.us-east-1.amazonaws.com/out/x.json.out")
S3SigV4QueryAuth(c, "s3", "us-east-1", expires=900).add_auth(r)
print(r.url)
]==]

t.test("botocore agrees (personalize JSON, S3 PUT, S3 presigned GET)", function()
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write(PY)
  f:close()
  local want = lines_of("python3 " .. path .. " 2>&1")
  os.remove(path)
  t.eq(#want, 3, "botocore printed: " .. table.concat(want, " | "))
  local creds = { access_key_id = "AKIAMLPZTEST00000001",
                  secret_access_key = "mlpz/Test+Secret/Key0000000000000000000000",
                  session_token = "tok/en+1==" }
  local when = "20240501T123456Z"
  local a = assert(aws.sign { method = "POST", service = "personalize", region = "eu-west-1",
    url = "https://personalize-runtime.eu-west-1.amazonaws.com/recommendations",
    body = '{"campaignArn":"arn:aws:personalize:eu-west-1:123456789012:campaign/x","userId":"42"}',
    headers = { ["Content-Type"] = "application/json" }, credentials = creds, time = when })
  t.eq(a.authorization, want[1], "personalize")
  local b = assert(aws.sign { method = "PUT", service = "s3", region = "us-east-1",
    url = "https://bucket.s3.us-east-1.amazonaws.com/dir/my%20file%2B1.csv", body = "hello",
    headers = { ["Content-Type"] = "text/csv" }, credentials = creds, time = when })
  t.eq(b.authorization, want[2], "s3 put")
  local c = assert(aws.sign { method = "GET", service = "s3", region = "us-east-1",
    url = "https://bucket.s3.us-east-1.amazonaws.com/out/x.json.out", mode = "query",
    expires = 900, payload_hash = aws.UNSIGNED_PAYLOAD, credentials = creds, time = when })
  -- botocore orders the query parameters alphabetically; compare as sets.
  local function params(u)
    local set = {}
    for kv in (u:match("%?(.*)$") or ""):gmatch("[^&]+") do set[kv] = true end
    return set
  end
  t.eq(params(c.url), params(want[3]), "s3 presigned url")
  t.eq(c.url:match("^[^?]*"), want[3]:match("^[^?]*"))
end)

t.done()
