-- Returns an order.
-- KEYS: the event keys (lib.lua). Reads orders.
-- ARGV[1]: order id.
-- Returns {"ok", order JSON}, or {"order_not_found", detail}.

local raw = redis.call('HGET', K_ORDERS, ARGV[1])
if not raw then
  return fail('order_not_found', '')
end
return ok(raw)
