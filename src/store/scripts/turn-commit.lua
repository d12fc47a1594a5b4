--[[
  A webhook turn's last step: the call's new IVR state and the delivery's answer, together, only
  while the slot still holds this delivery's in-flight claim (a newer delivery's state stands).

  Input:
    KEYS[1] the call's answer slot on a channel (see turn-begin)
    KEYS[2] the call's IVR state
    ARGV[1] the delivery's digest
    ARGV[2] the answer, sealed
    ARGV[3] answer kept, ms
    ARGV[4] the new state ('' = keep the state as it is)
    ARGV[5] state kept, ms
  Output:
    1 when stored, 0 when the claim was no longer ours
]]
local slot, state_key = KEYS[1], KEYS[2]
local digest = ARGV[1]
local claim = digest .. '\n'
if redis.call('GET', slot) ~= claim then return 0 end
if ARGV[4] ~= '' then redis.call('SET', state_key, ARGV[4], 'PX', ARGV[5]) end
local sealed = ARGV[2]
redis.call('SET', slot, claim .. sealed, 'PX', ARGV[3])
return 1
