-- Makes an active hold last the event's hold lifetime from now, at most
-- the event's max_hold_extensions times. A rejected request changes no hold.
-- KEYS: the event keys (lib.lua). Reads event. Writes holds and expiry, and
-- reclaims and purges ended holds.
-- ARGV[1]: hold id.
-- ARGV[2]: visitor id.
-- Returns {"ok", hold JSON}, or {code, detail} with code hold_not_found,
-- not_your_hold, already_confirmed, hold_expired or limit_exceeded.

local hold_id = ARGV[1]
local now = now_ms()
local ev = load_event()
if not ev then
  return fail('hold_not_found', 'its event does not exist')
end

reclaim(now)
purge(now)

local h = load_hold(hold_id)
if not h then
  return fail('hold_not_found', '')
end
if h.visitor ~= ARGV[2] then
  return fail('not_your_hold', '')
end
if h.state == 'confirmed' then
  return fail('already_confirmed', '')
end
if h.state ~= 'active' then
  return fail('hold_expired', 'hold is ' .. h.state)
end
if h.ext >= ev.max_hold_extensions then
  return fail('limit_exceeded', 'already extended ' .. h.ext .. ' times, the maximum')
end

h.ext = h.ext + 1
h.expires = now + ev.hold_lifetime_ms
save_hold(h)
redis.call('ZADD', K_EXPIRY, h.expires, hold_id)
return ok(hold_view(h, now))
