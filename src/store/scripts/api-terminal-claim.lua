--[[
  Claims the terminal state of an API session once, so the audit event and the callback of an
  outcome happen once, whoever observes it first.

  Input:
    KEYS[1] the API side of the session (hash)
    ARGV[1] now, ms (kept as terminalAt, for the record only: nothing compares it)
  Output:
    1 when this call claimed it, else 0 (claimed before, or not an API session)
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
return redis.call('HSETNX', KEYS[1], 'terminalAt', ARGV[1])
