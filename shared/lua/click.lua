-- click.lua: adds a batch of clicks to the round running now (by Redis TIME) in ONE score
-- partition (docs/bus.md "Partitions"), at most once per batch id, within each player's click
-- rate over the whole fleet. Every key it touches is declared and carries the partition's hash
-- tag (Pk = Keys::partition(k, S).prefix()), so on a Redis Cluster the call touches one slot and
-- Redis answers ASK/TRYAGAIN during a slot migration before the script runs.
-- KEYS[1] = Pk schedule          (the partition's copy of the schedule; S = 1: the schedule)
-- KEYS[2] = Pk sealed            (the highest round this partition has sealed)
-- KEYS[3] = Pk clickbatch:<batch id>
-- KEYS[4] = Pk round:<r>:scores,   KEYS[5] = Pk round:<r>:total
-- KEYS[6] = Pk round:<r+1>:scores, KEYS[7] = Pk round:<r+1>:total
-- KEYS[7+i] = Pk clickrate:<name_i>, one per pair, in ARGV order
-- ARGV = batch_id, rate, S, r, name1, n1, name2, n2, ...   (n: integer 1..1000000)
--   rate: clicks per second per player (0 = unlimited), with a burst of as many (DESIGN inv. 6).
--   S: the partition count the caller grouped the batch by; r: its guess of the running round.
-- Reply: {round, total_1, granted_1, total_2, granted_2, ...} in ARGV order: granted_i of the
-- player's n_i clicks were counted (the others exceeded the rate and were NOT stored) and
-- total_i is the player's score after them in this partition (0 when none was granted).
-- The reply is kept under KEYS[3] for BATCH_TTL_S (60 s); a batch id seen before gets that
-- stored reply back and changes nothing (whatever r or S it carries now), so a caller that lost
-- the answer (connection lost, timeout) can resend the batch safely. The key only has to outlive
-- the caller's resend window (the gateway caps CLICKRACE_CLICK_RETRY_MS at 30 s); at ~180 bytes
-- per key, a longer TTL costs Redis memory in proportion to the batch rate.
-- Rate: one token bucket per player, Pk clickrate:<name> = "<millitokens>,<ms>", holding `rate`
-- tokens at most and refilled at `rate` per second by Redis TIME. A player has one partition, so
-- the bucket is shared by every connection on every gateway: accepted clicks over any t seconds
-- stay <= rate*t + rate. If Redis's clock steps back, the bucket is re-anchored without a refill.
-- Errors (nothing written, nothing stored: a resend is evaluated afresh):
--   "NOROUND ..."        the partition has no schedule copy (no schedule yet, or the copy is lost)
--   "PARTITIONS <S'>"    the copy says the schedule has S' partitions, not S: regroup and resend
--   "STALEROUND <id>"    the round by TIME is <id>, neither r nor r+1: resend with r = <id>
--   "BADARG ...", "BADSCHEDULE ..." on bad input.
local BATCH_TTL_S = 60
local FIRST = 5  -- ARGV index of the first name
local batch, rate, parts, guess = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if guess == nil or #ARGV < FIRST + 1 or (#ARGV - FIRST) % 2 ~= 1 then
  return redis.error_reply('BADARG expected ARGV: batch id, rate, S, r, then name, count pairs')
end
local pairs_n = (#ARGV - FIRST + 1) / 2
if #KEYS ~= 7 + pairs_n then
  return redis.error_reply('BADARG expected KEYS: 7 then one clickrate key per pair')
end
if batch == '' or #batch > 128 then
  return redis.error_reply('BADARG batch id must be 1 to 128 bytes')
end
if not string.match(rate, '^[0-9]+$') or #rate > 7 then
  return redis.error_reply('BADARG rate must be an integer from 0 to 9999999')
end
if not string.match(parts, '^[1-9][0-9]*$') or #parts > 3 then
  return redis.error_reply('BADARG S must be an integer from 1 to 999')
end
if not string.match(guess, '^[0-9]+$') or #guess > 15 then
  return redis.error_reply('BADARG r must be a non-negative integer')
end
rate, parts, guess = tonumber(rate), tonumber(parts), tonumber(guess)
-- The keys must be the partition's layout (a caller mixing partitions would split a player's
-- counts): all of them share the prefix of KEYS[1].
local pk = string.sub(KEYS[1], 1, #KEYS[1] - #'schedule')
if pk .. 'schedule' ~= KEYS[1] or KEYS[2] ~= pk .. 'sealed' or
    KEYS[3] ~= pk .. 'clickbatch:' .. batch then
  return redis.error_reply('BADARG KEYS 1-3 must be Pk schedule, Pk sealed, Pk clickbatch:<id>')
end
local function round_key(id, suffix) return pk .. 'round:' .. string.format('%d', id) .. suffix end
if KEYS[4] ~= round_key(guess, ':scores') or KEYS[5] ~= round_key(guess, ':total') or
    KEYS[6] ~= round_key(guess + 1, ':scores') or KEYS[7] ~= round_key(guess + 1, ':total') then
  return redis.error_reply('BADARG KEYS 4-7 must be the scores and total of rounds r and r+1')
end
-- Validate everything first: a script that fails halfway keeps the writes it already made.
for i = FIRST, #ARGV, 2 do
  local name, n = ARGV[i], ARGV[i + 1]
  if name == '' or #name > 64 then
    return redis.error_reply('BADARG player name must be 1 to 64 bytes')
  end
  if not string.match(n, '^[1-9][0-9]*$') or #n > 7 or tonumber(n) > 1000000 then
    return redis.error_reply('BADARG click count must be an integer from 1 to 1000000')
  end
  if KEYS[7 + (i - FIRST) / 2 + 1] ~= pk .. 'clickrate:' .. name then
    return redis.error_reply('BADARG KEYS 8.. must be Pk clickrate:<name> per pair')
  end
end

-- #include round_math

local done_key = KEYS[3]
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

local s, err = read_schedule(KEYS[1], 'NOROUND no round is running yet', { 'partitions' })
if not s then return err end
local stored_parts = tonumber(s.extra[1]) or 1
if stored_parts ~= parts then
  return redis.error_reply(string.format('PARTITIONS %d', stored_parts))
end
local now = redis_now_ms()
local id = round_at(s, now)
-- Sealed-mark guard (docs/bus.md "Redis data loss and clock steps"): never into a round this
-- partition has already sealed for its close. Redis's clock stepped back (or a schedule was
-- re-created behind the mark): the click counts in the next open round instead.
local sealed = tonumber(redis.call('GET', KEYS[2]))
if sealed and id <= sealed then id = sealed + 1 end

local scores, total_key
if id == guess then
  scores, total_key = KEYS[4], KEYS[5]
elseif id == guess + 1 then
  scores, total_key = KEYS[6], KEYS[7]
else
  return redis.error_reply(string.format('STALEROUND %d', id))
end

-- How many of a player's n clicks its bucket allows now (and takes them).
local function grant(key, n)
  if rate == 0 then return n end
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
  local g = grant(KEYS[7 + (i - FIRST) / 2 + 1], tonumber(ARGV[i + 1]))
  local total = 0
  if g > 0 then
    total = tonumber(redis.call('ZINCRBY', scores, string.format('%d', g), ARGV[i]))
    sum = sum + g
  end
  out[#out + 1] = total
  out[#out + 1] = g
end
if sum > 0 then
  redis.call('INCRBY', total_key, string.format('%d', sum))
end

local stored = {}
for i = 1, #out do
  stored[i] = string.format('%d', out[i])
end
redis.call('SET', done_key, table.concat(stored, ','), 'EX', BATCH_TTL_S)
return out
