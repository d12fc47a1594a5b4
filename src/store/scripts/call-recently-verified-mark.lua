--[[
  Marks the call of a confirmed session recently verified (DESIGN B2: the intercept found the call
  already gone after a `200 confirmed`, and LATE_CONFIRMATION_POLICY=recently-verified). The session
  stays `confirmed`; only a confirmed session marks its call.

  Input:
    KEYS[1] the session (hash)
    KEYS[2] the call's recently-verified mark (hash)
    ARGV[1] how long the mark lasts, ms
  Output:
    1 when marked, 0 when the session is not confirmed
]]
--- @include "session-time"
--- @include "recently-verified"

local skey = KEYS[1]
if redis.call('HGET', skey, 'status') ~= 'confirmed' then return 0 end
local customer = redis.call('HGET', skey, 'customerId')
if type(customer) ~= 'string' or customer == '' then return 0 end
mark_recently_verified(KEYS[2], skey, customer, store_now(), tonumber(ARGV[1]))
return 1
