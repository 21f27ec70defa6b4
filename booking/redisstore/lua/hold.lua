-- Takes places from one slot for a visitor if and only if they are all
-- free, after returning the places of expired holds.
-- KEYS: the event keys (lib.lua). Reads event, slots, capacity, sold and
-- visitor_sold. Writes held, holds, expiry, purge, visitor_holds and
-- visitor_held.
-- ARGV[1]: new hold id.
-- ARGV[2]: slot id.
-- ARGV[3]: visitor id.
-- ARGV[4]: total quantity, at least 1.
-- ARGV[5]: JSON object of ticket type id -> count, or {} to book ARGV[4]
--          places of the event's first ticket type.
-- Returns {"ok", hold JSON}, or {code, detail} with code unknown_event,
-- unknown_slot, unknown_ticket_type, limit_exceeded, not_on_sale,
-- slot_started or sold_out. Checks run in that order, except that the
-- visitor's limits are checked after expired holds are reclaimed.

local hold_id = ARGV[1]
local slot_id = ARGV[2]
local visitor = ARGV[3]
local qty = tonumber(ARGV[4])
local tickets = cjson.decode(ARGV[5])

local now = now_ms()
local ev = load_event()
if not ev then
  return fail('unknown_event', '')
end
local slot_raw = redis.call('HGET', K_SLOTS, slot_id)
if not slot_raw then
  return fail('unknown_slot', '')
end
local slot = cjson.decode(slot_raw)

if next(tickets) == nil then
  tickets = {[ev.ticket_types[1].id] = qty}
end
for id in pairs(tickets) do
  local known = false
  for _, tt in ipairs(ev.ticket_types) do
    if tt.id == id then
      known = true
    end
  end
  if not known then
    return fail('unknown_ticket_type', 'ticket type ' .. id)
  end
end
if qty > ev.max_tickets_per_order then
  return fail('limit_exceeded', 'an order of ' .. qty .. ' tickets is above the maximum of ' .. ev.max_tickets_per_order)
end

if (ev.sales_start > 0 and now < ev.sales_start) or (ev.sales_end > 0 and now >= ev.sales_end) then
  return fail('not_on_sale', 'outside the sales window')
end
if now >= slot.start then
  return fail('slot_started', '')
end

reclaim(now)
purge(now)

local visitor_tickets, visitor_holds = visitor_counts(visitor)
if visitor_holds >= ev.max_holds_per_visitor then
  return fail('limit_exceeded', 'visitor already has ' .. visitor_holds .. ' active holds, the maximum allowed')
end
if visitor_tickets + qty > ev.max_tickets_per_visitor then
  return fail('limit_exceeded', 'visitor would have ' .. (visitor_tickets + qty) .. ' tickets, above the maximum of ' .. ev.max_tickets_per_visitor)
end

local free = free_places(slot_id)
if free < qty then
  return fail('sold_out', free .. ' free')
end

local h = {
  id = hold_id,
  event = ev.id,
  slot = slot_id,
  visitor = visitor,
  tickets = tickets,
  qty = qty,
  created = now,
  expires = now + ev.hold_lifetime_ms,
  ext = 0,
  state = 'active',
  order = '',
}
save_hold(h)
redis.call('ZADD', K_EXPIRY, h.expires, hold_id)
redis.call('HINCRBY', K_HELD, slot_id, qty)
redis.call('HINCRBY', K_VISITOR_HOLDS, visitor, 1)
redis.call('HINCRBY', K_VISITOR_HELD, visitor, qty)
return ok(cjson.encode(h))
