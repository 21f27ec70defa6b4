-- Creates an event with its slots, unless the event id is taken.
-- KEYS: the event keys (lib.lua). Writes event, slots, capacity, sold, held.
-- ARGV[1]: event JSON.
-- ARGV[2]: JSON array of slots {id, start, end, capacity}, times in ms.
-- Returns {"ok"}, or {"event_exists", detail}.

if redis.call('EXISTS', K_EVENT) == 1 then
  return fail('event_exists', '')
end

redis.call('SET', K_EVENT, ARGV[1])
for _, slot in ipairs(cjson.decode(ARGV[2])) do
  local capacity = slot.capacity
  slot.capacity = nil
  redis.call('HSET', K_SLOTS, slot.id, cjson.encode(slot))
  redis.call('HSET', K_CAPACITY, slot.id, capacity)
  redis.call('HSET', K_SOLD, slot.id, 0)
  redis.call('HSET', K_HELD, slot.id, 0)
end
return ok()
