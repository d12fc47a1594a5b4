--[[
  Shared: the store's clock and lazy expiry of a verification session (DESIGN B2). A session's
  life is decided by this clock alone, never by an app instance's, so instances whose clocks
  differ agree on every session.
]]
--- @include "store-time"

-- Marks a pending session expired when its time is up; returns the (possibly new) status.
local function expire_if_due(skey, now)
  local st = redis.call('HGET', skey, 'status')
  if st == 'pending' and tonumber(redis.call('HGET', skey, 'expiresAt')) <= now then
    redis.call('HSET', skey, 'status', 'expired', 'endedAt', now)
    return 'expired'
  end
  return st
end
