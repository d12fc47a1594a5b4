--[[
  A confirmation's last step (DESIGN A4): its point is given back on a success or a double submit,
  kept on a wrong code; a rider (see confirmation-reserve) is charged its point now, or refused.

  Input:
    KEYS[1] wrong codes of the device (counter)
    KEYS[2] wrong codes of the customer (counter)
    KEYS[3] this device's in-flight confirmation of this code
    KEYS[4] "this device confirmed this code" marker
    ARGV[1] outcome: 'confirmed' | 'double_submit' | 'wrong'
    ARGV[2] role from the reservation: 'reserved' | 'rider'
    ARGV[3] limit
    ARGV[4] window, ms
    ARGV[5] in-flight owner token
    ARGV[6] confirmed marker kept, ms
  Output:
    {'released'} | {'counted', reachedLimit 0|1 (riders only)} | {'locked', retryAfterMs}
    A wrong code of a device that confirmed that very code meanwhile is a double submit: released.
]]
--- @include "wrong-code-count"

local dev_key, cust_key = KEYS[1], KEYS[2]
local outcome, role = ARGV[1], ARGV[2]
local limit, window = tonumber(ARGV[3]), tonumber(ARGV[4])

if role == 'reserved' and redis.call('GET', KEYS[3]) == ARGV[5] then redis.call('DEL', KEYS[3]) end
if outcome == 'confirmed' then redis.call('SET', KEYS[4], '1', 'PX', ARGV[6]) end
if outcome == 'wrong' and redis.call('EXISTS', KEYS[4]) == 1 then outcome = 'double_submit' end

if outcome ~= 'wrong' then
  if role == 'reserved' then
    for _, key in ipairs({dev_key, cust_key}) do
      if counter(key) > 0 then redis.call('DECR', key) end
    end
  end
  return {'released'}
end

-- A reserved wrong code was counted when it was reserved (and told then whether it reached the limit).
if role == 'reserved' then return {'counted', 0} end

local locked = locked_for(dev_key, cust_key, limit)
if locked > 0 then return {'locked', locked} end
local d = count_wrong_code(dev_key, limit, window)
local c = count_wrong_code(cust_key, limit, window)
local reached = 0
if d == limit or c == limit then reached = 1 end
return {'counted', reached}
