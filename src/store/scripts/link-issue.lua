--[[
  Stores a statement link (DESIGN A8) under its token's hash, live until the store's clock passes
  its expiry. The record is kept a while longer than the link lives, so a late visit is told
  "expired" (for the audit trail) rather than "unknown".

  Input:
    KEYS[1] the link (hash)
    ARGV[1] customer id
    ARGV[2] account id
    ARGV[3] period (YYYY-MM)
    ARGV[4] the statement store key of the document
    ARGV[5] the call id
    ARGV[6] how long the link lives, ms
    ARGV[7] how long the record is kept, ms (≥ ARGV[6])
  Output:
    expiresAt, ms by the store's clock
]]
--- @include "store-time"

-- Whole ms as text, the same on Redis and on the embedded store (whose Lua prints floats as `1.0`).
local expires_at = string.format('%.0f', store_now() + tonumber(ARGV[6]))
redis.call('HSET', KEYS[1], 'customerId', ARGV[1], 'accountId', ARGV[2], 'period', ARGV[3], 'file', ARGV[4], 'callId', ARGV[5],
  'status', 'live', 'expiresAt', expires_at)
redis.call('PEXPIRE', KEYS[1], ARGV[7])
return expires_at
