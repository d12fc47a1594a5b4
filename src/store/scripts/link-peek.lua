--[[
  Whether a statement link is live by the store's clock (the page's GET: never spends).

  Input:
    KEYS[1] the link (hash)
  Output:
    1 when live, else 0 (spent, expired or unknown)
]]
--- @include "store-time"

local v = redis.call('HMGET', KEYS[1], 'status', 'expiresAt')
if v[1] ~= 'live' then return 0 end
if tonumber(v[2]) <= store_now() then return 0 end
return 1
