-- seal.lua: closes round r in ONE score partition (docs/bus.md "Partitions") and returns the
-- partition's closing summary; afterwards the partition refuses clicks for round r (click.lua
-- counts nothing into a round at or below `Pk sealed`). Every key is the partition's (one slot).
-- KEYS[1] = Pk schedule (the partition's copy), KEYS[2] = Pk sealed, KEYS[3] = Pk term,
-- KEYS[4] = Pk round:r:scores, KEYS[5] = Pk round:r:total, KEYS[6] = Pk round:r:summary.
-- ARGV = term (the leader's, from lease.lua), r, ttl_s (expiry of scores/total/summary),
--        max_listed (names kept of the players at the top score).
-- Reply: {"SEALED", summary_json} (sealed now) | {"DONE", summary_json} (sealed before: the
--        stored summary, unchanged) | {"EARLY", ms_left} (round r has not ended by this node's
--        TIME and the copy of the schedule).
-- summary_json = {"top","atTop","names":[...],"totalClicks","players"}: the top score (0: nobody
-- scored), how many players have it, the first max_listed of them in bytewise order, the
-- partition's total clicks and players.
-- Errors: "NOTLEADER term <t>" (a term below t, the highest this partition has seen),
--         "NOROUND ..." (no copy of the schedule here: the leader writes it and retries),
--         "BADSCHEDULE ...", "BADARG ...".
local function posint(v, maxlen)
  return v ~= nil and string.match(v, '^[1-9][0-9]*$') ~= nil and #v <= maxlen
end
if #KEYS ~= 6 then return redis.error_reply('BADARG expected 6 keys') end
if not posint(ARGV[1], 15) then return redis.error_reply('BADARG term must be a positive integer') end
if not posint(ARGV[2], 15) then return redis.error_reply('BADARG round must be a positive integer') end
if not posint(ARGV[3], 10) then return redis.error_reply('BADARG ttl_s must be a positive integer') end
if not posint(ARGV[4], 5) then
  return redis.error_reply('BADARG max_listed must be a positive integer')
end
local term, id, ttl, max_listed = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
local function d(x) return string.format('%d', x) end

-- #include round_math

-- 1. Fencing: a leader of an older term seals nothing (nor reads a summary back).
local seen = tonumber(redis.call('GET', KEYS[3]) or '0') or 0
if term < seen then return redis.error_reply('NOTLEADER term ' .. d(seen)) end
if term > seen then redis.call('SET', KEYS[3], d(term)) end

-- 2. Idempotent: a sealed round answers its stored summary, whatever the scores hold now.
local existing = redis.call('GET', KEYS[6])
if existing then return { 'DONE', existing } end

-- 3. Never seal a round that is still running here (this node's clock and schedule copy: the
-- ones click.lua attributes this partition's clicks with).
local s, err = read_schedule(KEYS[1], 'NOROUND no copy of the schedule in this partition')
if not s then return err end
local now = redis_now_ms()
local _, ended = window_of(s, id)
if now < ended then return { 'EARLY', ended - now } end

-- 4. The summary. Equal zset scores come back in bytewise member order (winners.hpp's order).
local players = redis.call('ZCARD', KEYS[4])
local total = tonumber(redis.call('GET', KEYS[5]) or '0') or 0
local names, count, top = {}, 0, 0
if players > 0 then
  local best = redis.call('ZREVRANGE', KEYS[4], 0, 0, 'WITHSCORES')
  if tonumber(best[2]) > 0 then
    top = tonumber(best[2])
    count = redis.call('ZCOUNT', KEYS[4], best[2], best[2])
    local listed = redis.call('ZRANGEBYSCORE', KEYS[4], best[2], best[2], 'LIMIT', 0, max_listed)
    for i, name in ipairs(listed) do names[i] = cjson.encode(name) end
  end
end
-- Built by hand: cjson would encode an empty names table as {} instead of [].
local summary = string.format('{"top":%d,"atTop":%d,"names":[%s],"totalClicks":%d,"players":%d}',
  top, count, table.concat(names, ','), total, players)

redis.call('SET', KEYS[6], summary, 'EX', ttl)
local sealed = tonumber(redis.call('GET', KEYS[2]) or '0') or 0
if id > sealed then redis.call('SET', KEYS[2], d(id)) end
redis.call('EXPIRE', KEYS[4], ttl)
redis.call('EXPIRE', KEYS[5], ttl)
return { 'SEALED', summary }
