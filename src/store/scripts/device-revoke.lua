--[[
  Revokes an enrolled device, permanently. Only an existing device: HSET on a missing key would
  conjure a half device. Revoking twice keeps the first revokedAt.

  Input:
    KEYS[1] the device (hash)
    ARGV[1] revokedAt (ISO 8601)
  Output:
    1 when the device exists (now revoked), 0 when it was never enrolled
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'status', 'revoked')
redis.call('HSETNX', KEYS[1], 'revokedAt', ARGV[1])
return 1
