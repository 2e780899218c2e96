-- close_round.lua: writes one ended round's result exactly once and announces it exactly once.
-- The result is the merge of the partitions' sealed summaries (seal.lua, core/partition_merge):
-- the caller passes it; the script adds the round's window from the schedule.
-- KEYS[1] = P scheduler:leader, KEYS[2] = P schedule, KEYS[3] = P round:r:result,
-- KEYS[4] = P round:r:announced, KEYS[5] = P closed, KEYS[6] = P rounds (one hash tag).
-- ARGV = P, holder, r, ttl_s (expiry of the result and the announced mark), stream_maxlen, op,
--        then for op close/write: winnerCount, winningClicks, totalClicks, players, winner...
--        (the listed winners, sorted; at most 1000).
-- op: "close" = write and announce in one run (no replica to wait for);
--     "write" = write the result only (SET NX; a result already there is kept and its expiry
--       re-written, so a WAIT after this call covers it even on a new connection);
--     "announce" = XADD to the stream, raise P closed, set the announced mark and PUBLISH
--       RoundEnded (and RoundStarted when the round after r is the one running now).
-- Reply: {"CLOSED", result_json} (announced by this call) | {"WRITTEN", result_json} (written,
--        not announced yet) | {"DONE", result_json} (announced before: publishes nothing)
--        | {"EARLY", ms_left} (close/write: r has not ended by Redis TIME).
-- Errors: "NOTLEADER ...", "NOROUND ..." (no schedule), "NORESULT ..." (announce without a
-- written result: write it again), "BADSCHEDULE ...", "BADARG ...".
local P, holder, op = ARGV[1], ARGV[2], ARGV[6]
local function posint(v, maxlen)
  return v ~= nil and string.match(v, '^[1-9][0-9]*$') ~= nil and #v <= maxlen
end
local function natural(v)
  return v ~= nil and string.match(v, '^[0-9]+$') ~= nil and #v <= 15
end
if #KEYS ~= 6 then return redis.error_reply('BADARG expected 6 keys') end
if P == nil or holder == nil or holder == '' then
  return redis.error_reply('BADARG expected ARGV: prefix, holder, round, ttl_s, stream_maxlen, op')
end
if not posint(ARGV[3], 15) then return redis.error_reply('BADARG round must be a positive integer') end
if not posint(ARGV[4], 10) then return redis.error_reply('BADARG ttl_s must be a positive integer') end
if not posint(ARGV[5], 10) then
  return redis.error_reply('BADARG stream_maxlen must be a positive integer')
end
if op ~= 'close' and op ~= 'write' and op ~= 'announce' then
  return redis.error_reply('BADARG op must be close, write or announce')
end
local given = nil
if op ~= 'announce' then
  for i = 7, 10 do
    if not natural(ARGV[i]) then
      return redis.error_reply('BADARG winnerCount, winningClicks, totalClicks, players must be ' ..
        'non-negative integers')
    end
  end
  local listed = #ARGV - 10
  if listed > 1000 or listed > tonumber(ARGV[7]) then
    return redis.error_reply('BADARG more winners listed than winnerCount (or 1000)')
  end
  given = {}
  for i = 11, #ARGV do
    if #ARGV[i] < 1 or #ARGV[i] > 256 then
      return redis.error_reply('BADARG winner names must be 1 to 256 bytes')
    end
    given[#given + 1] = cjson.encode(ARGV[i])
  end
end
local id, ttl, maxlen = tonumber(ARGV[3]), ARGV[4], ARGV[5]
local function d(x) return string.format('%d', x) end

-- #include round_math

-- 1. Fencing: only the lease holder writes or publishes.
if redis.call('GET', KEYS[1]) ~= holder then
  return redis.error_reply('NOTLEADER the scheduler lease is not held by this process')
end

local s, err = read_schedule(KEYS[2], 'NOROUND no round is running yet')
if not s then return err end
local now = redis_now_ms()

-- 2. Announced once: a round announced before answers its stored result, and nothing is
-- published again.
local result = redis.call('GET', KEYS[3])
if result and redis.call('EXISTS', KEYS[4]) == 1 then return { 'DONE', result } end

-- 3. Never close a round that is still running (by the global schedule and Redis TIME).
local started, ended = window_of(s, id)
if op ~= 'announce' and now < ended then return { 'EARLY', ended - now } end

-- 4. The result, written once: a result written before (by this leader or a dead one, from the
-- same sealed summaries) is kept as it is.
if op == 'announce' then
  if not result then
    return redis.error_reply('NORESULT round ' .. d(id) .. ' has no written result')
  end
elseif result then
  redis.call('EXPIRE', KEYS[3], ttl)
else
  -- Built by hand: cjson would encode an empty winners table as {} instead of [].
  result = string.format(
    '{"round":%d,"startedAt":%d,"endedAt":%d,"winners":[%s],"winnerCount":%s,' ..
    '"winningClicks":%s,"totalClicks":%s,"players":%s}',
    id, started, ended, table.concat(given, ','), ARGV[7], ARGV[8], ARGV[9], ARGV[10])
  redis.call('SET', KEYS[3], result, 'EX', ttl, 'NX')
end
if op == 'write' then return { 'WRITTEN', result } end

-- 5. The announcement: the stream (gateways catch up from it), the closed mark (the next leader
-- starts after it), the mark that it was announced, and the events.
redis.call('XADD', KEYS[6], 'MAXLEN', '~', maxlen, '*', 'round', d(id), 'result', result)
local closed = tonumber(redis.call('GET', KEYS[5]) or '0') or 0
if id > closed then redis.call('SET', KEYS[5], d(id)) end
redis.call('SET', KEYS[4], '1', 'EX', ttl)

local channel = P .. 'events'
redis.call('PUBLISH', channel,
  '{"event":"RoundEnded","round":' .. d(id) .. ',"data":' .. result .. '}')
-- Announce the next round only when it is the one running now (not while catching up).
local next_start, next_end = window_of(s, id + 1)
if round_at(s, now) == id + 1 and now >= next_start then
  redis.call('PUBLISH', channel, string.format(
    '{"event":"RoundStarted","round":%d,"data":{"round":%d,"startsAt":%d,"endsAt":%d,"serverTime":%d}}',
    id + 1, id + 1, next_start, next_end, now))
end
return { 'CLOSED', result }
