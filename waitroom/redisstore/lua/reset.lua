-- reset: empty the room's line, pre-queue, active set, admission log,
-- counters, token bucket, controller state and decision history, keeping
-- its settings and audit log.
--
-- KEYS: the room's keys, in the order common.lua lists.
-- ARGV: none.
-- Returns 1, or the error NOROOM.

if redis.call('EXISTS', META) == 0 then
  return no_room()
end
redis.call('DEL', QUEUE, PRE, SEEN, ADMITTED, ACTIVE, SKIPPED, LOG, CTL, DECISIONS)
redis.call('HDEL', META, 'next_seq', 'head', 'tokens', 'bucket_us',
  'admitted_total', 'abandoned_total', 'skip_ratio')
return 1
