-- Helpers shared by every script. scripts.go prepends this file to each.
--
-- Scripts return {"ok", ...} on success and {code, detail} on failure,
-- where code is a booking error code such as "sold_out", and detail adds
-- facts that the caller does not have, or is empty.

-- now_ms returns the Redis server's time in milliseconds since the epoch.
-- Every edge shares this clock.
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function ok(...)
  return {'ok', ...}
end

local function fail(code, detail)
  return {code, detail}
end

