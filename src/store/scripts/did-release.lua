--[[
  Lets go of a DID claim, only if that session still holds it; or, for a confirmed code, keeps it
  taken a while longer instead, so the code is not given to another session while the confirming
  device's "I confirmed this code" marker lives (that marker is keyed by device and code: were the
  code handed out again, the device's genuine confirmation of the new session would read as a
  double submit).

  Input:
    KEYS[1] the DID claim (string `<session id>\n<call id>`, or the session id alone)
    ARGV[1] session id
    ARGV[2] keep, ms: 0 deletes the claim; more keeps it (spent: its session refuses the code) that long
  Output:
    1 when released (or kept), else 0
]]
local v, sid = redis.call('GET', KEYS[1]), ARGV[1]
if not (v and (v == sid or string.sub(v, 1, #sid + 1) == sid .. '\n')) then return 0 end
local keep = tonumber(ARGV[2]) or 0
if keep > 0 then return redis.call('PEXPIRE', KEYS[1], keep) end
return redis.call('DEL', KEYS[1])
