-- Gives an active hold's places back. A hold that already expired or was
-- released is left as it is.
-- KEYS: the event keys (lib.lua). Writes held, holds, expiry, purge and the
-- visitor hashes.
-- ARGV[1]: hold id.
-- ARGV[2]: visitor id.
-- Returns {"ok"}, or {code, detail} with code hold_not_found,
-- not_your_hold or already_confirmed.

local hold_id = ARGV[1]
if redis.call('EXISTS', K_EVENT) == 0 then
  return fail('hold_not_found', 'its event does not exist')
end

local now = now_ms()
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

if h.state == 'active' then
  end_hold(h, 'released', now)
  save_hold(h)
end
return ok()
