--[[
  Keeps the call-bound token of a confirmed session (sealed, set once) and makes its jti the one
  the call accepts (DESIGN A7): a token of an earlier session, or of an ended call, is refused.

  Input:
    KEYS[1] the session (hash)
    KEYS[2] its call (hash)
    ARGV[1] the token, sealed
    ARGV[2] the token's jti
    ARGV[3] session id
  Output:
    1 when stored, 0 when the session already had one
]]
if redis.call('HSETNX', KEYS[1], 'tokenSealed', ARGV[1]) == 0 then return 0 end
if redis.call('HGET', KEYS[2], 'status') ~= 'ended' and redis.call('HGET', KEYS[2], 'verifiedSession') == ARGV[3] then
  redis.call('HSET', KEYS[2], 'tokenJti', ARGV[2])
end
return 1
