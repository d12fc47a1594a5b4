--[[
  Shared: the store's clock and lazy expiry of a verification session (DESIGN B2). A session's
  life is decided by this clock alone, never by an app instance's, so instances whose clocks
  differ agree on every session. (The embedded store's TIME has whole-second precision.)
]]
local function store_now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Marks a pending session expired when its time is up; returns the (possibly new) status.
local function expire_if_due(skey, now)
  local st = redis.call('HGET', skey, 'status')
  if st == 'pending' and tonumber(redis.call('HGET', skey, 'expiresAt')) <= now then
    redis.call('HSET', skey, 'status', 'expired', 'endedAt', now)
    return 'expired'
  end
  return st
end
