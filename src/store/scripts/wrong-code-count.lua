--[[
  Shared: counting one wrong code against a counter of the wrong-code limit (DESIGN A4).
  The window is fixed and kept by the key's TTL (the store's clock): it starts with the first
  wrong code, and a counter that reaches the limit is held for a whole window from that moment.
]]
local function count_wrong_code(key, limit, window_ms)
  local n = redis.call('INCR', key)
  if n == 1 or n == limit then redis.call('PEXPIRE', key, window_ms) end
  return n
end

local function counter(key)
  return tonumber(redis.call('GET', key) or '0')
end

-- Milliseconds until the longer of the counters at the limit lets go; 0 when neither is.
local function locked_for(dev_key, cust_key, limit)
  local ms = 0
  for _, key in ipairs({dev_key, cust_key}) do
    if counter(key) >= limit then
      local ttl = redis.call('PTTL', key)
      if ttl > ms then ms = ttl end
      if ttl < 0 then ms = math.max(ms, 1000) end
    end
  end
  return ms
end
