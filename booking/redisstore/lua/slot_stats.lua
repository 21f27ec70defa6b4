-- Returns one slot's capacity, held and sold places in one atomic step,
-- after reclaiming expired holds, so held counts only unexpired holds.
-- KEYS: the event keys (lib.lua). Reads event, slots, capacity, sold, held;
-- reclaim writes held, holds, expiry, purge and the visitor hashes.
-- ARGV[1]: slot id.
-- Returns {"ok", capacity, held, sold}, or {code, detail} with code
-- unknown_event or unknown_slot.

local slot = ARGV[1]
if redis.call('EXISTS', K_EVENT) == 0 then
  return fail('unknown_event', '')
end
if redis.call('HEXISTS', K_SLOTS, slot) == 0 then
  return fail('unknown_slot', '')
end

reclaim(now_ms())
return ok(hget_number(K_CAPACITY, slot), hget_number(K_HELD, slot), hget_number(K_SOLD, slot))
