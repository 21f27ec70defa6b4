-- Records an admission token id as used and creates a booking session, in
-- one step, so that each token id is exchanged at most once.
-- KEYS[1]: the event key (JSON of the event).
-- KEYS[2]: the used-token key of this token id.
-- KEYS[3]: the new session's key.
-- ARGV[1]: room that issued the token.
-- ARGV[2]: visitor id.
-- ARGV[3]: new session id.
-- ARGV[4]: session lifetime in ms.
-- ARGV[5]: token expiry in ms since the epoch, or 0 if unknown.
-- Returns {"ok", session JSON}, or {code, detail} with code unknown_event,
-- wrong_room or token_used.

local room = ARGV[1]
local lifetime = tonumber(ARGV[4])
local token_expires = tonumber(ARGV[5])

local raw = redis.call('GET', KEYS[1])
if not raw then
  return fail('unknown_event', '')
end
local ev = cjson.decode(raw)
if ev.room ~= room then
  return fail('wrong_room', 'room ' .. room .. ' does not guard event ' .. ev.id)
end

-- The token id must be remembered for as long as the token could verify,
-- and at least as long as the session it created.
local now = now_ms()
local expires = now + lifetime
local forget_at = math.max(expires, token_expires)
if not redis.call('SET', KEYS[2], '1', 'NX', 'PXAT', forget_at) then
  return fail('token_used', '')
end

local session = {
  id = ARGV[3],
  visitor = ARGV[2],
  room = room,
  event = ev.id,
  created = now,
  expires = expires,
}
local encoded = cjson.encode(session)
redis.call('SET', KEYS[3], encoded, 'PXAT', expires)
return ok(encoded)
