-- position: read the visitor's exact place and record a heartbeat, ordering
-- the pre-queue first if the room has opened. A visitor skipped as abandoned
-- and last seen within the session lifetime goes back to the front.
--
-- KEYS: the room's keys, in the order common.lua lists.
-- ARGV[1]: the visitor id.
-- Returns the place as place_reply encodes it, or the error NOROOM or
-- NOVISITOR.

local room = load_room()
if not room then
  return no_room()
end
local visitor = ARGV[1]
local now = now_us()

promote(room, now)

local place = locate(room, visitor, now)
if not place then
  return redis.error_reply('NOVISITOR visitor has no place')
end
if place.state ~= 'expired' then
  redis.call('ZADD', SEEN, now, visitor)
end
return place_reply(place, false)
