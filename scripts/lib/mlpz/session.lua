-- The region and credentials a set of AWS clients share, resolved once the
-- way the AWS CLI does (mlpz.aws): explicit options first.
local aws = require "mlpz.aws"

local M = {}

-- opts: region, profile, credentials (an aws.credentials object).
-- Returns region, credentials, or nil, err saying what is missing.
function M.resolve(opts)
  local region, err = aws.region { region = opts.region, profile = opts.profile }
  if not region then return nil, err end
  local creds = opts.credentials
  if not creds then
    creds, err = aws.credentials { profile = opts.profile }
    if not creds then return nil, err end
  end
  return region, creds
end

return M
