-- heartbeat: record that the visitors were seen now. Visitors without a
-- place, or whose place expired, are ignored. Skipped visitors last seen
-- within the session lifetime go back to the front, as in position.lua.
--
-- KEYS: the room's keys, in the order common.lua lists.
-- ARGV: visitor ids.
-- Returns how many visitors were recorded, or the error NOROOM.

local room = load_room()
if not room then
  return no_room()
end
local now = now_us()

local entries = {}
for _, visitor in ipairs(ARGV) do
  local place = locate(room, visitor, now)
  if place and place.state ~= 'expired' then
    entries[#entries + 1] = now
    entries[#entries + 1] = visitor
  end
end
zadd_chunked(SEEN, entries)
return #entries / 2
