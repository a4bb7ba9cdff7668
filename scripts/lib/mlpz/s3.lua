-- Amazon S3, the few calls batch jobs need: put (from a string or streamed
-- from a file, multipart past a threshold), get (to a string or streamed to
-- a file), head, list with continuation, and presigned GET URLs. Every
-- upload carries checksums S3 verifies: the signed x-amz-content-sha256 of
-- the body (mlpz.aws computes it) and, for files, Content-MD5. XML answers
-- are parsed with expat (aws.xml_decode).
local aws = require "mlpz.aws"
local session = require "mlpz.session"

local M = {}

M.MULTIPART_THRESHOLD = 100 * 1024 * 1024
M.PART_SIZE = 16 * 1024 * 1024
local MIN_PART_SIZE = 5 * 1024 * 1024 -- S3's limit for every part but the last

local S3 = {}
S3.__index = S3

-- opts: region, profile, endpoint_url, credentials, timeout,
-- connect_timeout, max_attempts, path_style.
function M.new(opts)
  opts = opts or {}
  local region, creds = session.resolve(opts)
  if not region then return nil, creds end
  local client, err = aws.client {
    service = "s3", region = region, profile = opts.profile, endpoint_url = opts.endpoint_url,
    credentials = creds, timeout = opts.timeout, connect_timeout = opts.connect_timeout,
    max_attempts = opts.max_attempts, path_style = opts.path_style,
  }
  if not client then return nil, err end
  return setmetatable({ client = client, region = region, credentials = creds,
    path_style = opts.path_style,
    multipart_threshold = opts.multipart_threshold or M.MULTIPART_THRESHOLD,
    part_size = opts.part_size or M.PART_SIZE }, S3)
end

-- S3 keys are signed and sent encoded once, slashes kept.
function M.encode_key(key)
  return (key:gsub("[^%w%-%._~/]", function(c) return string.format("%%%02X", c:byte()) end))
end

-- "s3://bucket/key" -> bucket, key; nil, err otherwise.
function M.parse_url(url)
  local bucket, key = tostring(url):match("^s3://([^/]+)/?(.*)$")
  if not bucket then
    return nil, string.format("'%s' is not an S3 URL (expected s3://BUCKET/KEY)", tostring(url))
  end
  return bucket, key
end

local function check(args, ...)
  if type(args) ~= "table" then error("expected a table of arguments", 3) end
  for _, k in ipairs { ... } do
    if type(args[k]) ~= "string" or args[k] == "" then
      error(string.format("'%s' is required (a non-empty string)", k), 3)
    end
  end
end

function S3:request(req)
  req.s3 = true
  return self.client:request(req)
end

local function file_size(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local size = f:seek("end")
  f:close()
  return size
end

local function put_part(self, args, extra)
  local headers = { ["content-type"] = args.content_type or "application/octet-stream" }
  local req = { method = "PUT", bucket = args.bucket, path = "/" .. M.encode_key(args.key),
    headers = headers, query = extra and extra.query }
  if args.file then
    local md5, err = aws.file_digest(args.file, "md5-base64", extra and extra.offset, extra and extra.length)
    if not md5 then return nil, err end
    headers["content-md5"] = md5
    req.body_file, req.body_offset, req.body_length = args.file, extra and extra.offset, extra and extra.length
  else
    req.body = args.body
  end
  if extra then headers["content-type"] = nil end
  return self:request(req)
end

-- Multipart upload of a file: parts of self.part_size read straight from
-- the file; any failure aborts the upload so no orphaned parts are billed.
function S3:put_multipart(args, size)
  local path = "/" .. M.encode_key(args.key)
  local resp, err = self:request { method = "POST", bucket = args.bucket, path = path,
    query = { uploads = "" },
    headers = { ["content-type"] = args.content_type or "application/octet-stream" } }
  if not resp then return nil, err end
  local doc, derr = aws.xml_decode(resp.body)
  local upload_id = doc and doc:get("UploadId")
  if not upload_id then return nil, "CreateMultipartUpload: no UploadId in the answer: " .. tostring(derr) end

  local part_size = math.max(self.part_size, MIN_PART_SIZE)
  local parts, offset, number = {}, 0, 1
  while offset < size do
    local length = math.min(part_size, size - offset)
    local presp, perr = put_part(self, args, {
      offset = offset, length = length,
      query = { partNumber = tostring(number), uploadId = upload_id } })
    if not presp then
      self:request { method = "DELETE", bucket = args.bucket, path = path, query = { uploadId = upload_id } }
      return nil, perr
    end
    parts[#parts + 1] = string.format("<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>",
      number, (presp.headers.etag or ""):gsub("[<>&]", ""))
    offset, number = offset + length, number + 1
  end
  local body = '<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
    .. table.concat(parts) .. "</CompleteMultipartUpload>"
  resp, err = self:request { method = "POST", bucket = args.bucket, path = path,
    query = { uploadId = upload_id }, headers = { ["content-type"] = "application/xml" }, body = body }
  -- S3 can answer 200 with an <Error> body to a completion.
  local done = resp and aws.xml_decode(resp.body)
  if not resp or not done or done.name == "Error" then
    self:request { method = "DELETE", bucket = args.bucket, path = path, query = { uploadId = upload_id } }
    return nil, err or ("CompleteMultipartUpload failed: " .. tostring(done and done:get("Message")))
  end
  return { etag = done:get("ETag"), parts = number - 1 }
end

-- put_object{bucket, key, body = string | file = path, content_type}
-- -> {etag, parts} | nil, err. Files above the multipart threshold go up
-- in parts.
function S3:put_object(args)
  check(args, "bucket", "key")
  if (args.body == nil) == (args.file == nil) then error("give either body or file", 2) end
  if args.file then
    local size, err = file_size(args.file)
    if not size then return nil, err end
    if size > self.multipart_threshold then return self:put_multipart(args, size) end
  end
  local resp, err = put_part(self, args)
  if not resp then return nil, err end
  return { etag = resp.headers.etag, parts = 1 }
end

-- get_object{bucket, key, file = path} -> body (string), or true when
-- streamed to file (written beside it and renamed) | nil, err.
function S3:get_object(args)
  check(args, "bucket", "key")
  local resp, err = self:request { method = "GET", bucket = args.bucket,
    path = "/" .. M.encode_key(args.key), output_file = args.file }
  if not resp then return nil, err end
  return args.file and true or resp.body
end

-- head_object{bucket, key} -> {content_length, content_type, etag,
-- last_modified} | nil, err (code "NotFound" when there is no such key).
function S3:head_object(args)
  check(args, "bucket", "key")
  local resp, err = self:request { method = "HEAD", bucket = args.bucket,
    path = "/" .. M.encode_key(args.key) }
  if not resp then return nil, err end
  local h = resp.headers
  return { content_length = tonumber(h["content-length"]), content_type = h["content-type"],
    etag = h.etag, last_modified = h["last-modified"] }
end

-- One page of ListObjectsV2: {contents = {{key, size, etag, last_modified}},
-- is_truncated, next_continuation_token, key_count} | nil, err.
function S3:list_objects_v2(args)
  check(args, "bucket")
  local query = { ["list-type"] = "2", prefix = args.prefix,
    ["continuation-token"] = args.continuation_token,
    ["max-keys"] = args.max_keys and tostring(args.max_keys), delimiter = args.delimiter }
  local resp, err = self:request { method = "GET", bucket = args.bucket, path = "/", query = query }
  if not resp then return nil, err end
  local doc, derr = aws.xml_decode(resp.body)
  if not doc then return nil, "ListObjectsV2: " .. tostring(derr) end
  local page = { contents = {}, is_truncated = doc:get("IsTruncated") == "true",
    next_continuation_token = doc:get("NextContinuationToken"),
    key_count = tonumber(doc:get("KeyCount")) }
  for _, c in ipairs(doc:children("Contents")) do
    page.contents[#page.contents + 1] = { key = c:get("Key"), size = tonumber(c:get("Size")),
      etag = c:get("ETag"), last_modified = c:get("LastModified") }
  end
  return page
end

-- Iterates over every object under a prefix, following continuation
-- tokens: `for obj in s3:list("bucket", "output/") do print(obj.key) end`.
-- An error is raised from the loop.
function S3:list(bucket, prefix, page_size)
  local page, index, token = nil, 0, nil
  return function()
    while true do
      if page and index < #page.contents then
        index = index + 1
        return page.contents[index]
      end
      if page and not page.is_truncated then return nil end
      local err
      page, err = self:list_objects_v2 { bucket = bucket, prefix = prefix,
        continuation_token = token, max_keys = page_size }
      if not page then error(err, 2) end
      index, token = 0, page.next_continuation_token
    end
  end
end

-- presign{bucket, key, expires = 3600} -> a GET URL anyone can use until it
-- expires | nil, err.
function S3:presign(args)
  check(args, "bucket", "key")
  local base, path = self.client.endpoint, "/" .. M.encode_key(args.key)
  local url
  -- Virtual-hosted on AWS's endpoints, as mlpz.aws addresses buckets;
  -- path-style on custom endpoints and for names that are no DNS label.
  if self.path_style or self.client.custom_endpoint or args.bucket:find("[^%l%d%-]") then
    url = base .. "/" .. M.encode_key(args.bucket) .. path
  else
    url = base:gsub("^(https?://)", "%1" .. args.bucket .. ".", 1) .. path
  end
  local signed, err = aws.sign { method = "GET", url = url, service = "s3", region = self.region,
    credentials = self.credentials, time = os.time(), mode = "query",
    expires = args.expires or 3600, payload_hash = "UNSIGNED-PAYLOAD" }
  if not signed then return nil, err end
  return signed.url
end

return M
