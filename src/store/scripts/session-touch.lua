--[[
  Reads a session, expiring it first when its time is up.

  Input:
    KEYS[1] the session (hash)
  Output:
    {the session hash (empty: gone), store now}
]]
--- @include "session-time"

local now = store_now()
if redis.call('EXISTS', KEYS[1]) == 0 then return {{}, now} end
expire_if_due(KEYS[1], now)
return {redis.call('HGETALL', KEYS[1]), now}
