--[[
  Ends a call: its pending session becomes call_ended, its verification and its call-bound token
  stop counting. Idempotent.

  Input:
    KEYS[1] the call (hash)
    KEYS[2] the call's current session as the caller read it (the call's key when none)
    ARGV[1] call record kept, ms
    ARGV[2] provider
    ARGV[3] the current session id the caller read ('' when none)
  Output:
    {wasActive 0|1, ended session id or '', its DID keyed hash or ''} | {'moved'} (read again)
]]
--- @include "session-time"

local call = KEYS[1]
if redis.call('HGET', call, 'status') == 'ended' then return {0, '', ''} end
local cur = redis.call('HGET', call, 'current') or ''
if cur ~= ARGV[3] then return {'moved'} end
local now = store_now()
redis.call('HSET', call, 'status', 'ended', 'endedAt', now)
if not redis.call('HGET', call, 'provider') then redis.call('HSET', call, 'provider', ARGV[2]) end
redis.call('HDEL', call, 'verifiedUntil', 'tokenJti')
redis.call('PEXPIRE', call, ARGV[1])
if cur ~= '' and redis.call('HGET', KEYS[2], 'status') == 'pending' then
  redis.call('HSET', KEYS[2], 'status', 'call_ended', 'endedAt', now)
  return {1, cur, redis.call('HGET', KEYS[2], 'didHash') or ''}
end
return {1, '', ''}
