--[[
  Frees an /api/v1 Idempotency-Key record only while it still holds our in-flight claim (a request
  that did not run: the client may send it again).

  Input:
    KEYS[1] the Idempotency-Key record (string)
    ARGV[1] our in-flight value
  Output:
    1 when freed, else 0
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
