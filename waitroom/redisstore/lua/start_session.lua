-- start_session: extend an admitted visitor's active place to the session
-- lifetime, counted from now.
--
-- KEYS: the room's keys, in the order common.lua lists.
-- ARGV[1]: the visitor id.
-- Returns the new deadline in microseconds, or the error NOROOM, or
-- NOVISITOR unless the visitor is active with a deadline after now.

local room = load_room()
if not room then
  return no_room()
end
local visitor = ARGV[1]
local now = now_us()

local deadline = tonumber(redis.call('ZSCORE', ACTIVE, visitor))
if not deadline or deadline <= now then
  return redis.error_reply('NOVISITOR visitor is not admitted')
end

deadline = now + room.session_lifetime_us
redis.call('ZADD', ACTIVE, deadline, visitor)
return deadline
