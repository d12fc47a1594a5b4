--[[
  Takes the audit drainer's lease when it is free, renews it when it is ours (one drainer at a time).

  Input:
    KEYS[1] the lease (string: holder id)
    ARGV[1] this instance's id
    ARGV[2] the lease, ms
  Output:
    1 when we hold the lease, else 0
]]
local holder = redis.call('GET', KEYS[1])
if holder == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
