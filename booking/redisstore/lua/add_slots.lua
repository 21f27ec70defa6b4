-- Adds slots to an event unless one of their ids is taken.
-- KEYS: the event keys (lib.lua). Reads event and slots. Writes slots,
-- capacity, sold and held.
-- ARGV[1]: JSON array of slots {id, start, end, capacity}, times in ms.
-- Returns {"ok"}, or {code, detail} with code unknown_event or
-- invalid_slot.

if redis.call('EXISTS', K_EVENT) == 0 then
  return fail('unknown_event', '')
end

local slots = cjson.decode(ARGV[1])
for _, slot in ipairs(slots) do
  if redis.call('HEXISTS', K_SLOTS, slot.id) == 1 then
    return fail('invalid_slot', 'slot "' .. slot.id .. '": id is taken')
  end
end

for _, slot in ipairs(slots) do
  local capacity = slot.capacity
  slot.capacity = nil
  redis.call('HSET', K_SLOTS, slot.id, cjson.encode(slot))
  redis.call('HSET', K_CAPACITY, slot.id, capacity)
  redis.call('HSET', K_SOLD, slot.id, 0)
  redis.call('HSET', K_HELD, slot.id, 0)
end
return ok()
