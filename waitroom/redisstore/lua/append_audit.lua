-- append_audit: add one entry to the front of the room's audit log, stamped
-- with the Redis clock, and trim the log to its maximum length.
--
-- KEYS: the room's keys, in the order common.lua lists.
-- ARGV[1]: the entry's actor, action and detail as JSON.
-- ARGV[2]: the number of entries to keep.
-- Returns the entry's time in microseconds, or the error NOROOM.

if redis.call('EXISTS', META) == 0 then
  return no_room()
end
local at = now_us()
redis.call('LPUSH', AUDIT, string.format('%d', at) .. ':' .. ARGV[1])
redis.call('LTRIM', AUDIT, 0, tonumber(ARGV[2]) - 1)
return at
