-- Applies a payment to a hold, at most once per payment id.
--
-- An active hold becomes a confirmed order. A hold that expired or was
-- released becomes a confirmed order only if its slot has not started, the
-- visitor's ticket limit allows it and its places are free. Otherwise, and
-- for a hold already confirmed by another payment, the order is stored as
-- needs_refund with the error code of the cause as its reason. So is a
-- payment that came with a refund reason, and its hold is left as it is.
--
-- KEYS: the event keys (lib.lua). Reads event, slots and capacity. Writes
-- sold, held, holds, expiry, purge, orders, the order state sets, payments
-- and the visitor hashes.
-- ARGV[1]: hold id.
-- ARGV[2]: payment id.
-- ARGV[3]: new order id, used unless the payment was applied before.
-- ARGV[4]: refund reason, an error code, or "" to confirm.
-- ARGV[5]: amount paid, in minor units, 0 when unknown.
-- ARGV[6]: currency paid, "" when unknown.
-- Returns {"ok", order JSON}, or {"hold_not_found", detail}.

local hold_id = ARGV[1]
local payment_id = ARGV[2]
local order_id = ARGV[3]
local refund = ARGV[4] or ''
local paid = tonumber(ARGV[5]) or 0
local paid_currency = ARGV[6] or ''

local now = now_ms()
local ev = load_event()
if not ev then
  return fail('hold_not_found', 'its event does not exist')
end

local applied = redis.call('HGET', K_PAYMENTS, payment_id)
if applied then
  return ok(redis.call('HGET', K_ORDERS, applied))
end

reclaim(now)
local h = load_hold(hold_id)
if not h then
  return fail('hold_not_found', '')
end

local order = {
  id = order_id,
  event = h.event,
  slot = h.slot,
  hold = hold_id,
  visitor = h.visitor,
  payment = payment_id,
  tickets = h.tickets,
  qty = h.qty,
  state = 'confirmed',
  reason = '',
  paid = paid,
  paid_currency = paid_currency,
  created = now,
  updated = now,
}

-- late_confirm_error returns the error code that keeps an ended hold from
-- being confirmed now, or nil.
local function late_confirm_error()
  local slot = cjson.decode(redis.call('HGET', K_SLOTS, h.slot))
  if now >= slot.start then
    return 'slot_started'
  end
  local visitor_tickets = visitor_counts(h.visitor)
  if visitor_tickets + h.qty > ev.max_tickets_per_visitor then
    return 'limit_exceeded'
  end
  if free_places(h.slot) < h.qty then
    return 'sold_out'
  end
  return nil
end

local sell = false
if refund ~= '' then
  order.state = 'needs_refund'
  order.reason = refund
elseif h.state == 'active' then
  end_hold(h, 'confirmed', now)
  sell = true
elseif h.state == 'confirmed' then
  order.state = 'needs_refund'
  order.reason = 'already_confirmed'
else
  local reason = late_confirm_error()
  if reason then
    order.state = 'needs_refund'
    order.reason = reason
  else
    h.state = 'confirmed'
    schedule_purge(h, now)
    sell = true
  end
end

if sell then
  h.order = order_id
  save_hold(h)
  redis.call('HINCRBY', K_SOLD, h.slot, h.qty)
  redis.call('HINCRBY', K_VISITOR_SOLD, h.visitor, h.qty)
end

local encoded = cjson.encode(order)
redis.call('HSET', K_ORDERS, order_id, encoded)
redis.call('ZADD', K_ORDER_STATES[order.state], now, order_id)
redis.call('HSET', K_PAYMENTS, payment_id, order_id)
purge(now)
return ok(encoded)
