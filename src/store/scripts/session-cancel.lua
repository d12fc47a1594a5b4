--[[
  Pending → canceled; a terminal session stays as it is.

  Input:
    KEYS[1] the session (hash)
  Output:
    {status after ('gone' when there is no such session), DID keyed hash}
]]
--- @include "session-time"

local skey = KEYS[1]
if redis.call('EXISTS', skey) == 0 then return {'gone', ''} end
local now = store_now()
local st = expire_if_due(skey, now)
if st ~= 'pending' then return {st, ''} end
redis.call('HSET', skey, 'status', 'canceled', 'endedAt', now)
return {'canceled', redis.call('HGET', skey, 'didHash') or ''}
