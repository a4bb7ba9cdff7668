-- mlpz.help: the short API guide behind the REPL's help([topic]).
-- help.text([topic]) -> string | nil, err; help.show([topic]) writes it.
-- README.md holds the full reference; this is the reminder at the prompt.
local M = {}

local OVERVIEW = [[
mlpz-lua: look at Amazon Personalize recommendations on MovieLens.

In the REPL
  ds                 the dataset, opened on first use ($MLPZ_DATA or ./data)
  mlpz.<module>      any module below, loaded on first use (mlpz.table, ...)
  help("dataset")    details of one module (any name listed below)
  Tab completes globals, fields and methods (ds:his<Tab>); Ctrl-C stops a
  running statement; Ctrl-D exits; history is kept in ~/.mlpz_history.

Modules (require "mlpz.<name>")
  dataset      MovieLens / Personalize interactions, movies, users
  backend      one recommender interface: local model or Personalize campaign
  recommender  the embedded local recommender the "local" backend uses
  table        text tables (tabulate "pretty"), json and csv output
  personalize  Personalize runtime and control-plane clients
  s3, aws      S3 client; credentials, regions and SigV4 signing
  batch        batch inference output files: read, render, summary statistics
  text         display width of UTF-8 text
  sys          sleep, isatty, time
  config, cli, report, demo, session   what the demo scripts share (README)
  pretty       how the REPL prints values

Try
  ds:movie(1)
  ds:history(42, {limit = 5})
  rec = mlpz.backend.open{dataset = ds}
  rec:recommend{user = "42", n = 5}
]]

local TOPICS = {
  dataset = [[
mlpz.dataset (the REPL's `ds` is dataset.open())
  dataset.open([{dir = ...}])      -> ds | nil, err   (dir, $MLPZ_DATA, ./data, .)
  dataset.format_date(ts)          -> "YYYY-MM-DD HH:MM:SS" (UTC)
  ds:stats()                       -> {users, movies, items, interactions, events, ...}
  ds:movie(id)                     -> {id, title, year, genres = {...}} | nil, err
  ds:history(user, [{limit, unique}]) -> {{item, event, ts, date}, ...} newest first
  ds:top_genres(user_or_list, [n]) -> {{genre, count}, ...}
  ds:random_users(n), ds:random_movies(n) -> {id, ...}   (ds:seed(n) to repeat)
  ds:popular([n])                  -> most interacted movies
  ds:search(text)                  -> movies whose title contains text
  ds:has_user(id), ds:has_item(id) -> boolean
  Ids are strings; numbers are accepted and written in decimal.
]],
  backend = [[
mlpz.backend: one interface, local or Amazon Personalize
  backend.open{dataset = ds}          -> rec, the embedded local recommender
  backend.open{kind = "personalize", campaign_arn = ...} -> rec | nil, err
  rec:recommend{user = id, n = 10}   -> {items = {{id, score}, ...}, source = ...} | nil, err
  rec:similar{item = id, n = 10}     -> same shape
  rec:rank{user = id, items = {...}} -> same shape; unknown items last, score nil
]],
  recommender = [[
mlpz.recommender: the embedded local recommender
  recommender.new(ds)                -> model (trains on first use)
  model:recommend(user, n [, {exclude_seen = true}]) -> {{id, score}, ...} | nil, err
  model:similar(item, n)             -> {{id, score}, ...} | nil, err
  model:rank(user, {item, ...})      -> {{id, score}, ...} | nil, err
  model:train() -> seconds;  model:info() -> {trained, users, items, ...}
]],
  table = [[
mlpz.table: text tables
  table.render(rows, {headers = {...}, format = "table" | "json" | "csv"}) -> string
  table.print(rows, opts)            render() written to stdout
  table.side_by_side(columns [, headers]) -> rows
  A row is a list of cells in header order or a map keyed by header.
]],
  personalize = [[
mlpz.personalize: thin Personalize clients (API member names, decoded JSON)
  p = personalize.new{region =, profile =, endpoint_url =}  -> client | nil, err
  p:get_recommendations{campaignArn = ..., userId = "42", numResults = 10}
  p:get_personalized_ranking{...}, p:get_action_recommendations{...}
  p:call("ListCampaigns", {...}) and p:list_campaigns{...}, describe_campaign,
  describe_solution_version, get_solution_metrics, create_batch_inference_job,
  describe_batch_inference_job, list_batch_inference_jobs
  for c in p:pages("ListCampaigns", {}, "campaigns") do ... end
  Errors: nil, err with err.code, err.message, err.status, err.request_id,
  err.retryable. Credentials and region come from mlpz.aws (as the AWS CLI).
]],
  aws = [[
mlpz.aws: what the AWS CLI resolves, and a signed HTTP client
  aws.credentials{profile =} -> creds (access_key_id, source, expiration)
  aws.region{region =, profile =}, aws.endpoint(service, {region =, endpoint_url =})
  aws.client{service =, region =, ...} -> c;  c:request{method, path, query,
    headers, body | body_file, output_file, bucket} -> {status, headers, body}
  aws.sign{method, url, headers, body, service, region, credentials, time,
    mode = "header" | "query"} (Signature V4, a pure function)
  aws.xml_decode(s), aws.file_digest(path, "sha256" | "md5-base64", ...)
  MLPZ_DEBUG=1 shows canonical requests and retries, secrets redacted.
]],
  s3 = [[
mlpz.s3: S3 client for batch input/output files (virtual-hosted, or
path-style with a custom endpoint such as $AWS_ENDPOINT_URL_S3)
  s = s3.new{region =, profile =, endpoint_url =}
  s:put_object{bucket, key, body = | file =}   (multipart above 100 MB)
  s:get_object{bucket, key [, file =]}, s:head_object{bucket, key}
  s:list_objects_v2{bucket, prefix, max_keys, continuation_token}
  for obj in s:list(bucket, prefix) do ... end;  s:presign{bucket, key, expires}
]],
  batch = [[
mlpz.batch: Personalize batch inference output files
  batch.read(path_or_text [, {name =}]) -> records, problems | nil, err
  batch.render(ds, records, {format =, record =, limit =}) -> summary | nil, err
  batch.summary(ds, records) -> {records, errors, coverage, genre_match, identical, ...}
]],
  sys = [[
mlpz.sys: sys.sleep(seconds) -> false if interrupted; sys.isatty("stderr");
sys.time() -> seconds with fractions.
]],
  text = [[
mlpz.text: text.width(s) -> terminal columns of UTF-8 text;
text.truncate(s, columns) -> s cut to fit, with an ellipsis.
]],
  pretty = [[
mlpz.pretty: how the REPL prints
  pretty.format(value [, {depth = 3, items = 20, width = 80, string_max = 200}]) -> string
  pretty.repl(...) -> the REPL's line for a statement's results
]],
}

local function topic_names()
  local names = {}
  for name in pairs(TOPICS) do
    names[#names + 1] = name
  end
  table.sort(names)
  return names
end

-- help.text([topic]) -> string | nil, err. topic: a module name, with or
-- without its "mlpz." prefix.
function M.text(topic)
  if topic == nil then
    return OVERVIEW
  end
  if type(topic) ~= "string" then
    return nil, "help topic must be a string such as \"dataset\", got " .. type(topic)
  end
  local text = TOPICS[topic:gsub("^mlpz%.", "")]
  if text == nil then
    return nil, string.format("no help on '%s'; topics: %s", topic,
      table.concat(topic_names(), ", "))
  end
  return text
end

-- help.show([topic]): writes help.text(topic), or the error, to stdout.
function M.show(topic)
  local text, err = M.text(topic)
  io.stdout:write(text or (err .. "\n"))
end

return M
