-- Returns an event.
-- KEYS: the event keys (lib.lua). Reads event.
-- ARGV: none.
-- Returns {"ok", event JSON}, or {"unknown_event", detail}.

local raw = redis.call('GET', K_EVENT)
if not raw then
  return fail('unknown_event', '')
end
return ok(raw)
