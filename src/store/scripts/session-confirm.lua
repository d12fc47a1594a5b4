--[[
  Confirms the session holding a DID, if it is still pending and the DID still its own: exactly one
  concurrent caller wins (this script is the claim). Terminal states never change.

  A late confirmation (LATE_CONFIRMATION_POLICY=recently-verified, DESIGN A4): the right code for a
  session that is `call_ended` because its call ended less than the window before (by this clock),
  the code itself not expired, is accepted once: the session stays `call_ended` and the call is
  marked recently verified. A late window of 0 (`ignore`) never accepts one.

  Input:
    KEYS[1] the session (hash)
    KEYS[2] its call (hash)
    KEYS[3] the call's recently-verified mark (hash)
    ARGV[1] DID keyed hash
    ARGV[2] customer id
    ARGV[3] device id
    ARGV[4] how long the call stays verified, ms
    ARGV[5] late window: how long after its call ended a code may still be confirmed late, ms (0 = never)
    ARGV[6] how long a late confirmation marks the call recently verified, ms
  Output:
    {confirmed | recently_verified | ended | gone | was_<status>, the session hash after, store now}
]]
--- @include "session-time"
--- @include "recently-verified"

-- A missing field is nil in Redis and may be something else in the embedded store: only values count.
local function num(key, name)
  local v = redis.call('HGET', key, name)
  if type(v) == 'string' or type(v) == 'number' then return tonumber(v) end
  return nil
end

-- Accepts the late confirmation of a call_ended session, once, when its call ended within the window.
local function late(skey, call, now)
  local window = tonumber(ARGV[5])
  if window <= 0 then return false end
  local ended_at = num(call, 'endedAt') or num(skey, 'endedAt')
  local expires_at = num(skey, 'expiresAt')
  if not ended_at or not expires_at or now - ended_at >= window or expires_at <= now then return false end
  if redis.call('HSETNX', skey, 'lateConfirmedAt', now) == 0 then return false end
  redis.call('HSET', skey, 'lateCustomerId', ARGV[2], 'lateDeviceId', ARGV[3])
  mark_recently_verified(KEYS[3], skey, ARGV[2], now, tonumber(ARGV[6]))
  return true
end

local skey, call = KEYS[1], KEYS[2]
local now = store_now()
if redis.call('EXISTS', skey) == 0 then return {'gone', {}, now} end
if redis.call('HGET', skey, 'didHash') ~= ARGV[1] then return {'gone', {}, now} end
local st = expire_if_due(skey, now)
if st == 'call_ended' and late(skey, call, now) then return {'recently_verified', redis.call('HGETALL', skey), now} end
if st ~= 'pending' then return {'was_' .. st, redis.call('HGETALL', skey), now} end
if redis.call('HGET', call, 'status') == 'ended' then
  redis.call('HSET', skey, 'status', 'call_ended', 'endedAt', now)
  if late(skey, call, now) then return {'recently_verified', redis.call('HGETALL', skey), now} end
  return {'ended', redis.call('HGETALL', skey), now}
end
redis.call('HSET', skey, 'status', 'confirmed', 'confirmedAt', now, 'customerId', ARGV[2], 'deviceId', ARGV[3])
redis.call('HSET', call, 'verifiedSession', redis.call('HGET', skey, 'sid'), 'verifiedCustomer', ARGV[2],
  'verifiedUntil', now + tonumber(ARGV[4]))
redis.call('HDEL', call, 'tokenJti')
return {'confirmed', redis.call('HGETALL', skey), now}
