-- Returns every slot of an event with its counts, after reclaiming expired
-- holds, so held counts only unexpired holds.
-- KEYS: the event keys (lib.lua). Reads event, slots, capacity, sold, held;
-- reclaim writes held, holds, expiry, purge and the visitor hashes.
-- ARGV: none.
-- Returns {"ok", slot JSON, capacity, held, sold, slot JSON, ...} with four
-- entries per slot in no particular order, or {"unknown_event", detail}.

if redis.call('EXISTS', K_EVENT) == 0 then
  return fail('unknown_event', '')
end
reclaim(now_ms())

local out = {'ok'}
local slots = redis.call('HGETALL', K_SLOTS)
for i = 1, #slots, 2 do
  local id = slots[i]
  table.insert(out, slots[i + 1])
  table.insert(out, hget_number(K_CAPACITY, id))
  table.insert(out, hget_number(K_HELD, id))
  table.insert(out, hget_number(K_SOLD, id))
end
return out
