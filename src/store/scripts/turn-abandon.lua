--[[
  Frees the call's answer slot after a failed turn, only while it still holds this delivery's
  in-flight claim, so a retry runs the turn again rather than replaying a failure.

  Input:
    KEYS[1] the call's answer slot on a channel (see turn-begin)
    ARGV[1] the delivery's digest
  Output:
    1
]]
local slot = KEYS[1]
local digest = ARGV[1]
local claim = digest .. '\n'
if redis.call('GET', slot) == claim then redis.call('DEL', slot) end
return 1
