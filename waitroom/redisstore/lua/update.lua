-- update: replace the room's settings unless another writer changed them
-- since the caller read them, so a read, validate and write in Go acts as
-- one step.
--
-- KEYS: the room's keys, in the order common.lua lists.
-- ARGV[1]: the settings_version the caller read ("0" when it was missing).
-- ARGV[2..]: settings fields and values, alternating.
-- Returns 1 when the settings were written and settings_version went up by
-- one, 0 when the version changed meanwhile and nothing was written, or the
-- error NOROOM.

if redis.call('EXISTS', META) == 0 then
  return no_room()
end
local version = redis.call('HGET', META, 'settings_version') or '0'
if version ~= ARGV[1] then
  return 0
end
redis.call('HSET', META, unpack(ARGV, 2))
redis.call('HINCRBY', META, 'settings_version', 1)
return 1
