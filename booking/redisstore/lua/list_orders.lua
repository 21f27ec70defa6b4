-- Returns an event's orders in one state, or in every state.
-- KEYS: the event keys (lib.lua). Reads event, orders and the order state
-- sets.
-- ARGV[1]: order state (confirmed, needs_refund or cancelled), or "" for all.
-- Returns {"ok", order JSON, ...} in no particular order, or
-- {"unknown_event", detail}.

if redis.call('EXISTS', K_EVENT) == 0 then
  return fail('unknown_event', '')
end

local states = {'confirmed', 'needs_refund', 'cancelled'}
if ARGV[1] ~= '' then
  states = {ARGV[1]}
end

local out = {'ok'}
for _, state in ipairs(states) do
  local ids = redis.call('ZRANGE', K_ORDER_STATES[state], 0, -1)
  for _, id in ipairs(ids) do
    table.insert(out, redis.call('HGET', K_ORDERS, id))
  end
end
return out
