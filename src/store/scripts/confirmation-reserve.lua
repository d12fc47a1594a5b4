--[[
  A confirmation's first step (DESIGN A4): the lock, the jti and a point against the limit, in
  the contract's order (429, then 409), all before the code is evaluated, so however many
  confirmations arrive at once no more than `limit` of them can be answered 422.

  Input:
    KEYS[1] wrong codes of the device (counter)
    KEYS[2] wrong codes of the customer (counter)
    KEYS[3] the confirmation's jti (used-jti marker)
    KEYS[4] this device's in-flight confirmation of this code
    KEYS[5] "this device confirmed this code" marker
    ARGV[1] limit
    ARGV[2] window, ms
    ARGV[3] jti kept, ms
    ARGV[4] in-flight owner token
    ARGV[5] in-flight kept, ms
  Output:
    {'locked', retryAfterMs} | {'replayed'} | {'double_submit'} | {'rider'} | {'reserved', reachedLimit 0|1}
    A rider is a submit of a code this device is confirming right now: it takes no point now, and
    is charged one (or refused as locked) only if the code turns out wrong.
]]
--- @include "wrong-code-count"

local dev_key, cust_key = KEYS[1], KEYS[2]
local limit = tonumber(ARGV[1])

local locked = locked_for(dev_key, cust_key, limit)
if locked > 0 then
  -- A refused confirmation has spent its jti all the same: it can only ever be replayed.
  redis.call('SET', KEYS[3], '1', 'PX', ARGV[3], 'NX')
  return {'locked', locked}
end
if not redis.call('SET', KEYS[3], '1', 'PX', ARGV[3], 'NX') then return {'replayed'} end
if redis.call('EXISTS', KEYS[5]) == 1 then return {'double_submit'} end
if not redis.call('SET', KEYS[4], ARGV[4], 'PX', ARGV[5], 'NX') then return {'rider'} end

local window = tonumber(ARGV[2])
local d = count_wrong_code(dev_key, limit, window)
local c = count_wrong_code(cust_key, limit, window)
local reached = 0
if d == limit or c == limit then reached = 1 end
return {'reserved', reached}
