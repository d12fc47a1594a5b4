import { luaScript } from '../store/client.js';

/**
 * The atomic transitions of a verification session (DESIGN B2). Each runs on keys of ONE call,
 * which share a hash tag, so they also run on Redis Cluster; a session key is built inside the
 * script from ARGV `sesBase` (`<prefix>c:{tag}:ses:`), the same slot as the call key (as BullMQ
 * does). Terminal states never change: every script checks `status == 'pending'` before writing.
 * Time comes in as ARGV (`now`, ms) so tests control expiry.
 */

// Shared Lua: mark a pending session expired when its time is up. Returns the (possibly new) status.
const EXPIRE_IF_DUE = `
local function expire_if_due(skey, now)
  local st = redis.call('HGET', skey, 'status')
  if st == 'pending' and tonumber(redis.call('HGET', skey, 'expiresAt')) <= now then
    redis.call('HSET', skey, 'status', 'expired', 'endedAt', now)
    return 'expired'
  end
  return st
end
`;

/**
 * KEYS: call. ARGV: now, sesBase, newSid, provider, didHash, sealed, expiresAt, sessionTtlMs, callTtlMs,
 * maxSessions, channel, mode ('open' | 'reissue'), maxReissues, callId.
 * Returns {outcome, sid, session hash (created | existing)}: outcome ∈ created | existing | ended | conflict |
 * limit | not_expired | no_session. The session comes back in the same round trip (no read after).
 */
export const openSession = luaScript(
  'vlOpenSession',
  1,
  EXPIRE_IF_DUE +
    `
local call = KEYS[1]
local now = tonumber(ARGV[1])
local sesBase, sid, provider = ARGV[2], ARGV[3], ARGV[4]
local mode = ARGV[12]
if redis.call('HGET', call, 'status') == 'ended' then return {'ended', ''} end
local p = redis.call('HGET', call, 'provider')
if p and p ~= provider then return {'conflict', ''} end
local cur = redis.call('HGET', call, 'current')
if cur then
  local st = expire_if_due(sesBase .. cur, now)
  if st == 'pending' then return {'existing', cur, redis.call('HGETALL', sesBase .. cur)} end
  if mode == 'reissue' then
    if st ~= 'expired' then return {'not_expired', cur} end
    if tonumber(redis.call('HGET', call, 'reissues') or '0') >= tonumber(ARGV[13]) then return {'limit', cur} end
  end
elseif mode == 'reissue' then
  return {'no_session', ''}
end
if tonumber(redis.call('HGET', call, 'sessions') or '0') >= tonumber(ARGV[10]) then return {'limit', cur or ''} end
local skey = sesBase .. sid
redis.call('HSET', skey, 'sid', sid, 'callId', ARGV[14], 'provider', provider, 'status', 'pending', 'didHash', ARGV[5],
  'didSealed', ARGV[6], 'createdAt', now, 'expiresAt', ARGV[7], 'channel', ARGV[11])
redis.call('PEXPIRE', skey, ARGV[8])
redis.call('HSET', call, 'provider', provider, 'status', 'active', 'current', sid)
redis.call('HINCRBY', call, 'sessions', 1)
if mode == 'reissue' then redis.call('HINCRBY', call, 'reissues', 1) end
redis.call('PEXPIRE', call, ARGV[9])
return {'created', sid, redis.call('HGETALL', skey)}
`,
);

/**
 * KEYS: session, call (the call key is found from the session id's tag). ARGV: now, didHash,
 * customerId, deviceId, verifiedForMs. Returns {confirmed | why not (ended | gone | was_<status>),
 * the session hash after}: one round trip, no read before or after.
 */
export const confirmSession = luaScript(
  'vlConfirmSession',
  2,
  EXPIRE_IF_DUE +
    `
local skey, call = KEYS[1], KEYS[2]
local now = tonumber(ARGV[1])
if redis.call('EXISTS', skey) == 0 then return {'gone', {}} end
if redis.call('HGET', skey, 'didHash') ~= ARGV[2] then return {'gone', {}} end
local st = expire_if_due(skey, now)
if st ~= 'pending' then return {'was_' .. st, redis.call('HGETALL', skey)} end
if redis.call('HGET', call, 'status') == 'ended' then
  redis.call('HSET', skey, 'status', 'call_ended', 'endedAt', now)
  return {'ended', redis.call('HGETALL', skey)}
end
redis.call('HSET', skey, 'status', 'confirmed', 'confirmedAt', now, 'customerId', ARGV[3], 'deviceId', ARGV[4])
redis.call('HSET', call, 'verifiedSession', redis.call('HGET', skey, 'sid'), 'verifiedCustomer', ARGV[3],
  'verifiedUntil', now + tonumber(ARGV[5]))
return {'confirmed', redis.call('HGETALL', skey)}
`,
);

/** KEYS: session. ARGV: now. Returns the status after the attempt (canceled when it was pending). */
export const cancelSession = luaScript(
  'vlCancelSession',
  1,
  EXPIRE_IF_DUE +
    `
local skey = KEYS[1]
if redis.call('EXISTS', skey) == 0 then return 'gone' end
local st = expire_if_due(skey, tonumber(ARGV[1]))
if st ~= 'pending' then return st end
redis.call('HSET', skey, 'status', 'canceled', 'endedAt', ARGV[1])
return 'canceled'
`,
);

/** KEYS: session. ARGV: now. Lazily expires a due session; returns the session hash as it is then (empty: gone). */
export const touchSession = luaScript(
  'vlTouchSession',
  1,
  EXPIRE_IF_DUE +
    `
if redis.call('EXISTS', KEYS[1]) == 0 then return {} end
expire_if_due(KEYS[1], tonumber(ARGV[1]))
return redis.call('HGETALL', KEYS[1])
`,
);

/**
 * KEYS: call. ARGV: now, sesBase, callTtlMs, provider. Ends the call: its pending session becomes
 * call_ended, its verification stops counting. Returns {wasActive, sid, didHash}.
 */
export const endCall = luaScript(
  'vlEndCall',
  1,
  `
local call = KEYS[1]
local now = tonumber(ARGV[1])
if redis.call('HGET', call, 'status') == 'ended' then return {0, '', ''} end
redis.call('HSET', call, 'status', 'ended', 'endedAt', now)
if not redis.call('HGET', call, 'provider') then redis.call('HSET', call, 'provider', ARGV[4]) end
redis.call('HDEL', call, 'verifiedUntil')
redis.call('PEXPIRE', call, ARGV[3])
local cur = redis.call('HGET', call, 'current')
if cur then
  local skey = ARGV[2] .. cur
  if redis.call('HGET', skey, 'status') == 'pending' then
    redis.call('HSET', skey, 'status', 'call_ended', 'endedAt', now)
    return {1, cur, redis.call('HGET', skey, 'didHash') or ''}
  end
end
return {1, '', ''}
`,
);

/** KEYS: did. ARGV: session id. Deletes a DID claim only if that session still holds it (value `<sid>\n<callId>`). */
export const releaseDid = luaScript(
  'vlReleaseDid',
  1,
  `
local v = redis.call('GET', KEYS[1])
if v and (v == ARGV[1] or string.sub(v, 1, #ARGV[1] + 1) == ARGV[1] .. '\\n') then return redis.call('DEL', KEYS[1]) end
return 0
`,
);
