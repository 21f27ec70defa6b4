-- Returns the counts of one stats window.
-- KEYS[1]: the window's key (see add_stats.lua).
-- ARGV: none.
-- Returns {"ok", field, count, field, count, ...}, with no fields when
-- the window has no counts.

local out = ok()
for _, v in ipairs(redis.call('HGETALL', KEYS[1])) do
  table.insert(out, v)
end
return out
