-- Returns a hold, including one that ended less than HOLD_RETENTION_MS ago.
-- KEYS: the event keys (lib.lua). Reads holds, and reclaims and purges ended
-- holds first (held, holds, expiry, purge and the visitor hashes).
-- ARGV[1]: hold id.
-- Returns {"ok", hold JSON} with the state as of now, or
-- {"hold_not_found", detail}.

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
return ok(hold_view(h, now))
