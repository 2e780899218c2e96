-- sessions.lua: the hub connections one account holds over the whole fleet, so that a newer
-- connection beyond CLICKRACE_MAX_CONNECTIONS_PER_PLAYER closes the account's oldest one.
-- KEYS[1] = P player:<name>:conns, a zset: member "<opened ms>:<instance>:<connection id>",
--           score = when its gateway last confirmed it (Redis TIME, ms).
-- KEYS[2] = P player:<name>:evicted, a set of the members evicted for the cap (kept stale_ms), so
--           a confirmation can tell "evicted" from "lost" (data loss, expiry, a late gateway).
-- Both keys expire when no gateway confirms anything for stale_ms.
-- ARGV[1] = op:
--   'open', P, instance, connection_id, cap, stale_ms -> {member, evicted}
--       Adds the new member (opened now) and applies the cap (below).
--   'touch', P, member, cap, stale_ms -> 1 confirmed | 0 evicted for the cap: close it (even if
--       the kick message was lost). A member that is missing without having been evicted (Redis
--       lost the key, or its gateway was late and it was dropped as stale) is added back with its
--       original opened time and the cap applied again: a connection is only ever closed for a
--       newer one, never because Redis forgot it.
--   'close', member -> 1 removed | 0 not there
-- The cap: while more than `cap` members remain, evict first those whose gateway has not
-- confirmed them for stale_ms/2 (it confirms every stale_ms/3: it died, or they are gone), then the
-- oldest-opened, never the member just added by 'open'; each evicted member is published on
-- P gateway:<instance>:kick (the channel of the gateway that holds it, which closes it).
-- Errors: "BADARG ...".
local key, evicted_key, op = KEYS[1], KEYS[2], ARGV[1]
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function posint(v, maxlen)
  return v ~= nil and string.match(v, '^[1-9][0-9]*$') ~= nil and #v <= maxlen
end
local function opened(m) return tonumber(string.match(m, '^(%d+):')) or 0 end

-- Adds `member` (confirmed now) and evicts beyond `cap`; `keep` is never evicted.
-- Returns how many were evicted and whether `member` itself was.
local function admit(P, member, keep, cap, stale, now)
  redis.call('ZADD', key, now, member)
  local n = redis.call('ZCARD', key)
  local evicted, self_evicted = 0, false
  if n > cap then
    local all = redis.call('ZRANGE', key, 0, -1, 'WITHSCORES')
    local list = {}
    for i = 1, #all, 2 do
      local m = all[i]
      list[#list + 1] = { m = m, late = tonumber(all[i + 1]) < now - stale / 2, opened = opened(m) }
    end
    table.sort(list, function(a, b)
      if a.late ~= b.late then return a.late end
      if a.opened ~= b.opened then return a.opened < b.opened end
      return a.m < b.m
    end)
    for _, e in ipairs(list) do
      if n - evicted <= cap then break end
      if e.m ~= keep then
        redis.call('ZREM', key, e.m)
        redis.call('SADD', evicted_key, e.m)
        evicted = evicted + 1
        if e.m == member then self_evicted = true end
        local inst = string.match(e.m, '^%d+:([^:]+):')
        if inst then redis.call('PUBLISH', P .. 'gateway:' .. inst .. ':kick', e.m) end
      end
    end
  end
  redis.call('PEXPIRE', key, stale)
  if redis.call('EXISTS', evicted_key) == 1 then redis.call('PEXPIRE', evicted_key, stale) end
  return evicted, self_evicted
end

if op == 'open' then
  local P, instance, conn, cap, stale = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
  if P == nil or instance == nil or not string.match(instance, '^[0-9a-z]+$') or #instance > 64 then
    return redis.error_reply('BADARG instance must be 1 to 64 lowercase letters or digits')
  end
  if conn == nil or conn == '' or #conn > 128 then
    return redis.error_reply('BADARG connection id must be 1 to 128 bytes')
  end
  if not posint(cap, 6) or not posint(stale, 10) then
    return redis.error_reply('BADARG cap and stale_ms must be positive integers')
  end
  local now = now_ms()
  local member = string.format('%d', now) .. ':' .. instance .. ':' .. conn
  local evicted = admit(P, member, member, tonumber(cap), tonumber(stale), now)
  return { member, evicted }
elseif op == 'touch' then
  local P, member, cap, stale = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
  if P == nil or member == nil or not string.match(member, '^%d+:[^:]+:.+$') or #member > 256 or
      not posint(cap, 6) or not posint(stale, 10) then
    return redis.error_reply('BADARG expected P, member, cap, stale_ms')
  end
  if redis.call('SISMEMBER', evicted_key, member) == 1 then return 0 end
  local now = now_ms()
  if redis.call('ZSCORE', key, member) then
    redis.call('ZADD', key, 'XX', now, member)
    redis.call('PEXPIRE', key, tonumber(stale))
    return 1
  end
  local _, self_evicted = admit(P, member, nil, tonumber(cap), tonumber(stale), now)
  if self_evicted then return 0 end
  return 1
elseif op == 'close' then
  if ARGV[2] == nil then return redis.error_reply('BADARG expected member') end
  return redis.call('ZREM', key, ARGV[2])
end
return redis.error_reply('BADARG op must be open, touch or close')
