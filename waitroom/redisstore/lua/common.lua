-- Helpers shared by the room scripts. redisstore prepends this file to each
-- of them, so every script receives the room's keys in the order below. All
-- of them carry the room's hash tag, so a script touches one Cluster slot.
local META = KEYS[1]     -- hash: settings, settings_version, counters, bucket
local QUEUE = KEYS[2]    -- zset: waiting visitor -> sequence number
local PRE = KEYS[3]      -- zset: pre-queue visitor -> PrequeueScore(key)
local SEEN = KEYS[4]     -- zset: visitor -> last heartbeat
local ADMITTED = KEYS[5] -- hash: admitted visitor -> "seq:admitted_us"
local ACTIVE = KEYS[6]   -- zset: active admitted visitor -> deadline
local SKIPPED = KEYS[7]  -- hash: visitor skipped as abandoned -> sequence
local LOG = KEYS[8]      -- list: "seq:admitted_us:visitor", oldest first
local AUDIT = KEYS[9]    -- list: "at_us:<entry JSON>", newest first
local CTL = KEYS[10]     -- hash: the controller state's fields
local DECISIONS = KEYS[11] -- list: decision JSON, newest first

-- Times are microseconds since the Unix epoch and come from Redis TIME, so
-- every edge shares one clock. Lua's tostring and the .. operator print
-- numbers with 14 significant digits, which garbles 16-digit timestamps, so
-- numbers are turned into strings with string.format('%d') or '%.17g'.

-- ZADD takes at most this many members per call, which keeps unpack well
-- under Lua's stack limit.
local CHUNK = 500

local function now_us()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end

local function no_room()
  return redis.error_reply('NOROOM room not found')
end

-- load_room reads the settings and counters the scripts use, or returns nil
-- when the room does not exist. HMGET returns false for a missing field, and
-- tonumber(false) is nil.
local function load_room()
  local v = redis.call('HMGET', META, 'id', 'opens_at_us', 'paused', 'closed',
    'sold_out', 'rate_per_minute', 'burst', 'max_active', 'admission_window_us',
    'session_lifetime_us', 'heartbeat_grace_us', 'next_seq', 'head', 'tokens',
    'bucket_us', 'admitted_total', 'abandoned_total', 'skip_ratio')
  if not v[1] then
    return nil
  end
  return {
    opens_at_us = tonumber(v[2]) or 0, -- 0: open from creation
    paused = v[3] == '1',
    closed = v[4] == '1',
    sold_out = v[5] == '1',
    rate_per_minute = tonumber(v[6]) or 0,
    burst = tonumber(v[7]) or 0,
    max_active = tonumber(v[8]) or 0,
    admission_window_us = tonumber(v[9]) or 0,
    session_lifetime_us = tonumber(v[10]) or 0,
    heartbeat_grace_us = tonumber(v[11]) or 0,
    next_seq = tonumber(v[12]) or 0,
    head = tonumber(v[13]) or 0,
    tokens = tonumber(v[14]),    -- nil until the first admission step
    bucket_us = tonumber(v[15]), -- nil until the first admission step
    admitted_total = tonumber(v[16]) or 0,
    abandoned_total = tonumber(v[17]) or 0,
    skip_ratio = tonumber(v[18]) or 0,
  }
end

-- opened reports whether the pre-queue should be ordered by now.
local function opened(room, now)
  return room.opens_at_us == 0 or now >= room.opens_at_us
end

-- room_state mirrors waitroom.Settings.State: closed wins over sold out,
-- which wins over scheduled, which wins over paused.
local function room_state(room, now)
  if room.closed then
    return 'closed'
  end
  if room.sold_out then
    return 'sold_out'
  end
  if room.opens_at_us ~= 0 and now < room.opens_at_us then
    return 'scheduled'
  end
  if room.paused then
    return 'paused'
  end
  return 'open'
end

-- zadd_chunked adds a flat list of scores and members, CHUNK members per
-- ZADD.
local function zadd_chunked(key, entries)
  for first = 1, #entries, 2 * CHUNK do
    local last = math.min(#entries, first + 2 * CHUNK - 1)
    redis.call('ZADD', key, unpack(entries, first, last))
  end
end

-- promote gives the pre-queue sequence numbers in key order once the room
-- has opened, ahead of everyone who joins later, and returns how many it
-- moved. ZRANGE orders equal scores by member, byte by byte.
local function promote(room, now)
  if not opened(room, now) then
    return 0
  end
  local drawn = redis.call('ZRANGE', PRE, 0, -1)
  if #drawn == 0 then
    return 0
  end

  local entries = {}
  for _, visitor in ipairs(drawn) do
    room.next_seq = room.next_seq + 1
    entries[#entries + 1] = room.next_seq
    entries[#entries + 1] = visitor
  end
  zadd_chunked(QUEUE, entries)

  redis.call('DEL', PRE)
  redis.call('HSET', META, 'next_seq', string.format('%d', room.next_seq))
  return #drawn
end

-- locate returns the visitor's place as a table with fields state, seq,
-- ahead, admitted_us and deadline_us, or nil when the visitor has no place.
-- A visitor skipped as abandoned who was last seen within the session
-- lifetime goes back into the queue under their old sequence number, which
-- puts them at the front.
local function locate(room, visitor, now)
  local seq = redis.call('ZSCORE', QUEUE, visitor)
  if seq then
    return { state = 'waiting', seq = tonumber(seq), ahead = redis.call('ZRANK', QUEUE, visitor) }
  end

  if redis.call('ZSCORE', PRE, visitor) then
    return { state = 'prequeue', ahead = redis.call('ZCARD', PRE) - 1 }
  end

  local admitted = redis.call('HGET', ADMITTED, visitor)
  if admitted then
    local seq_text, at_text = string.match(admitted, '^(%d+):(%d+)$')
    local place = { state = 'expired', seq = tonumber(seq_text), admitted_us = tonumber(at_text) }
    local deadline = tonumber(redis.call('ZSCORE', ACTIVE, visitor))
    if deadline and deadline > now then
      place.state = 'admitted'
      place.deadline_us = deadline
    end
    return place
  end

  local skipped = redis.call('HGET', SKIPPED, visitor)
  if skipped then
    local skipped_seq = tonumber(skipped)
    local seen = tonumber(redis.call('ZSCORE', SEEN, visitor))
    if not seen or now - seen > room.session_lifetime_us then
      return { state = 'expired', seq = skipped_seq }
    end
    redis.call('HDEL', SKIPPED, visitor)
    redis.call('ZADD', QUEUE, skipped_seq, visitor)
    return { state = 'waiting', seq = skipped_seq, ahead = redis.call('ZRANK', QUEUE, visitor) }
  end

  return nil
end

-- place_reply encodes a place as
-- {state, seq, ahead, admitted_us, deadline_us, created (0 or 1)},
-- with 0 for fields the state does not use.
local function place_reply(place, created)
  local created_flag = 0
  if created then
    created_flag = 1
  end
  return { place.state, place.seq or 0, place.ahead or 0,
    place.admitted_us or 0, place.deadline_us or 0, created_flag }
end

