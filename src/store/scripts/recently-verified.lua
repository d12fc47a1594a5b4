--[[
  Shared: marks a call recently verified (DESIGN A4, late confirmations): who confirmed, on which
  session, and the session's sealed case id, for a time the store's clock keeps (the key's PX, and
  `expiresAt` for readers that look before the store has evicted it).
]]
local function mark_recently_verified(rkey, skey, customer, now, ttl_ms)
  local case = redis.call('HGET', skey, 'caseSealed')
  redis.call('DEL', rkey)
  redis.call('HSET', rkey, 'at', now, 'expiresAt', now + ttl_ms, 'customerId', customer,
    'sessionId', redis.call('HGET', skey, 'sid') or '', 'channel', redis.call('HGET', skey, 'channel') or '')
  if type(case) == 'string' and case ~= '' then redis.call('HSET', rkey, 'caseSealed', case) end
  redis.call('PEXPIRE', rkey, ttl_ms)
end
