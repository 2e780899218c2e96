-- close_round.lua: closes one ended round exactly once and announces it.
-- KEYS[1] = P scheduler:leader, KEYS[2] = P schedule.
-- ARGV = P, holder, round, ttl_s (expiry of scores/total/result), stream_maxlen.
-- Reply: {"CLOSED", result_json} | {"DONE", result_json} (already closed: publishes nothing)
--        | {"EARLY", ms_left} (the round has not ended by Redis TIME).
-- Errors: "NOTLEADER ...", "NOROUND ...", "BADARG ...".
local P, holder = ARGV[1], ARGV[2]
local function posint(v, maxlen)
  return v ~= nil and string.match(v, '^[1-9][0-9]*$') ~= nil and #v <= maxlen
end
if P == nil or holder == nil or holder == '' then
  return redis.error_reply('BADARG expected ARGV: prefix, holder, round, ttl_s, stream_maxlen')
end
if not posint(ARGV[3], 15) then return redis.error_reply('BADARG round must be a positive integer') end
if not posint(ARGV[4], 10) then return redis.error_reply('BADARG ttl_s must be a positive integer') end
if not posint(ARGV[5], 10) then
  return redis.error_reply('BADARG stream_maxlen must be a positive integer')
end
local id, ttl, maxlen = tonumber(ARGV[3]), ARGV[4], ARGV[5]
local function d(x) return string.format('%d', x) end

-- 1. Fencing: only the lease holder writes or publishes.
if redis.call('GET', KEYS[1]) ~= holder then
  return redis.error_reply('NOTLEADER the scheduler lease is not held by this process')
end

local f = redis.call('HMGET', KEYS[2], 'epoch', 'len', 'base', 'next_epoch', 'next_len',
  'next_base', 'prev_epoch', 'prev_len', 'prev_base')
if not f[1] then return redis.error_reply('NOROUND no round is running yet') end
local s = { epoch = tonumber(f[1]), len = tonumber(f[2]), base = tonumber(f[3]) }
if not s.epoch or not s.len or not s.base or s.len <= 0 then
  return redis.error_reply('BADSCHEDULE the stored schedule is malformed')
end
if f[4] then s.next = { epoch = tonumber(f[4]), len = tonumber(f[5]), base = tonumber(f[6]) } end
if f[7] then s.prev = { epoch = tonumber(f[7]), len = tonumber(f[8]), base = tonumber(f[9]) } end

-- Round math (docs/bus.md), as in clickrace/core/round_math.hpp.
local function window_of(r)
  local seg = s
  if s.next and r >= s.next.base then
    seg = s.next
  elseif r >= s.base then
    seg = s
  elseif s.prev and r >= s.prev.base then
    seg = s.prev
  end
  local start = seg.epoch + (r - seg.base) * seg.len
  return start, start + seg.len
end
local function round_at(t)
  local seg = s
  if s.next and t >= s.next.epoch then seg = s.next end
  if t < seg.epoch then return seg.base end
  return seg.base + math.floor((t - seg.epoch) / seg.len)
end

local tm = redis.call('TIME')
local now = tonumber(tm[1]) * 1000 + math.floor(tonumber(tm[2]) / 1000)

-- 2. Never close a round that is still running.
local started, ended = window_of(id)
if now < ended then return { 'EARLY', ended - now } end

-- 3. Idempotent: a closed round is answered from its stored result, and nothing is published.
local ids = d(id)
local result_key = P .. 'round:' .. ids .. ':result'
local existing = redis.call('GET', result_key)
if existing then return { 'DONE', existing } end

-- 4. The result: winners are everyone at the top score. Equal zset scores come back in bytewise
-- member order, which is the name order winners.hpp uses.
local scores_key = P .. 'round:' .. ids .. ':scores'
local total_key = P .. 'round:' .. ids .. ':total'
local players = redis.call('ZCARD', scores_key)
local total = tonumber(redis.call('GET', total_key) or '0') or 0
local winners, count, top = {}, 0, 0
if players > 0 then
  local best = redis.call('ZREVRANGE', scores_key, 0, 0, 'WITHSCORES')
  if tonumber(best[2]) > 0 then
    top = tonumber(best[2])
    count = redis.call('ZCOUNT', scores_key, best[2], best[2])
    local names = redis.call('ZRANGEBYSCORE', scores_key, best[2], best[2], 'LIMIT', 0, 100)
    for i, name in ipairs(names) do winners[i] = cjson.encode(name) end
  end
end
-- Built by hand: cjson would encode an empty winners table as {} instead of [].
local result = string.format(
  '{"round":%d,"startedAt":%d,"endedAt":%d,"winners":[%s],"winnerCount":%d,' ..
  '"winningClicks":%d,"totalClicks":%d,"players":%d}',
  id, started, ended, table.concat(winners, ','), count, top, total, players)

redis.call('SET', result_key, result, 'EX', ttl, 'NX')
redis.call('XADD', P .. 'rounds', 'MAXLEN', '~', maxlen, '*', 'round', ids, 'result', result)
local closed = tonumber(redis.call('GET', P .. 'closed') or '0') or 0
if id > closed then redis.call('SET', P .. 'closed', ids) end
redis.call('EXPIRE', scores_key, ttl)
redis.call('EXPIRE', total_key, ttl)

local channel = P .. 'events'
redis.call('PUBLISH', channel,
  '{"event":"RoundEnded","round":' .. ids .. ',"data":' .. result .. '}')
-- Announce the next round only when it is the one running now (not while catching up).
local next_start, next_end = window_of(id + 1)
if round_at(now) == id + 1 and now >= next_start then
  redis.call('PUBLISH', channel, string.format(
    '{"event":"RoundStarted","round":%d,"data":{"round":%d,"startsAt":%d,"endsAt":%d,"serverTime":%d}}',
    id + 1, id + 1, next_start, next_end, now))
end
return { 'CLOSED', result }
