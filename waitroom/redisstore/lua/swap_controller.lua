-- swap_controller: replace the room's controller state if its version is
-- still the one the caller read, so that one edge wins each decision.
--
-- KEYS: the room's keys, in the order common.lua lists.
-- ARGV[1]: the expected version; a missing state has version 0.
-- ARGV[2..]: the new state as alternating field names and values.
-- Returns 1 when the state was replaced, 0 when its version differed, or
-- the error NOROOM.

if redis.call('EXISTS', META) == 0 then
  return no_room()
end
local version = redis.call('HGET', CTL, 'version') or '0'
if version ~= ARGV[1] then
  return 0
end
redis.call('DEL', CTL)
redis.call('HSET', CTL, unpack(ARGV, 2))
return 1
