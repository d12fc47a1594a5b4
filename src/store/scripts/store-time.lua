--[[
  Shared: the store's clock in ms. What expires (a session, a statement link) is decided by this
  clock alone, never by an app instance's, so instances whose clocks differ agree on it.
  (The embedded store's TIME has whole-second precision.)
]]
local function store_now()
  local t = redis.call('TIME')
  -- 1000.0, not 1000: the embedded store's Lua (fengari) has 32-bit integers, and seconds × 1000
  -- overflows them; a float holds ms exactly (Redis's Lua 5.1 has only doubles anyway).
  return tonumber(t[1]) * 1000.0 + math.floor(tonumber(t[2]) / 1000)
end
