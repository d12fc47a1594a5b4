--[[
  Who the call is verified as right now, by the store's clock, and the jti of its call-bound token.

  Input:
    KEYS[1] the call (hash)
  Output:
    {customer id, session id, token jti, ended 0|1}; the first two '' when not verified now
]]
--- @include "session-time"

-- A missing field is nil in Redis and may be something else in the embedded store: only values count.
local function field(name)
  local v = redis.call('HGET', KEYS[1], name)
  if type(v) == 'string' or type(v) == 'number' then return tostring(v) end
  return ''
end
local ended = 0
if field('status') == 'ended' then ended = 1 end
local jti = field('tokenJti')
local until_ms, customer, session = tonumber(field('verifiedUntil')), field('verifiedCustomer'), field('verifiedSession')
if ended == 1 or not until_ms or customer == '' or session == '' or until_ms <= store_now() then return {'', '', jti, ended} end
return {customer, session, jti, ended}
