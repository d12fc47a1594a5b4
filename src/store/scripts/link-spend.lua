--[[
  Spends a statement link, once: the first spend of a live link by the store's clock wins.

  Input:
    KEYS[1] the link (hash)
  Output:
    {'spent', customer id, account id, period, file, call id} | {'refused', 'spent' | 'expired', call id} |
    {'unknown'}
]]
--- @include "store-time"

local v = redis.call('HMGET', KEYS[1], 'status', 'expiresAt', 'customerId', 'accountId', 'period', 'file', 'callId')
if not v[1] then return {'unknown'} end
if v[1] ~= 'live' then return {'refused', v[1], v[7]} end
local now = store_now()
if tonumber(v[2]) <= now then return {'refused', 'expired', v[7]} end
redis.call('HSET', KEYS[1], 'status', 'spent', 'spentAt', string.format('%.0f', now))
return {'spent', v[3], v[4], v[5], v[6], v[7]}
