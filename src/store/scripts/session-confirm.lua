--[[
  Confirms the session holding a DID, if it is still pending and the DID still its own: exactly one
  concurrent caller wins (this script is the claim). Terminal states never change.

  Input:
    KEYS[1] the session (hash)
    KEYS[2] its call (hash)
    ARGV[1] DID keyed hash
    ARGV[2] customer id
    ARGV[3] device id
    ARGV[4] how long the call stays verified, ms
  Output:
    {confirmed | ended | gone | was_<status>, the session hash after, store now}
]]
--- @include "session-time"

local skey, call = KEYS[1], KEYS[2]
local now = store_now()
if redis.call('EXISTS', skey) == 0 then return {'gone', {}, now} end
if redis.call('HGET', skey, 'didHash') ~= ARGV[1] then return {'gone', {}, now} end
local st = expire_if_due(skey, now)
if st ~= 'pending' then return {'was_' .. st, redis.call('HGETALL', skey), now} end
if redis.call('HGET', call, 'status') == 'ended' then
  redis.call('HSET', skey, 'status', 'call_ended', 'endedAt', now)
  return {'ended', redis.call('HGETALL', skey), now}
end
redis.call('HSET', skey, 'status', 'confirmed', 'confirmedAt', now, 'customerId', ARGV[2], 'deviceId', ARGV[3])
redis.call('HSET', call, 'verifiedSession', redis.call('HGET', skey, 'sid'), 'verifiedCustomer', ARGV[2],
  'verifiedUntil', now + tonumber(ARGV[4]))
redis.call('HDEL', call, 'tokenJti')
return {'confirmed', redis.call('HGETALL', skey), now}
