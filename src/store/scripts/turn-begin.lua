--[[
  A webhook turn's first step (DESIGN A3, see ivr/turns.ts): a retry of the latest delivery gets its
  stored answer; a delivery for a turn that is not the current one changes nothing; otherwise the
  call's answer slot is claimed for this delivery and the call's IVR state is read, in one step.

  Input:
    KEYS[1] the call's answer slot on a channel (string `<digest>\n<sealed answer>`; an empty
            answer marks the delivery in flight)
    KEYS[2] the call's IVR state (string `<turn> <gate session id>\n<CallState JSON>`)
    ARGV[1] the delivery's digest
    ARGV[2] in-flight claim kept, ms
    ARGV[3] binding kind: 'new' | 'turn' | 'gate' | 'any'
    ARGV[4] binding value: the turn, or the gate's session id ('' for new and any)
  Output:
    {'seen', sealed answer ('' = still in flight), turn} | {'stale', '', turn} |
    {'claimed', state JSON ('' = no state), turn}; turn is '' when the call has no state
]]
local slot, state_key = KEYS[1], KEYS[2]
local digest = ARGV[1]
local state = redis.call('GET', state_key)
local turn, gate, json = '', '', ''
if state then
  local nl = string.find(state, '\n', 1, true)
  local head = string.sub(state, 1, nl - 1)
  json = string.sub(state, nl + 1)
  local sp = string.find(head, ' ', 1, true)
  turn = string.sub(head, 1, sp - 1)
  gate = string.sub(head, sp + 1)
end
local v = redis.call('GET', slot)
if v then
  local sep = string.find(v, '\n', 1, true)
  if sep and string.sub(v, 1, sep - 1) == digest then return {'seen', string.sub(v, sep + 1), turn} end
end
if state then
  local kind, want = ARGV[3], ARGV[4]
  local current = kind == 'any' or (kind == 'turn' and want == turn) or (kind == 'gate' and want ~= '' and want == gate)
  if not current then return {'stale', '', turn} end
end
local claim = digest .. '\n'
redis.call('SET', slot, claim, 'PX', ARGV[2])
return {'claimed', json, turn}
