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
-- KEYS[8..11] = Pk round:<r-1>:rate, Pk round:<r>:rate, Pk round:<r+1>:rate, Pk round:<r+2>:rate
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
-- Rate: one token bucket per player, "<millitokens>,<ms>", holding `rate` tokens at most and
-- refilled at `rate` per second by Redis TIME. A player has one partition, so the bucket is shared
-- by every connection on every gateway: accepted clicks over any t seconds stay <= rate*t + rate.
-- The buckets of the players who clicked in round id (the round the batch counts in: r or r+1)
-- live in ONE hash, Pk round:<id>:rate (field = name), so a call costs O(1) commands whatever its
-- player count: one HMGET and one HSET (chunks of CHUNK names); a player's first call of a round
-- adds one HMGET of round id-1's hash, a round's first call one of round id+1's and a PEXPIREAT.
-- A player absent from round id's hash continues from round id-1's (a boundary refills nothing);
-- absent from both, its last click came before round id-1 began, so its bucket is full (or, with
-- rounds shorter than the 1 s refill, holds what refilled since round id-1 began). Each hash
-- expires RATE_MARGIN_MS after round id+1 ends: old rounds' buckets vanish by themselves.
-- The hash's field "" (no player name is empty) says it exists ("1") or that round id+1's hash
-- exists too ("2", set when that one is created): Redis's clock stepped back over the boundary,
-- so round id+1's buckets are read as well (not covered: a step back over two boundaries). Where
-- a player has two buckets, the one allowing fewer tokens now wins; a bucket stamped in Redis's
-- future (a clock step back) is re-anchored at now without a refill. rate 0 touches no hash.
-- Errors (nothing written, nothing stored: a resend is evaluated afresh):
--   "NOROUND ..."        the partition has no schedule copy (no schedule yet, or the copy is lost)
--   "PARTITIONS <S'>"    the copy says the schedule has S' partitions, not S: regroup and resend
--   "STALEROUND <id>"    the round by TIME is <id>, neither r nor r+1: resend with r = <id>
--   "BADARG ...", "BADSCHEDULE ..." on bad input.
local BATCH_TTL_S = 60
local FIRST = 5  -- ARGV index of the first name
local RATE_MARGIN_MS = 5000  -- a round's bucket hash outlives the next round by this much
local CHUNK = 1000  -- fields per HMGET/HSET (Lua's unpack() has a stack limit)
local batch, rate, parts, guess = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if guess == nil or #ARGV < FIRST + 1 or (#ARGV - FIRST) % 2 ~= 1 then
  return redis.error_reply('BADARG expected ARGV: batch id, rate, S, r, then name, count pairs')
end
if #KEYS ~= 11 then
  return redis.error_reply('BADARG expected 11 KEYS')
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
for i = 8, 11 do
  if KEYS[i] ~= round_key(guess + i - 9, ':rate') then
    return redis.error_reply('BADARG KEYS 8-11 must be the rate hashes of rounds r-1 to r+2')
  end
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

-- The rate hashes of rounds id-1, id and id+1.
local rate_prev, rate_cur, rate_next = KEYS[8], KEYS[9], KEYS[10]
if id ~= guess then rate_prev, rate_cur, rate_next = KEYS[9], KEYS[10], KEYS[11] end

-- HMGET of "" and then `names` (in chunks of CHUNK fields: unpack() has a stack limit): v[1] is
-- the hash's marker (false: no hash), v[j + 1] the bucket of names[j].
local function read_buckets(key, names)
  local n = #names
  local v = redis.call('HMGET', key, '', unpack(names, 1, math.min(n, CHUNK - 1)))
  for i = CHUNK, n, CHUNK do
    local part = redis.call('HMGET', key, unpack(names, i, math.min(i + CHUNK - 1, n)))
    for j = 1, #part do v[#v + 1] = part[j] end
  end
  return v
end

-- How many millitokens a stored bucket holds now (nil: none or unreadable).
local cap = rate * 1000
local function level_now(v)
  if not v then return nil end
  local l, t = string.match(v, '^(%d+),(%d+)$')
  if not l then return nil end
  l, t = tonumber(l), tonumber(t)
  if now > t then l = l + (now - t) * rate end
  return math.min(cap, l)
end
local function lower(a, b)
  if a == nil or (b ~= nil and b < a) then return b end
  return a
end

-- Each pair's grant, in ARGV order (a name may repeat: its pairs share one bucket).
local grants = {}
if rate == 0 then
  for i = FIRST, #ARGV, 2 do grants[#grants + 1] = tonumber(ARGV[i + 1]) end
else
  local names, seen = {}, {}
  for i = FIRST, #ARGV, 2 do
    if not seen[ARGV[i]] then
      seen[ARGV[i]] = true
      names[#names + 1] = ARGV[i]
    end
  end
  local level, missing = {}, {}
  local cur = read_buckets(rate_cur, names)
  local mark = cur[1]
  for j = 1, #names do
    local name = names[j]
    level[name] = level_now(cur[j + 1])
    if level[name] == nil then missing[#missing + 1] = name end
  end
  -- Round id+1's hash exists ("2"; or perhaps, when round id's is new): the clock stepped back.
  local next_mark
  if mark ~= '1' then
    local nxt = read_buckets(rate_next, names)
    next_mark = nxt[1]
    for j = 1, #names do
      local name = names[j]
      level[name] = lower(level[name], level_now(nxt[j + 1]))
    end
  end
  local prev_mark
  if #missing > 0 then
    local prev = read_buckets(rate_prev, missing)
    prev_mark = prev[1]
    -- Absent from round id-1 too: the player's last click came before round id-1 began.
    local fresh = cap
    local prev_start = window_of(s, id - 1)
    if now >= prev_start and now - prev_start < 1000 then fresh = (now - prev_start) * rate end
    for j = 1, #missing do
      local name = missing[j]
      level[name] = lower(level[name], level_now(prev[j + 1]) or fresh)
    end
  end
  for i = FIRST, #ARGV, 2 do
    local name = ARGV[i]
    local g = math.min(tonumber(ARGV[i + 1]), math.floor(level[name] / 1000))
    level[name] = level[name] - g * 1000
    grants[#grants + 1] = g
  end
  local fields = {}
  if not mark then fields = { '', next_mark and '2' or '1' } end
  for j = 1, #names do
    local name = names[j]
    fields[#fields + 1] = name
    fields[#fields + 1] = string.format('%d,%d', level[name], now)
  end
  for i = 1, #fields, 2 * CHUNK do
    redis.call('HSET', rate_cur, unpack(fields, i, math.min(i + 2 * CHUNK - 1, #fields)))
  end
  if not mark then
    -- A new hash: it lives until round id+1 has ended (its players' buckets carry into it).
    local _, next_end = window_of(s, id + 1)
    redis.call('PEXPIREAT', rate_cur, string.format('%d', math.max(next_end, now) + RATE_MARGIN_MS))
    if prev_mark == '1' then redis.call('HSET', rate_prev, '', '2') end
  end
end

local out = { id }
local sum = 0
for k = 1, #grants do
  local g = grants[k]
  local name = ARGV[FIRST + 2 * (k - 1)]
  local total = 0
  if g > 0 then
    total = tonumber(redis.call('ZINCRBY', scores, string.format('%d', g), name))
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
