--[[
  Takes one of the call's statement SMS if any is left (DESIGN A3/A5: at most 3 per call, IVR and
  /api/v1 together). One script, so concurrent requests can never take more than the limit.

  Input:
    KEYS[1] the call's statement SMS count (string integer)
    ARGV[1] the limit
    ARGV[2] the count's lifetime, ms
  Output:
    the new count, or 0 when the limit is reached
]]
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n >= tonumber(ARGV[1]) then return 0 end
n = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return n
