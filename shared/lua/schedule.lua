-- schedule.lua: creates the round schedule, plans length changes, promotes reached changes,
-- cancels a pending change when the length goes back before it is reached. Also the leader's
-- snapshot of the state it plans closes from: schedule, closed mark and Redis TIME, read at once.
-- KEYS[1] = P schedule, KEYS[2] = P closed (optional).
-- ARGV[1] = len (ms, integer >= 1), ARGV[2] = partitions (optional, 1..256: the score
-- partitions S a schedule created by this call gets; fixed for the schedule's life).
-- Reply: {epoch, len, base, next_epoch|0, next_len|0, next_base|0, now, created (1|0),
--         closed|0, prev_epoch|0, prev_len|0, prev_base|0} and, when ARGV[2] is given, a 13th
--         element: the schedule's partitions (the stored field; absent = 1). A stored S other
--         than ARGV[2] is kept (the caller logs it).
-- A schedule created while a closed mark exists (the schedule alone was lost: DEL, a partial
-- restore) numbers on after the mark (base = closed + 1), so no new round reuses a closed id;
-- if round closed + 1 already holds clicks or was sealed, it ends now (prev_* = its window) and
-- base is closed + 2. That check reads round closed + 1's keys beside the closed mark, which
-- are the partition's only when S = 1; with S > 1 it is skipped (docs/bus.md).
-- Error: "BADARG ..." on a bad length or partition count.
local want = ARGV[1]
if want == nil or not string.match(want, '^[1-9][0-9]*$') or #want > 12 then
  return redis.error_reply('BADARG round length must be a positive integer (ms)')
end
want = tonumber(want)
local want_parts = ARGV[2]
if want_parts ~= nil then
  if not string.match(want_parts, '^[1-9][0-9]*$') or #want_parts > 3 or
      tonumber(want_parts) > 256 then
    return redis.error_reply('BADARG partitions must be an integer 1..256')
  end
  want_parts = tonumber(want_parts)
end
local key = KEYS[1]
local function d(x) return string.format('%d', x) end

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

local closed = false
if KEYS[2] then closed = tonumber(redis.call('GET', KEYS[2])) end

local f = redis.call('HMGET', key, 'epoch', 'len', 'base', 'next_epoch', 'next_len', 'next_base',
  'partitions')
local s
local created = 0
local lost_round_ended = false
local parts = tonumber(f[7] or '1') or 1
if not f[1] then
  local base = 1
  parts = want_parts or 1
  if closed and closed >= 1 then
    base = closed + 1
    -- The round after the mark was running when the schedule was lost, and it holds clicks (or
    -- was already sealed): it is not restarted under the same id (it would run ~1.5 lengths with
    -- clicks from before the loss, and be announced as started twice). It ends now — the closer
    -- closes it at once with what it holds — and the new schedule starts with the round after
    -- it. Only one partition (S = 1) keeps its keys beside the mark, in this slot.
    local P = string.sub(KEYS[2], 1, #KEYS[2] - #'closed')
    local r = P .. 'round:' .. d(closed + 1)
    if parts == 1 and redis.call('EXISTS', r .. ':total', r .. ':summary') > 0 then
      base = closed + 2
      redis.call('HSET', key, 'prev_epoch', d(now - want), 'prev_len', d(want),
        'prev_base', d(closed + 1))
      lost_round_ended = true
    end
  end
  s = { epoch = now, len = want, base = base }
  created = 1
  redis.call('HSET', key, 'epoch', d(now), 'len', d(want), 'base', d(base))
  if want_parts then redis.call('HSET', key, 'partitions', d(parts)) end
else
  s = { epoch = tonumber(f[1]), len = tonumber(f[2]), base = tonumber(f[3]) }
  if not s.epoch or not s.len or not s.base or s.len <= 0 then
    return redis.error_reply('BADSCHEDULE the stored schedule is malformed')
  end
  if f[4] then
    s.next = { epoch = tonumber(f[4]), len = tonumber(f[5]), base = tonumber(f[6]) }
  end
  -- Promote a reached change; the replaced segment is kept as prev_* (docs/bus.md).
  if s.next and now >= s.next.epoch then
    redis.call('HSET', key, 'prev_epoch', d(s.epoch), 'prev_len', d(s.len), 'prev_base', d(s.base),
      'epoch', d(s.next.epoch), 'len', d(s.next.len), 'base', d(s.next.base))
    redis.call('HDEL', key, 'next_epoch', 'next_len', 'next_base')
    s = { epoch = s.next.epoch, len = s.next.len, base = s.next.base }
  end
  -- The length went back before a pending change was reached (a reached one was promoted
  -- above): cancel it, so no round runs at the abandoned length.
  if s.next and s.len == want then
    redis.call('HDEL', key, 'next_epoch', 'next_len', 'next_base')
    s.next = nil
  end
  -- A new length applies from the end of the round running now, never mid-round.
  if not s.next and s.len ~= want then
    local id = s.base
    if now >= s.epoch then id = s.base + math.floor((now - s.epoch) / s.len) end
    local ends = s.epoch + (id - s.base + 1) * s.len
    s.next = { epoch = ends, len = want, base = id + 1 }
    redis.call('HSET', key, 'next_epoch', d(ends), 'next_len', d(want), 'next_base', d(id + 1))
  end
end

local prev = { 0, 0, 0 }
if created == 0 or lost_round_ended then
  local p = redis.call('HMGET', key, 'prev_epoch', 'prev_len', 'prev_base')
  if p[1] and tonumber(p[1]) and tonumber(p[2]) and tonumber(p[3]) then
    prev = { tonumber(p[1]), tonumber(p[2]), tonumber(p[3]) }
  end
end
local nx = { 0, 0, 0 }
if s.next then nx = { s.next.epoch, s.next.len, s.next.base } end
local reply = { s.epoch, s.len, s.base, nx[1], nx[2], nx[3], now, created, closed or 0,
  prev[1], prev[2], prev[3] }
if want_parts then reply[13] = parts end
return reply
