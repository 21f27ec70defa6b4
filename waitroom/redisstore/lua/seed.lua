-- seed: create the room if it is missing and set each settings field that it
-- does not have yet, leaving the others as they are.
--
-- KEYS: the room's keys, in the order common.lua lists.
-- ARGV: settings fields and values, alternating.
-- Returns the meta hash as a flat list of fields and values (HGETALL).
-- settings_version goes up by one when any field was set.

local set = 0
for i = 1, #ARGV, 2 do
  set = set + redis.call('HSETNX', META, ARGV[i], ARGV[i + 1])
end
if set > 0 then
  redis.call('HINCRBY', META, 'settings_version', 1)
end
return redis.call('HGETALL', META)
