-- Cancels an order and gives a confirmed order's places back. A cancelled
-- order is returned unchanged.
-- KEYS: the event keys (lib.lua). Writes orders, the order state sets,
-- sold and visitor_sold.
-- ARGV[1]: order id.
-- Returns {"ok", order JSON}, or {"order_not_found", detail}.

local order_id = ARGV[1]
local raw = redis.call('HGET', K_ORDERS, order_id)
if not raw then
  return fail('order_not_found', '')
end

local order = cjson.decode(raw)
if order.state == 'cancelled' then
  return ok(raw)
end

if order.state == 'confirmed' then
  redis.call('HINCRBY', K_SOLD, order.slot, -order.qty)
  decrement(K_VISITOR_SOLD, order.visitor, order.qty)
end

redis.call('ZREM', K_ORDER_STATES[order.state], order_id)
redis.call('ZADD', K_ORDER_STATES.cancelled, order.created, order_id)
order.state = 'cancelled'
order.updated = now_ms()

local encoded = cjson.encode(order)
redis.call('HSET', K_ORDERS, order_id, encoded)
return ok(encoded)
