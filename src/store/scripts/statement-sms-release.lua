--[[
  Gives back a statement SMS that was never sent (never below zero).

  Input:
    KEYS[1] the call's statement SMS count (string integer)
  Output:
    1
]]
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n > 0 then redis.call('DECR', KEYS[1]) end
return 1
