-- mlpz.s3 against moto's S3 server (signature checks on), driven by
-- test_s3.sh: args are the endpoint, the bucket and a scratch folder.
local t = dofile(os.getenv("ROOT") .. "/tests/lua/harness.lua")
local s3mod = require "mlpz.s3"
local aws = require "mlpz.aws"
local endpoint, bucket, dir = ...

local s3 = assert(s3mod.new { endpoint_url = endpoint, region = "us-east-1",
  multipart_threshold = 6 * 1024 * 1024, part_size = 5 * 1024 * 1024 })

local function write_random(path, size)
  local f = assert(io.open(path, "wb"))
  local chunk = {}
  for i = 1, 4096 do chunk[i] = string.char((i * 7919 + size) % 256) end
  chunk = table.concat(chunk)
  local left = size
  while left > 0 do
    local n = math.min(left, #chunk)
    f:write(chunk:sub(1, n))
    left = left - n
  end
  f:close()
end

t.test("put and get a string, keys with spaces and UTF-8", function()
  local key = "input/a b/Léon+1.json"
  local r = assert(s3:put_object { bucket = bucket, key = key, body = '{"userId": "1"}\n' })
  t.ok(r.etag, "etag")
  t.eq(assert(s3:get_object { bucket = bucket, key = key }), '{"userId": "1"}\n')
  local h = assert(s3:head_object { bucket = bucket, key = key })
  t.eq(h.content_length, 16)
end)

t.test("put a file streamed, get it streamed to a file", function()
  write_random(dir .. "/one.bin", 1024 * 1024 + 17)
  local r = assert(s3:put_object { bucket = bucket, key = "files/one.bin", file = dir .. "/one.bin" })
  t.eq(r.parts, 1)
  t.eq(assert(s3:get_object { bucket = bucket, key = "files/one.bin", file = dir .. "/one.out" }), true)
  t.eq(aws.file_digest(dir .. "/one.out", "sha256"), aws.file_digest(dir .. "/one.bin", "sha256"))
end)

t.test("multipart upload above the threshold", function()
  write_random(dir .. "/big.bin", 12 * 1024 * 1024 + 5)
  local r = assert(s3:put_object { bucket = bucket, key = "files/big.bin", file = dir .. "/big.bin" })
  t.eq(r.parts, 3)
  t.ok(tostring(r.etag):find("%-3\"?$"), "a multipart ETag ends in -3: " .. tostring(r.etag))
  assert(s3:get_object { bucket = bucket, key = "files/big.bin", file = dir .. "/big.out" })
  t.eq(aws.file_digest(dir .. "/big.out", "sha256"), aws.file_digest(dir .. "/big.bin", "sha256"))
end)

t.test("files above 100 MB go up in parts with the default settings", function()
  local plain = assert(s3mod.new { endpoint_url = endpoint, region = "us-east-1" })
  local path = dir .. "/huge.bin"
  local f = assert(io.open(path, "wb"))
  -- Sparse apart from a marker at each end: cheap to make, still checked.
  f:write("head")
  f:seek("set", 101 * 1024 * 1024 - 4)
  f:write("tail")
  f:close()
  local r = assert(plain:put_object { bucket = bucket, key = "files/huge.bin", file = path })
  t.eq(r.parts, 7, "101 MiB in 16 MiB parts")
  local h = assert(plain:head_object { bucket = bucket, key = "files/huge.bin" })
  t.eq(h.content_length, 101 * 1024 * 1024)
  assert(plain:get_object { bucket = bucket, key = "files/huge.bin", file = dir .. "/huge.out" })
  t.eq(aws.file_digest(dir .. "/huge.out", "sha256"), aws.file_digest(path, "sha256"))
  os.remove(path)
  os.remove(dir .. "/huge.out")
end)

t.test("list with continuation", function()
  for i = 1, 7 do assert(s3:put_object { bucket = bucket, key = "list/k" .. i, body = tostring(i) }) end
  local page = assert(s3:list_objects_v2 { bucket = bucket, prefix = "list/", max_keys = 3 })
  t.eq(#page.contents, 3)
  t.eq(page.is_truncated, true)
  t.ok(page.next_continuation_token, "a continuation token")
  local keys = {}
  for obj in s3:list(bucket, "list/", 3) do keys[#keys + 1] = obj.key end
  t.eq(keys, { "list/k1", "list/k2", "list/k3", "list/k4", "list/k5", "list/k6", "list/k7" })
end)

t.test("errors decoded from S3's XML", function()
  local body, err = s3:get_object { bucket = bucket, key = "no/such/key" }
  t.eq(body, nil)
  t.eq(err.code, "NoSuchKey")
  t.eq(err.status, 404)
  _, err = s3:get_object { bucket = "mlpz-no-such-bucket", key = "x" }
  t.eq(err.code, "NoSuchBucket")
  _, err = s3:head_object { bucket = bucket, key = "no/such/key" }
  t.eq(err.status, 404)
end)

t.test("a failed download leaves no file", function()
  local ok = s3:get_object { bucket = bucket, key = "no/such/key", file = dir .. "/none.out" }
  t.eq(ok, nil)
  t.eq(io.open(dir .. "/none.out"), nil)
end)

t.test("presigned GET URL: fetched without credentials, signed as botocore signs", function()
  local key = "list/a b+Léon"
  assert(s3:put_object { bucket = bucket, key = key, body = "presigned" })
  local url = assert(s3:presign { bucket = bucket, key = key, expires = 300 })
  local p = assert(io.popen("curl -s -f '" .. url .. "'"))
  local got = p:read("a")
  p:close()
  t.eq(got, "presigned")
  -- botocore's S3 query signer at the same instant, for the same request.
  local date = url:match("X%-Amz%-Date=(%d+T%d+Z)")
  p = assert(io.popen(string.format([[python3 - '%s' '%s' '%s' <<'PY'
import sys, datetime
from unittest import mock
from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
url, date, secret = sys.argv[1], sys.argv[2], sys.argv[3]
base = url.split("?")[0]
req = AWSRequest(method="GET", url=base)
now = datetime.datetime.strptime(date, "%%Y%%m%%dT%%H%%M%%SZ")
with mock.patch("botocore.auth.get_current_datetime", return_value=now):
    S3SigV4QueryAuth(Credentials(url.split("X-Amz-Credential=")[1].split("%%2F")[0], secret), "s3", "us-east-1", expires=300).add_auth(req)
print(req.url.split("X-Amz-Signature=")[1])
PY]], url, date, os.getenv("AWS_SECRET_ACCESS_KEY"))))
  local want = p:read("l")
  p:close()
  t.eq(url:match("X%-Amz%-Signature=(%x+)"), want, "signature")
end)

t.test("the verifying endpoint accepts our signature and rejects a wrong secret", function()
  local url, ak, sk = os.getenv("AUTH_URL"), os.getenv("AUTH_AK"), os.getenv("AUTH_SK")
  local good = assert(s3mod.new { endpoint_url = url, region = "us-east-1",
    credentials = assert(aws.credentials { access_key_id = ak, secret_access_key = sk }) })
  assert(good:put_object { bucket = bucket, key = "signed", body = "checked" })
  t.eq(assert(good:get_object { bucket = bucket, key = "signed" }), "checked")
  local bad = assert(s3mod.new { endpoint_url = url, region = "us-east-1",
    credentials = assert(aws.credentials { access_key_id = ak,
      secret_access_key = "wrong/secret/key/000000000000000000000000" }) })
  local body, err = bad:get_object { bucket = bucket, key = "signed" }
  t.eq(body, nil)
  t.eq(err.code, "SignatureDoesNotMatch")
  t.eq(err.retryable, false)
  t.ok(not tostring(err):find("wrong/secret", 1, true), "the secret is not in the message")
  t.ok(not tostring(err):find(sk, 1, true), "the secret is not in the message")
end)

t.test("parse_url", function()
  t.eq({ s3mod.parse_url("s3://b/input/x.json") }, { "b", "input/x.json" })
  local b, err = s3mod.parse_url("https://b/x")
  t.eq(b, nil)
  t.ok(err:find("expected s3://BUCKET/KEY", 1, true))
end)

t.done()
