-- Returns an unexpired booking session. Redis deletes sessions when their
-- PXAT passes.
-- KEYS[1]: the session's key.
-- ARGV: none.
-- Returns {"ok", session JSON}, or {"session_not_found", detail}.

local raw = redis.call('GET', KEYS[1])
if not raw then
  return fail('session_not_found', '')
end
return ok(raw)
