--[[
  The call's recently-verified mark, if it still holds by the store's clock (DESIGN A4, A5).

  Input:
    KEYS[1] the call's recently-verified mark (hash)
  Output:
    {at, expiresAt, customer id, session id, channel, sealed case id or ''} | {} when none holds now
]]
--- @include "session-time"

local function field(name)
  local v = redis.call('HGET', KEYS[1], name)
  if type(v) == 'string' or type(v) == 'number' then return tostring(v) end
  return ''
end
local expires_at = tonumber(field('expiresAt'))
if not expires_at or expires_at <= store_now() then return {} end
return {field('at'), field('expiresAt'), field('customerId'), field('sessionId'), field('channel'), field('caseSealed')}
