-- Helpers shared by every event script. scripts.go prepends common.lua and
-- this file, and before them the constants HOLD_RETENTION_MS (how long an
-- ended hold stays findable) and PURGE_BATCH (the maximum number of ended
-- holds that one call deletes).
--
-- Every event script receives the same KEYS, built by eventKeys in keys.go.
-- They share the hash tag {<event>}, so on Redis Cluster they live in one
-- hash slot:
--   KEYS[1]  event              string: event JSON
--   KEYS[2]  slots              hash: slot id -> slot JSON {id, start, end}
--   KEYS[3]  capacity           hash: slot id -> capacity
--   KEYS[4]  sold               hash: slot id -> places in confirmed orders
--   KEYS[5]  held               hash: slot id -> places in active holds,
--                               including expired ones not reclaimed yet
--   KEYS[6]  holds              hash: hold id -> hold JSON
--   KEYS[7]  expiry             zset: active hold id, scored by expiry (ms)
--   KEYS[8]  purge              zset: ended hold id, scored by when it is
--                               forgotten (ms)
--   KEYS[9]  orders             hash: order id -> order JSON
--   KEYS[10] orders:confirmed   zset: order id, scored by creation (ms)
--   KEYS[11] orders:needs_refund
--   KEYS[12] orders:cancelled
--   KEYS[13] payments           hash: payment id -> order id
--   KEYS[14] visitor_holds      hash: visitor -> active holds
--   KEYS[15] visitor_held       hash: visitor -> places in active holds
--   KEYS[16] visitor_sold       hash: visitor -> places in confirmed orders
--
-- Event scripts check everything that can fail before their first write,
-- except that reclaiming expired holds may come first.

local K_EVENT = KEYS[1]
local K_SLOTS = KEYS[2]
local K_CAPACITY = KEYS[3]
local K_SOLD = KEYS[4]
local K_HELD = KEYS[5]
local K_HOLDS = KEYS[6]
local K_EXPIRY = KEYS[7]
local K_PURGE = KEYS[8]
local K_ORDERS = KEYS[9]
local K_ORDER_STATES = {
  confirmed = KEYS[10],
  needs_refund = KEYS[11],
  cancelled = KEYS[12],
}
local K_PAYMENTS = KEYS[13]
local K_VISITOR_HOLDS = KEYS[14]
local K_VISITOR_HELD = KEYS[15]
local K_VISITOR_SOLD = KEYS[16]

local function load_event()
  local raw = redis.call('GET', K_EVENT)
  if not raw then
    return nil
  end
  return cjson.decode(raw)
end

local function hget_number(key, field)
  return tonumber(redis.call('HGET', key, field) or '0')
end

-- decrement lowers a counter and deletes it at zero, so per-visitor hashes
-- do not keep visitors who hold nothing.
local function decrement(key, field, by)
  if redis.call('HINCRBY', key, field, -by) <= 0 then
    redis.call('HDEL', key, field)
  end
end

local function load_hold(id)
  local raw = redis.call('HGET', K_HOLDS, id)
  if not raw then
    return nil
  end
  return cjson.decode(raw)
end

local function save_hold(h)
  redis.call('HSET', K_HOLDS, h.id, cjson.encode(h))
end

-- schedule_purge keeps an ended hold findable for HOLD_RETENTION_MS after
-- ended_at.
local function schedule_purge(h, ended_at)
  redis.call('ZADD', K_PURGE, ended_at + HOLD_RETENTION_MS, h.id)
end

-- end_hold returns an active hold's places and gives it its final state.
-- The caller saves the hold.
local function end_hold(h, state, ended_at)
  redis.call('HINCRBY', K_HELD, h.slot, -h.qty)
  decrement(K_VISITOR_HOLDS, h.visitor, 1)
  decrement(K_VISITOR_HELD, h.visitor, h.qty)
  redis.call('ZREM', K_EXPIRY, h.id)
  h.state = state
  schedule_purge(h, ended_at)
end

-- reclaim returns the places of every hold that expired at or before now.
-- Each hold is reclaimed once, so the cost is spread over the calls.
local function reclaim(now)
  local ids = redis.call('ZRANGEBYSCORE', K_EXPIRY, '-inf', now)
  for _, id in ipairs(ids) do
    local h = load_hold(id)
    if h then
      end_hold(h, 'expired', h.expires)
      save_hold(h)
    else
      redis.call('ZREM', K_EXPIRY, id)
    end
  end
end

-- purge deletes up to PURGE_BATCH ended holds whose retention has passed.
local function purge(now)
  local ids = redis.call('ZRANGEBYSCORE', K_PURGE, '-inf', now, 'LIMIT', 0, PURGE_BATCH)
  for _, id in ipairs(ids) do
    redis.call('HDEL', K_HOLDS, id)
    redis.call('ZREM', K_PURGE, id)
  end
end

-- hold_view returns a hold's JSON as seen at now: an active hold whose
-- expiry has passed shows as expired even before reclaim runs.
local function hold_view(h, now)
  if h.state == 'active' and h.expires <= now then
    h.state = 'expired'
  end
  return cjson.encode(h)
end

-- visitor_counts returns the visitor's places in active holds plus
-- confirmed orders, and their active holds.
local function visitor_counts(visitor)
  local holds = hget_number(K_VISITOR_HOLDS, visitor)
  local tickets = hget_number(K_VISITOR_HELD, visitor) + hget_number(K_VISITOR_SOLD, visitor)
  return tickets, holds
end

local function free_places(slot)
  return hget_number(K_CAPACITY, slot) - hget_number(K_SOLD, slot) - hget_number(K_HELD, slot)
end

