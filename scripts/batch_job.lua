-- Runs a Personalize batch inference job and waits for it: creates it
-- (uploading a local input file first), polls its status, then downloads
-- the output and renders it as batch_output.lua does.
local cli = require "mlpz.cli"
local demo = require "mlpz.demo"
local sys = require "mlpz.sys"

local opts = cli.parse(arg, {
  usage = "--solution-version-arn ARN --role-arn ARN --input s3://B/K|FILE --output s3://B/P/ [options]\n"
    .. "       mlpz-lua batch_job.lua --job-arn ARN [--wait]",
  description = "Creates a batch inference job (CreateBatchInferenceJob), or attaches to one with\n"
    .. "--job-arn, and with --wait polls it until it ends; then downloads\n"
    .. "<output><input file name>.out and renders it with titles and genres.\n"
    .. "Ctrl-C stops waiting without cancelling the job.",
  options = {
    { long = "--solution-version-arn", key = "solution_version_arn", kind = "string", arg = "ARN",
      help = "the solution version that scores the input" },
    { long = "--role-arn", key = "role_arn", kind = "string", arg = "ARN",
      help = "IAM role Personalize assumes to read the input and write the output" },
    { long = "--input", key = "input", kind = "string", arg = "S3URL|FILE",
      help = "the input: s3://bucket/key, or a local file uploaded first" },
    { long = "--output", key = "output", kind = "string", arg = "S3URL",
      help = "where Personalize writes the output: s3://bucket/prefix/" },
    { long = "--job-name", key = "job_name", kind = "string", arg = "NAME",
      help = "job name (default mlpz-<input name>-<YYYYmmdd-HHMMSS>)" },
    { long = "--job-arn", key = "job_arn", kind = "string", arg = "ARN",
      help = "attach to an existing job instead of creating one" },
    { long = "--wait", key = "wait", kind = "flag", help = "wait for the job to end, then show its output" },
    { long = "--poll-interval", key = "poll_interval", kind = "number", arg = "SECONDS",
      help = "first wait between status checks (default 10; it grows to 60)", min = 0.05, max = 3600 },
    { long = "--download", key = "download", kind = "string", arg = "FILE",
      help = "where to save the output file (default: its own name, here)" },
  },
})

local fail_aws = demo.fail_aws

-- Checks the arguments before any call, so a mistake costs nothing.
local s3mod = require "mlpz.s3"
local backend = require "mlpz.backend"
if not opts.job_arn then
  local missing = {}
  for _, k in ipairs { "solution_version_arn", "role_arn", "input", "output" } do
    if not opts[k] then missing[#missing + 1] = "--" .. k:gsub("_", "-") end
  end
  if #missing > 0 then
    cli.fail("missing " .. table.concat(missing, ", ") .. " (or attach to a job with --job-arn ARN; try --help)")
  end
  if not tostring(opts.solution_version_arn):match("^arn:aws[%w%-]*:personalize:[%w%-]+:%d+:solution/[^/]+/%x+$") then
    cli.fail(string.format("'%s' is not a solution version ARN "
      .. "(expected arn:aws:personalize:REGION:ACCOUNT:solution/NAME/VERSION)", opts.solution_version_arn))
  end
  if not tostring(opts.role_arn):match("^arn:aws[%w%-]*:iam::%d+:role/.+$") then
    cli.fail(string.format("'%s' is not an IAM role ARN (expected arn:aws:iam::ACCOUNT:role/NAME)", opts.role_arn))
  end
  local out_bucket, perr = s3mod.parse_url(opts.output)
  if not out_bucket then cli.fail("--output: " .. perr) end
  if opts.filter_arn then
    local ok, ferr = backend.parse_arn(opts.filter_arn, "filter")
    if not ok then cli.fail(ferr) end
  end
elseif not tostring(opts.job_arn):match("^arn:aws[%w%-]*:personalize:[%w%-]+:%d+:batch%-inference%-job/.+$") then
  cli.fail(string.format("'%s' is not a batch inference job ARN "
    .. "(expected arn:aws:personalize:REGION:ACCOUNT:batch-inference-job/NAME)", opts.job_arn))
end

-- The region an ARN names, unless --region says otherwise.
local function arn_region(arn) return tostring(arn):match("^arn:[^:]+:[^:]+:([^:]+):") end
local region = opts.region or arn_region(opts.job_arn or opts.solution_version_arn)
local settings = demo.settings(opts)
local p, perr = require("mlpz.personalize").new { region = region, profile = settings.profile,
  endpoint_url = opts.endpoint_url }
if not p then fail_aws("setting up Personalize", perr) end
local s3
local function s3_client()
  if not s3 then
    local err
    s3, err = s3mod.new { region = region, profile = settings.profile }
    if not s3 then fail_aws("setting up S3", err) end
  end
  return s3
end

local function stamp() return os.date("!%Y-%m-%d %H:%M:%S") end
local function say(fmt, ...) io.stderr:write(string.format(fmt, ...), "\n") end

local job_arn = opts.job_arn
if not job_arn then
  local input = opts.input
  if not input:match("^s3://") then
    -- A local file goes next to the output, under input/.
    local f = io.open(input, "rb")
    if not f then cli.fail("cannot read --input " .. input .. ": no such file") end
    f:close()
    local bucket = s3mod.parse_url(opts.output)
    local key = "input/" .. (input:match("[^/]+$") or input)
    local done, err = s3_client():put_object { bucket = bucket, key = key, file = input,
      content_type = "application/json" }
    if not done then fail_aws("uploading " .. input, err) end
    input = string.format("s3://%s/%s", bucket, key)
    say("Uploaded %s to %s", opts.input, input)
  end
  local output = opts.output:sub(-1) == "/" and opts.output or (opts.output .. "/")
  local name = opts.job_name or string.format("mlpz-%s-%s",
    (input:match("([^/]+)$") or "input"):gsub("%.json$", ""):gsub("[^%w%-]", "-"):sub(1, 40),
    os.date("!%Y%m%d-%H%M%S"))
  local created, err = p:create_batch_inference_job {
    jobName = name, solutionVersionArn = opts.solution_version_arn, roleArn = opts.role_arn,
    jobInput = { s3DataSource = { path = input } },
    jobOutput = { s3DataDestination = { path = output } },
    numResults = opts.num_results, filterArn = opts.filter_arn,
  }
  if not created then fail_aws("CreateBatchInferenceJob", err) end
  job_arn = created.batchInferenceJobArn
  print("Created batch inference job " .. job_arn)
  if not opts.wait then
    print("Follow it with: mlpz-lua scripts/batch_job.lua --job-arn " .. job_arn .. " --wait")
    os.exit(0)
  end
end

local function describe()
  local d, err = p:describe_batch_inference_job { batchInferenceJobArn = job_arn }
  if not d then fail_aws("DescribeBatchInferenceJob", err) end
  return d.batchInferenceJob
end

local TERMINAL = { ACTIVE = true, ["CREATE FAILED"] = true }
local function elapsed(seconds)
  seconds = math.floor(seconds)
  return string.format("%d:%02d:%02d", seconds // 3600, seconds // 60 % 60, seconds % 60)
end

local job = describe()
if not TERMINAL[job.status] and not opts.wait then
  print(string.format("%s: %s (add --wait to wait for it)", job_arn, job.status))
  os.exit(0)
end

-- Polls with a growing interval. A terminal gets one live line rewritten in
-- place; anything else gets a timestamped line per status change.
if not TERMINAL[job.status] then
  local live = sys.isatty("stderr")
  local started, interval, last = sys.time(), opts.poll_interval or 10, nil
  local ok, err = pcall(function()
    while not TERMINAL[job.status] do
      local line = string.format("%s  %-12s elapsed %s", stamp(), job.status, elapsed(sys.time() - started))
      if live then io.stderr:write("\r", line, "\027[K")
      elseif job.status ~= last then say("%s", line) end
      last = job.status
      sys.sleep(interval)
      interval = math.min(interval * 1.5, 60)
      job = describe()
    end
  end)
  if live then io.stderr:write("\n") end
  if not ok then
    if tostring(err):find("interrupted!", 1, true) then
      say("Stopped waiting; the job goes on. Resume with:\n"
        .. "  mlpz-lua scripts/batch_job.lua --job-arn %s --wait", job_arn)
      os.exit(130)
    end
    error(err, 0)
  end
  say("%s  %-12s after %s", stamp(), job.status, elapsed(sys.time() - started))
end

if job.status == "CREATE FAILED" then
  cli.fail(string.format("batch inference job %s failed: %s", job_arn,
    tostring(job.failureReason or "no reason given")), cli.EXIT_AWS)
end

-- Personalize writes <output path><input file name>.out.
local input_path = job.jobInput.s3DataSource.path
local out_prefix = job.jobOutput.s3DataDestination.path
if out_prefix:sub(-1) ~= "/" then out_prefix = out_prefix .. "/" end
local out_url = out_prefix .. (input_path:match("[^/]+$") or "") .. ".out"
local bucket, key = s3mod.parse_url(out_url)
local file = opts.download or key:match("[^/]+$")
local got, err = s3_client():get_object { bucket = bucket, key = key, file = file }
if not got then fail_aws("downloading " .. out_url, err) end
say("Downloaded %s to %s", out_url, file)

local ds = demo.open_dataset(opts)
local batch = require "mlpz.batch"
local records, problems = batch.read(file, { name = out_url })
if not records then cli.fail(problems) end
for _, line in ipairs(problems) do io.stderr:write(line, "\n") end
local rendered, rerr = batch.render(ds, records, { format = opts.format })
if not rendered then cli.fail(rerr) end
if #problems > 0 then os.exit(cli.EXIT_USAGE) end
