-- admit: run one admission step. It orders the pre-queue if the room has
-- opened, frees active places whose deadline has passed, refills the token
-- bucket, and, when the room is open, admits waiting visitors in sequence
-- order while the bucket, max_active and ARGV[1] allow. Visitors whose last
-- heartbeat is missing or older than heartbeat_grace are skipped as
-- abandoned, at most ARGV[2] of them, and use no token. At a rate of 0 the
-- bucket is emptied, so no visitor is admitted.
--
-- KEYS: the room's keys, in the order common.lua lists.
-- ARGV[1]: the most visitors to admit in this step (AdmitLimits.MaxAdmit).
-- ARGV[2]: the most visitors to skip in this step (AdmitLimits.MaxSkip).
-- Returns {state, tokens, promoted, expired, skipped, now_us, visitor,
-- sequence, visitor, sequence, ...} with one visitor and sequence per
-- admission in admission order, all admitted at now_us, and tokens as a
-- decimal string; or the error NOROOM.

local room = load_room()
if not room then
  return no_room()
end
local max_admit = tonumber(ARGV[1])
local max_skip = math.max(0, tonumber(ARGV[2]))
local now = now_us()

local promoted = promote(room, now)

local expired = redis.call('ZREMRANGEBYSCORE', ACTIVE, '-inf', now)

-- Refill the bucket with the tokens earned since the last step, up to the
-- burst. A bucket that has never run starts full.
local burst = room.burst
local tokens = room.tokens or burst
local bucket_us = room.bucket_us
if not bucket_us then
  tokens = burst
  bucket_us = now
elseif now > bucket_us then
  tokens = math.min(burst, tokens + (now - bucket_us) * room.rate_per_minute / 60000000)
  bucket_us = now
end
tokens = math.min(burst, tokens)
if room.rate_per_minute <= 0 then
  -- A rate of 0 admits no visitor. Tokens left from before must not admit
  -- a burst, now or when the rate rises again.
  tokens = 0
end
redis.call('HSET', META, 'tokens', string.format('%.17g', tokens),
  'bucket_us', string.format('%d', bucket_us))

local state = room_state(room, now)
local reply = { state, string.format('%.17g', tokens), promoted, expired, 0, now }
if state ~= 'open' then
  return reply
end

local allow = math.min(math.floor(tokens), room.max_active - redis.call('ZCARD', ACTIVE), max_admit)
local deadline = now + room.admission_window_us
local head = room.head
local admitted, skipped = 0, 0
local done = allow <= 0
while not done do
  -- Read the front of the line in pages no longer than this step can still
  -- use. A page is removed from the queue before the next one is read.
  local page = math.min(100, allow + max_skip - skipped)
  local front = redis.call('ZRANGE', QUEUE, 0, page - 1, 'WITHSCORES')
  if #front == 0 then
    break
  end

  local left = {}
  for i = 1, #front, 2 do
    local visitor, seq = front[i], tonumber(front[i + 1])
    local seen = tonumber(redis.call('ZSCORE', SEEN, visitor))
    if not seen or now - seen > room.heartbeat_grace_us then
      if skipped >= max_skip then
        done = true
        break
      end
      redis.call('HSET', SKIPPED, visitor, seq)
      skipped = skipped + 1
    else
      redis.call('HSET', ADMITTED, visitor, string.format('%d:%d', seq, now))
      redis.call('ZADD', ACTIVE, deadline, visitor)
      redis.call('RPUSH', LOG, string.format('%d:%d:', seq, now) .. visitor)
      reply[#reply + 1] = visitor
      reply[#reply + 1] = seq
      tokens = tokens - 1
      admitted = admitted + 1
      allow = allow - 1
    end
    left[#left + 1] = visitor
    head = math.max(head, seq)
    if allow <= 0 then
      done = true
      break
    end
  end
  if #left > 0 then
    redis.call('ZREM', QUEUE, unpack(left))
  end
end

-- The same moving average as waitroom.NextSkipRatio.
local skip_ratio = room.skip_ratio
if admitted + skipped > 0 then
  skip_ratio = 0.8 * skip_ratio + 0.2 * (skipped / (admitted + skipped))
end
redis.call('HSET', META,
  'head', string.format('%d', head),
  'tokens', string.format('%.17g', tokens),
  'admitted_total', string.format('%d', room.admitted_total + admitted),
  'abandoned_total', string.format('%d', room.abandoned_total + skipped),
  'skip_ratio', string.format('%.17g', skip_ratio))

reply[2] = string.format('%.17g', tokens)
reply[5] = skipped
return reply
