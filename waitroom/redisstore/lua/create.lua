-- create: create the room with the given settings.
--
-- KEYS: the room's keys, in the order common.lua lists.
-- ARGV: settings fields and values, alternating.
-- Returns 1, or the error ROOMEXISTS when the room exists already.

if redis.call('EXISTS', META) == 1 then
  return redis.error_reply('ROOMEXISTS room already exists')
end
redis.call('HSET', META, unpack(ARGV))
redis.call('HSET', META, 'settings_version', 1)
return 1
