-- Changes a slot's capacity unless it would fall below sold + held places.
-- KEYS: the event keys (lib.lua). Reads event, slots and sold. Writes
-- capacity, and reclaims expired holds (held, holds, expiry, purge and the
-- visitor hashes).
-- ARGV[1]: slot id.
-- ARGV[2]: new capacity.
-- Returns {"ok"}, or {code, detail} with code unknown_event, unknown_slot
-- or capacity_too_low.

local slot = ARGV[1]
local capacity = tonumber(ARGV[2])

if redis.call('EXISTS', K_EVENT) == 0 then
  return fail('unknown_event', '')
end
if redis.call('HEXISTS', K_SLOTS, slot) == 0 then
  return fail('unknown_slot', '')
end

reclaim(now_ms())
local sold_and_held = hget_number(K_SOLD, slot) + hget_number(K_HELD, slot)
if capacity < sold_and_held then
  return fail('capacity_too_low', sold_and_held .. ' places are sold or held')
end

redis.call('HSET', K_CAPACITY, slot, capacity)
return ok()
