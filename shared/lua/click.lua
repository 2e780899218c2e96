-- click.lua: adds a batch of clicks to the round running now (by Redis TIME), at most once per
-- batch id, within each player's click rate over the whole fleet.
-- KEYS[1] = P schedule.
-- ARGV = P, batch_id, rate, name1, n1, name2, n2, ...   (n: integer 1..1000000)
--   rate: clicks per second per player (0 = unlimited), with a burst of as many (DESIGN inv. 6).
-- Reply: {round, total_1, granted_1, total_2, granted_2, ...} in ARGV order: granted_i of the
-- player's n_i clicks were counted (the others exceeded the rate and were NOT stored) and
-- total_i is the player's score after them (0 when none was granted).
-- The reply is kept under P clickbatch:<batch_id> for BATCH_TTL_S (60 s); a batch id seen before
-- gets that stored reply back and changes nothing, so a caller that lost the answer (connection
-- lost, timeout) can resend the batch safely. The key only has to outlive the caller's resend
-- window (the gateway caps CLICKRACE_CLICK_RETRY_MS at 30 s); at ~180 bytes per key, a longer
-- TTL costs Redis memory in proportion to the batch rate (8,000 batches/s x 60 s ~ 90 MB).
-- Rate: one token bucket per player, P clickrate:<name> = "<millitokens>,<ms>", holding `rate`
-- tokens at most and refilled at `rate` per second by Redis TIME. It is shared by every
-- connection on every gateway, so accepted clicks over any t seconds stay <= rate*t + rate.
-- If Redis's clock steps back, the bucket is re-anchored without a refill (never extra tokens).
-- Errors: "NOROUND ..." when no schedule exists yet, "BADARG ..." on bad input (nothing written,
-- nothing stored: a resend is evaluated again).
local BATCH_TTL_S = 60
local FIRST = 4  -- ARGV index of the first name
local P, batch, rate = ARGV[1], ARGV[2], ARGV[3]
if P == nil or #ARGV < FIRST + 1 or (#ARGV - FIRST) % 2 ~= 1 then
  return redis.error_reply('BADARG expected ARGV: prefix, batch id, rate, then name, count pairs')
end
if batch == '' or #batch > 128 then
  return redis.error_reply('BADARG batch id must be 1 to 128 bytes')
end
if not string.match(rate, '^[0-9]+$') or #rate > 7 then
  return redis.error_reply('BADARG rate must be an integer from 0 to 9999999')
end
rate = tonumber(rate)
-- Validate everything first: a script that fails halfway keeps the writes it already made.
for i = FIRST, #ARGV, 2 do
  local name, n = ARGV[i], ARGV[i + 1]
  if name == '' or #name > 64 then
    return redis.error_reply('BADARG player name must be 1 to 64 bytes')
  end
  if not string.match(n, '^[1-9][0-9]*$') or #n > 7 or tonumber(n) > 1000000 then
    return redis.error_reply('BADARG click count must be an integer from 1 to 1000000')
  end
end

local done_key = P .. 'clickbatch:' .. batch
local done = redis.call('GET', done_key)
if done then
  -- A write (the same expiry again), so a WAIT behind this call on a new connection waits for
  -- the batch's first run to reach the replicas (WAIT counts this connection's writes only).
  local ttl = redis.call('PTTL', done_key)
  if ttl > 0 then redis.call('PEXPIRE', done_key, ttl) end
  local out = {}
  for v in string.gmatch(done, '[^,]+') do
    out[#out + 1] = tonumber(v)
  end
  return out
end

local f = redis.call('HMGET', KEYS[1], 'epoch', 'len', 'base', 'next_epoch', 'next_len', 'next_base')
if not f[1] then
  return redis.error_reply('NOROUND no round is running yet')
end
local epoch, len, base = tonumber(f[1]), tonumber(f[2]), tonumber(f[3])
if not epoch or not len or not base or len <= 0 then
  return redis.error_reply('BADSCHEDULE the stored schedule is malformed')
end

-- Round math (docs/bus.md): same as clickrace/core/round_math.hpp round_at().
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if f[4] and tonumber(f[5]) and tonumber(f[5]) > 0 and now >= tonumber(f[4]) then
  epoch, len, base = tonumber(f[4]), tonumber(f[5]), tonumber(f[6])
end
local id = base
if now >= epoch then
  id = base + math.floor((now - epoch) / len)
end
-- Closed-mark guard (docs/bus.md "Redis data loss and clock steps"): never into a round that has
-- already closed. Redis's clock stepped back (or a schedule was re-created behind the mark):
-- the click counts in the next open round instead.
local closed_mark = tonumber(redis.call('GET', P .. 'closed'))
if closed_mark and id <= closed_mark then id = closed_mark + 1 end

local ids = string.format('%d', id)
local scores = P .. 'round:' .. ids .. ':scores'

-- How many of a player's n clicks its bucket allows now (and takes them).
local function grant(name, n)
  if rate == 0 then return n end
  local key = P .. 'clickrate:' .. name
  local cap = rate * 1000  -- millitokens
  local level, last = cap, now
  local b = redis.call('GET', key)
  if b then
    local l, t = string.match(b, '^(%d+),(%d+)$')
    if l then
      level, last = tonumber(l), tonumber(t)
      if now > last then level = math.min(cap, level + (now - last) * rate) end
    end
  end
  local g = math.min(n, math.floor(level / 1000))
  level = level - g * 1000
  -- A full bucket is the same as no key: it may expire once it would have refilled.
  local full_in = math.ceil((cap - level) / rate) + 1000
  redis.call('SET', key, string.format('%d,%d', level, now), 'PX', full_in)
  return g
end

local out = { id }
local sum = 0
for i = FIRST, #ARGV, 2 do
  local g = grant(ARGV[i], tonumber(ARGV[i + 1]))
  local total = 0
  if g > 0 then
    total = tonumber(redis.call('ZINCRBY', scores, string.format('%d', g), ARGV[i]))
    sum = sum + g
  end
  out[#out + 1] = total
  out[#out + 1] = g
end
if sum > 0 then
  redis.call('INCRBY', P .. 'round:' .. ids .. ':total', string.format('%d', sum))
end

local stored = {}
for i = 1, #out do
  stored[i] = string.format('%d', out[i])
end
redis.call('SET', done_key, table.concat(stored, ','), 'EX', BATCH_TTL_S)
return out
