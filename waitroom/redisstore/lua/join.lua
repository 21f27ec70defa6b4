-- join: give the visitor a place, in the pre-queue before the room opens or
-- at the back of the line after. A visitor who has a place keeps it, and one
-- skipped as abandoned and last seen within the session lifetime goes back
-- to the front.
--
-- KEYS: the room's keys, in the order common.lua lists.
-- ARGV[1]: the visitor id.
-- ARGV[2]: the pre-queue score, waitroom.PrequeueScore of the visitor's key.
-- Returns the place as place_reply encodes it, or the error NOROOM, CLOSED
-- or SOLDOUT.

local room = load_room()
if not room then
  return no_room()
end
local visitor = ARGV[1]
local now = now_us()

local state = room_state(room, now)
if state == 'closed' then
  return redis.error_reply('CLOSED room is closed')
end
if state == 'sold_out' then
  return redis.error_reply('SOLDOUT room is sold out')
end

promote(room, now)

local place = locate(room, visitor, now)
if place then
  if place.state ~= 'expired' then
    redis.call('ZADD', SEEN, now, visitor)
  end
  return place_reply(place, false)
end

if opened(room, now) then
  local seq = redis.call('HINCRBY', META, 'next_seq', 1)
  redis.call('ZADD', QUEUE, seq, visitor)
  place = { state = 'waiting', seq = seq, ahead = redis.call('ZCARD', QUEUE) - 1 }
else
  redis.call('ZADD', PRE, ARGV[2], visitor)
  place = { state = 'prequeue', ahead = redis.call('ZCARD', PRE) - 1 }
end
redis.call('ZADD', SEEN, now, visitor)
return place_reply(place, true)
