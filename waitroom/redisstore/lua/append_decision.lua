-- append_decision: add one controller decision to the front of the room's
-- decision history and trim the history to its maximum length.
--
-- KEYS: the room's keys, in the order common.lua lists.
-- ARGV[1]: the decision as JSON.
-- ARGV[2]: the number of entries to keep.
-- Returns the history's length after the trim, or the error NOROOM.

if redis.call('EXISTS', META) == 0 then
  return no_room()
end
redis.call('LPUSH', DECISIONS, ARGV[1])
redis.call('LTRIM', DECISIONS, 0, tonumber(ARGV[2]) - 1)
return redis.call('LLEN', DECISIONS)
