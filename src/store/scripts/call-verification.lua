--[[
  Who the call is verified as right now, by the store's clock, and the jti of its call-bound token.

  Input:
    KEYS[1] the call (hash)
  Output:
    {customer id, session id, token jti, ended 0|1}; the first two '' when not verified now
]]
--- @include "session-time"

local f = redis.call('HMGET', KEYS[1], 'status', 'verifiedUntil', 'verifiedCustomer', 'verifiedSession', 'tokenJti')
local ended = 0
if f[1] == 'ended' then ended = 1 end
local jti = f[5] or ''
if ended == 1 or not f[2] or not f[3] or not f[4] or tonumber(f[2]) <= store_now() then return {'', '', jti, ended} end
return {f[3], f[4], jti, ended}
