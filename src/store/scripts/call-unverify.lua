--[[
  Ends the call's verification when its call-bound token was refused, so the next gate opens a
  new session instead of trusting the old one again (one token_rejected, never a loop).

  Input:
    KEYS[1] the call (hash)
    ARGV[1] the session whose token was refused
  Output:
    1 when the call was verified by that session, else 0
]]
if redis.call('HGET', KEYS[1], 'verifiedSession') ~= ARGV[1] then return 0 end
redis.call('HDEL', KEYS[1], 'verifiedUntil', 'verifiedSession', 'verifiedCustomer', 'tokenJti')
return 1
