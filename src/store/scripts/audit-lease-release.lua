--[[
  Lets the audit drainer's lease go, only if it is ours.

  Input:
    KEYS[1] the lease (string: holder id)
    ARGV[1] this instance's id
  Output:
    1 when released, else 0
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
