--[[
  Lets go of a DID claim, only if that session still holds it.

  Input:
    KEYS[1] the DID claim (string `<session id>\n<call id>`, or the session id alone)
    ARGV[1] session id
  Output:
    1 when released, else 0
]]
local v, sid = redis.call('GET', KEYS[1]), ARGV[1]
if v and (v == sid or string.sub(v, 1, #sid + 1) == sid .. '\n') then return redis.call('DEL', KEYS[1]) end
return 0
