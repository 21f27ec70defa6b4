-- release: free the visitor's active place. A visitor without one is
-- ignored.
--
-- KEYS: the room's keys, in the order common.lua lists.
-- ARGV[1]: the visitor id.
-- Returns 1 when a place was freed, 0 when there was none, or the error
-- NOROOM.

if redis.call('EXISTS', META) == 0 then
  return no_room()
end
return redis.call('ZREM', ACTIVE, ARGV[1])
