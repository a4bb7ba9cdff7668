-- Reads a Personalize batch inference output file (local or on S3) and shows
-- each record the way the interactive demos show a result, with titles,
-- genres and histories, then a SUMMARY of the whole file.
local cli = require "mlpz.cli"
local demo = require "mlpz.demo"
local batch = require "mlpz.batch"

local opts = cli.parse(arg, {
  usage = "FILE|s3://BUCKET/KEY [--record N | --limit N] [options]",
  description = "Shows the records of a Personalize batch inference output file (JSON Lines of\n"
    .. "{\"input\", \"output\", \"error\"}) with titles, genres and histories from the\n"
    .. "dataset, then a SUMMARY: errors, distinct items, catalogue coverage, genre match\n"
    .. "(user jobs) and identical lists (similar-items). The job type comes from the inputs.",
  positional = "file",
  options = {
    { long = "--record", key = "record", kind = "int", arg = "N", min = 1,
      help = "show only the Nth record (the SUMMARY still covers the file)" },
    { long = "--limit", key = "limit", kind = "int", arg = "N", min = 1,
      help = "show only the first N records" },
  },
  epilog = "For s3:// URLs, -r/--region, --profile and --endpoint-url apply to S3.\n"
    .. "Malformed lines are reported as FILE:LINE: on stderr; the other records are\n"
    .. "still shown and the exit status is then 2.",
})
if not opts.file then
  cli.fail("missing FILE: give a batch output file or an s3://BUCKET/KEY URL (try --help)")
end

local path, name, tmp = opts.file, opts.file, nil
if opts.file:match("^s3://") then
  local s3mod = require "mlpz.s3"
  local bucket, key = s3mod.parse_url(opts.file)
  if not bucket or key == "" then
    cli.fail(string.format("'%s' names no object: use s3://BUCKET/KEY", opts.file))
  end
  local settings, cerr = require("mlpz.config").resolve(setmetatable({}, { __index = opts }))
  if not settings then cli.fail(cerr) end
  local s3, serr = s3mod.new { region = settings.region, profile = settings.profile,
    endpoint_url = settings.endpoint_url }
  if not s3 then
    cli.fail(string.format("cannot read %s: %s", opts.file, tostring(serr):match("^[^\n]*")), cli.EXIT_AWS)
  end
  -- Streamed to a file, so an output of any size is read line by line.
  tmp = os.tmpname()
  local got, gerr = s3:get_object { bucket = bucket, key = key, file = tmp }
  if not got then os.remove(tmp) end
  demo.check_result("GetObject " .. opts.file, got, gerr)
  path = tmp
end

local records, problems = batch.read(path, { name = name, text = false })
if tmp then os.remove(tmp) end
if not records then cli.fail(problems) end
for _, line in ipairs(problems) do io.stderr:write(line, "\n") end

local _, serr = batch.select(records, opts)
if serr then cli.fail(serr) end

local ds = demo.open_dataset(opts)
demo.announce_dataset(ds)
io.stderr:write(string.format("Read %d %s records from %s\n", #records, records.type or "untyped", name))

local done, rerr = batch.render(ds, records,
  { format = opts.format, record = opts.record, limit = opts.limit })
if not done then cli.fail(rerr) end
if records.malformed > 0 then
  cli.fail(string.format("%s: %d malformed line%s of %d (listed above); the other records are shown",
    name, records.malformed, records.malformed == 1 and "" or "s", records.lines))
end
