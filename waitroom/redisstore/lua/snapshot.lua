-- snapshot: read the room's settings and counters, ordering the pre-queue
-- first if the room has opened.
--
-- KEYS: the room's keys, in the order common.lua lists.
-- ARGV: none.
-- Returns {now_us, waiting, prequeue, active, meta}, where meta is the meta
-- hash as a flat list of fields and values and active counts deadlines after
-- now; or the error NOROOM.

local room = load_room()
if not room then
  return no_room()
end
local now = now_us()

promote(room, now)

return {
  now,
  redis.call('ZCARD', QUEUE),
  redis.call('ZCARD', PRE),
  redis.call('ZCOUNT', ACTIVE, string.format('(%d', now), '+inf'),
  redis.call('HGETALL', META),
}
