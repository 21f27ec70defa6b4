-- Replaces an event's definition unless it changed since the caller read
-- it, so that a read, check and write in Go acts as one step.
-- KEYS: the event keys (lib.lua). Reads and writes event.
-- ARGV[1]: the event JSON that the caller read.
-- ARGV[2]: the new event JSON.
-- Returns {"ok", 1} when written, {"ok", 0} when the stored event is no
-- longer ARGV[1] and nothing was written, or {"unknown_event", detail}.

local current = redis.call('GET', K_EVENT)
if not current then
  return fail('unknown_event', '')
end
if current ~= ARGV[1] then
  return ok(0)
end
redis.call('SET', K_EVENT, ARGV[2])
return ok(1)
