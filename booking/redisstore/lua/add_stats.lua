-- Adds operation counts to one stats window and sets the window to expire.
-- KEYS[1]: the window's key, a hash of field -> count. Fields are
--          <op>:count, <op>:lat:<bucket index> and <op>:err:<code>.
-- ARGV[1]: when the window expires, in ms since the epoch.
-- ARGV[2], ARGV[3], ...: field, increment, field, increment, ...
-- Returns {"ok"}. Counts for a window that has already expired are dropped.

local expire_at = tonumber(ARGV[1])
if expire_at <= now_ms() then
  return ok()
end

for i = 2, #ARGV, 2 do
  redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1])
end
redis.call('PEXPIREAT', KEYS[1], expire_at)
return ok()
