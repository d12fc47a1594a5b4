--[[
  Opens (or reissues) the verification session of a call: one pending session per call; a new one
  only when there is none pending (open) or the current one expired (reissue, bounded).

  Input:
    KEYS[1] the call (hash)
    KEYS[2] the new session (hash)
    KEYS[3] the call's current session as the caller read it (the new session's key when none)
    ARGV[1] new session id
    ARGV[2] provider
    ARGV[3] DID keyed hash
    ARGV[4] DID sealed
    ARGV[5] DID lifetime, ms
    ARGV[6] session record kept, ms
    ARGV[7] call record kept, ms
    ARGV[8] sessions one call may open
    ARGV[9] channel
    ARGV[10] mode: 'open' | 'reissue'
    ARGV[11] reissues allowed
    ARGV[12] provider call id
    ARGV[13] the current session id the caller read ('' when none)
    ARGV[14] the case id the provider gave (metadata.caseId), sealed to the new session ('' when none)
  Output:
    {outcome, session id, session hash, store now}; outcome: created | existing | ended | conflict |
    limit | not_expired | no_session | moved (the current session changed since it was read: read again)
]]
--- @include "session-time"

local call, skey, ckey = KEYS[1], KEYS[2], KEYS[3]
local now = store_now()
local sid, provider, mode = ARGV[1], ARGV[2], ARGV[10]
if redis.call('HGET', call, 'status') == 'ended' then return {'ended', '', {}, now} end
local p = redis.call('HGET', call, 'provider')
if p and p ~= provider then return {'conflict', '', {}, now} end
local cur = redis.call('HGET', call, 'current') or ''
if cur ~= ARGV[13] then return {'moved', cur, {}, now} end
if cur ~= '' then
  local st = expire_if_due(ckey, now)
  if st == 'pending' then return {'existing', cur, redis.call('HGETALL', ckey), now} end
  if mode == 'reissue' then
    if st ~= 'expired' then return {'not_expired', cur, {}, now} end
    if tonumber(redis.call('HGET', call, 'reissues') or '0') >= tonumber(ARGV[11]) then return {'limit', cur, {}, now} end
  end
elseif mode == 'reissue' then
  return {'no_session', '', {}, now}
end
if tonumber(redis.call('HGET', call, 'sessions') or '0') >= tonumber(ARGV[8]) then return {'limit', cur, {}, now} end
redis.call('HSET', skey, 'sid', sid, 'callId', ARGV[12], 'provider', provider, 'status', 'pending', 'didHash', ARGV[3],
  'didSealed', ARGV[4], 'createdAt', now, 'expiresAt', now + tonumber(ARGV[5]), 'channel', ARGV[9])
if ARGV[14] ~= '' then redis.call('HSET', skey, 'caseSealed', ARGV[14]) end
redis.call('PEXPIRE', skey, ARGV[6])
redis.call('HSET', call, 'provider', provider, 'status', 'active', 'current', sid)
redis.call('HINCRBY', call, 'sessions', 1)
if mode == 'reissue' then redis.call('HINCRBY', call, 'reissues', 1) end
redis.call('PEXPIRE', call, ARGV[7])
return {'created', sid, redis.call('HGETALL', skey), now}
