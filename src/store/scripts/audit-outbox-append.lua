--[[
  Appends one audit event to a shard of the outbox (DESIGN B7), stamped with the store's time so a
  timeline's order does not depend on which instance wrote it (A9). A full shard refuses it.

  Input:
    KEYS[1] the outbox shard (list of `<sec> <usec> <event JSON without at>`)
    ARGV[1] the event JSON, without `at`
    ARGV[2] the most entries the shard may hold
    ARGV[3] seconds of the time to use instead of the store's ('' = the store's TIME)
    ARGV[4] microseconds of that time
  Output:
    {sec, usec} the time used | error reply `AUDIT_OUTBOX_FULL …` when the shard is full
]]
local shard, event = KEYS[1], ARGV[1]
if redis.call('LLEN', shard) >= tonumber(ARGV[2]) then return redis.error_reply('AUDIT_OUTBOX_FULL audit outbox is full') end
local t
if ARGV[3] ~= '' then t = {ARGV[3], ARGV[4]} else t = redis.call('TIME') end
redis.call('RPUSH', shard, t[1] .. ' ' .. t[2] .. ' ' .. event)
return t
